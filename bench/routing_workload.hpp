// The routing benchmark's workload, shared by core_bench (timed) and routing_loop (counted under
// callgrind/cachegrind): 10 workspaces, 1,000 agents of capacity 2, 10,000 escalations waiting, and
// the window of 100,000 kept closed escalations full, as in a long-running daemon.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "router/core/router.hpp"

namespace router::core::bench {

inline constexpr int workspace_count = 10;
inline constexpr int agents_per_workspace = 100;   // 1,000 agents
inline constexpr int queued_per_workspace = 1000;  // 10,000 queued escalations
inline const char* const languages[] = {"en", "vi", "fr", "de"};
inline const char* const skills[] = {"billing", "tech", "sales", "returns"};

inline RuleSet rules(std::uint32_t capacity) {
  RuleSet rules;
  QueueSpec billing;
  billing.name = "billing";
  billing.agents.text = R"("billing" in agent.skills and escalation.language in agent.languages)";
  billing.strategy = Strategy::least_loaded;
  QueueSpec general;
  general.name = "general";
  general.agents.text = "escalation.language in agent.languages";
  general.strategy = Strategy::longest_idle;
  rules.queues = {billing, general};
  RouteSpec vip;
  vip.name = "billing";
  vip.when.text = R"(escalation.priority >= 1 and "billing" in escalation.skills)";
  vip.queue = "billing";
  RouteSpec fallback;
  fallback.name = "default";
  fallback.when.text = "true";
  fallback.queue = "general";
  rules.routes = {vip, fallback};
  for (int w = 0; w < workspace_count; ++w) {
    for (int a = 0; a < agents_per_workspace; ++a) {
      AgentSpec agent;
      agent.id = "agent-" + std::to_string(w) + "-" + std::to_string(a);
      agent.workspaces = {"ws-" + std::to_string(w)};
      agent.skills = {skills[a % 4], skills[(a + 1) % 4]};
      agent.languages = {"en", languages[a % 4]};
      agent.capacity = capacity;
      agent.status = AgentStatus::available;
      rules.agents.push_back(agent);
    }
  }
  return rules;
}

inline InboundEvent arrival(std::uint64_t n) {
  InboundEvent e;
  e.type = InboundType::escalation_requested;
  e.workspace_id = "ws-" + std::to_string(n % workspace_count);
  e.conversation_id = "conv-" + std::to_string(n);
  e.contact = Contact{"cust-" + std::to_string(n % 50'000), "Nguyen Van A", {}};
  e.reason = "gate_failure";
  e.priority = static_cast<std::int32_t>(n % 3);
  e.language = languages[n % 4];
  e.skills = std::vector<std::string>{skills[n % 4]};
  e.text = "Can I check in before 3 PM tomorrow?";
  return e;
}

// Steady state: every agent is busy and 10,000 escalations wait. Each cycle, one assigned escalation
// is resolved (its agent pulls the best waiting one: a routing decision) and one new escalation
// arrives (routed to a queue, placement tried: a routing decision).
class SteadyState {
 public:
  SteadyState() : router_(RouterOptions{1}) {
    router_.load_rules(rules(2));
    const std::uint64_t total = workspace_count * agents_per_workspace * 2 + workspace_count * queued_per_workspace;
    while (next_ < total) note(router_.apply(Input{now_, arrival(next_++)}));
    // Warm up until the window of closed escalations kept for the API (RouterOptions::max_closed,
    // 100,000) is full: each resolve then also drops the oldest, and the heap no longer grows.
    for (std::uint32_t i = 0; i < RouterOptions{}.max_closed + 10'000; ++i) {
      Input input{0, arrival(next_++)};
      Outcome resolved, arrived;
      cycle(input, resolved, arrived);
    }
  }

  // One cycle: the resolve command is built here, as the API hands it over; the arrival is given.
  // The clock moves as it would at the target rate, 1 ms per 1,000 decisions, so time-driven work
  // (queue position updates, timers) costs per decision what it would at that rate.
  void cycle(Input& arrival_input, Outcome& resolved, Outcome& arrived) {
    if (++cycles_ % 500 == 0) now_ += 1;
    router_.apply(Input{now_, ResolveCommand{assigned_.front(), ""}}, resolved);
    assigned_.pop_front();
    arrival_input.at = now_;
    router_.apply(arrival_input, arrived);
    note(resolved);
    note(arrived);
  }

  // The next arrival's input (the caller may build a batch ahead, outside what it measures).
  Input next_arrival() { return Input{0, arrival(next_++)}; }

  const Router& router() const { return router_; }
  std::size_t assigned_count() const { return assigned_.size(); }

 private:
  void note(const Outcome& out) {
    for (const auto& e : out.events) {
      if (e.type == OutboundType::escalation_success) assigned_.push_back(e.escalation_id);
    }
  }

  Router router_;
  TimestampMs now_ = 1'773'309'900'000;
  std::uint64_t next_ = 0;
  std::uint64_t cycles_ = 0;
  std::deque<Id> assigned_;
};

}  // namespace router::core::bench
