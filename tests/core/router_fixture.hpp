// Test support for the routing core: a Router with rules, and terse helpers to drive it.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router/core/router.hpp"

namespace router::core::testing {

inline AgentSpec agent(std::string id, std::vector<std::string> skills = {}, std::vector<std::string> languages = {"en"},
                       std::uint32_t capacity = 1, std::vector<std::string> workspaces = {"ws-1"}) {
  AgentSpec a;
  a.id = id;
  a.name = "Agent " + id;
  a.workspaces = std::move(workspaces);
  a.skills = std::move(skills);
  a.languages = std::move(languages);
  a.capacity = capacity;
  a.status = AgentStatus::available;
  return a;
}

inline QueueSpec queue(std::string name, std::string agents_rule = "true", Strategy strategy = Strategy::least_loaded) {
  QueueSpec q;
  q.name = std::move(name);
  q.agents.text = std::move(agents_rule);
  q.strategy = strategy;
  return q;
}

inline RouteSpec route(std::string name, std::string when, std::string queue_name) {
  RouteSpec r;
  r.name = std::move(name);
  r.when.text = std::move(when);
  r.queue = std::move(queue_name);
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  void load(RuleSet rules) {
    auto errors = router.load_rules(rules);
    ASSERT_TRUE(errors.empty()) << errors.front().message;
  }

  // One queue "general" for everything, with the given agents.
  void load_simple(std::vector<AgentSpec> agents, QueueSpec q = queue("general")) {
    RuleSet rules;
    rules.agents = std::move(agents);
    q.name = "general";
    rules.queues.push_back(std::move(q));
    rules.routes.push_back(route("default", "true", "general"));
    load(std::move(rules));
  }

  Outcome apply(Command command, TimestampMs at = -1) {
    if (at >= 0) now = at;
    last = router.apply(Input{now, std::move(command)});
    return last;
  }

  Outcome advance(DurationMs by) { return apply(TickCommand{}, now + by); }

  Outcome request(std::string conversation, std::int32_t priority = 0, std::vector<std::string> skills = {},
                  std::string language = "en", std::string workspace = "ws-1", std::string contact = "") {
    InboundEvent e;
    e.type = InboundType::escalation_requested;
    e.workspace_id = std::move(workspace);
    e.conversation_id = std::move(conversation);
    e.priority = priority;
    e.skills = std::move(skills);
    e.language = std::move(language);
    e.source = "test";
    if (!contact.empty()) {
      e.contact = Contact{contact, "Customer " + contact, {}};
    }
    return apply(std::move(e));
  }

  Outcome inbound(InboundType type, std::string conversation, std::string agent_id = "", std::string text = "") {
    InboundEvent e;
    e.type = type;
    e.workspace_id = "ws-1";
    e.conversation_id = std::move(conversation);
    e.agent_id = std::move(agent_id);
    e.text = std::move(text);
    return apply(std::move(e));
  }

  Outcome agent_status(std::string id, AgentStatus status) { return apply(SetAgentStatusCommand{std::move(id), status}); }

  const Escalation& esc(const std::string& conversation, const std::string& workspace = "ws-1") {
    const Escalation* e = router.find_open_escalation(workspace, conversation);
    if (e == nullptr) {
      ADD_FAILURE() << "no open escalation for " << conversation;
      static Escalation none;
      return none;
    }
    return *e;
  }

  std::string holder(const std::string& conversation) {
    const Escalation& e = esc(conversation);
    return e.assignee == no_index ? "" : router.agent_at(e.assignee)->id;
  }

  static std::vector<std::string> types(const Outcome& outcome) {
    std::vector<std::string> out;
    for (const auto& e : outcome.events) out.push_back(outbound_type_name(e.type));
    return out;
  }

  static const OutboundEvent* find(const Outcome& outcome, OutboundType type) {
    for (const auto& e : outcome.events) {
      if (e.type == type) return &e;
    }
    return nullptr;
  }

  Router router{RouterOptions{42}};
  TimestampMs now = 1'773'309'900'000;  // 2026-03-12T10:05:00Z
  Outcome last;
};

}  // namespace router::core::testing
