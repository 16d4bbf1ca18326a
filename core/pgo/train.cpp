// The training run of the profile-guided build (ROUTER_PGO, core/CMakeLists.txt): a busy day of a
// contact centre, played through the core as the daemon drives it. Every input goes through the
// journal's codec first and every outbound event is written as the publishers write it; the API's
// views are read now and then, and the daemon restarts from a snapshot a third of the way through.
//
// It is deliberately shaped unlike bench/'s workload (other workspaces, agents, skills, languages,
// strategies, offers with accepts and rejects, agent and customer messages, timers firing), so that
// the profile describes a daemon's work and not the benchmark. Deterministic: the same steps give
// the same profile. Run without instrumentation it is also a test (CTest: core_training_day): the
// state's invariants are checked as it goes and the exit status says whether they held.
//
//   router_pgo_train [STEPS] [CHECK_EVERY]   (defaults: 300000 steps, invariants at the end only)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "router/core/events.hpp"
#include "router/core/input_codec.hpp"
#include "router/core/router.hpp"

namespace router::core {
namespace {

constexpr int workspace_total = 6;
constexpr int agents_per_workspace = 40;
const std::vector<std::string> day_skills = {"orders", "technical", "returns"};
const std::vector<std::string> day_languages = {"en", "de", "es", "ja"};

RuleSet day_rules() {
  RuleSet rules;
  rules.settings.queue_update_interval_ms = 15'000;
  rules.settings.disconnect_grace_ms = 30'000;
  QueueSpec orders;
  orders.name = "orders";
  orders.agents.text = R"("orders" in agent.skills and escalation.language in agent.languages)";
  orders.strategy = Strategy::round_robin;
  orders.offer_timeout_ms = 20'000;
  orders.max_missed_offers = 2;
  orders.steps.push_back(QueueStep{60'000, ExpressionSource{R"("orders" in agent.skills)", {}}});
  QueueSpec technical;
  technical.name = "technical";
  technical.agents.text = R"("technical" in agent.skills)";
  technical.strategy = Strategy::least_loaded;
  technical.sticky = true;
  technical.reply_timeout_ms = 300'000;
  QueueSpec urgent;
  urgent.name = "urgent";
  urgent.agents.text = "agent.load < 2 and escalation.language in agent.languages";
  urgent.strategy = Strategy::least_loaded;
  QueueSpec general;
  general.name = "general";
  general.agents.text = "escalation.language in agent.languages";
  general.strategy = Strategy::longest_idle;
  general.fail_after_ms = 300'000;
  rules.queues = {orders, technical, urgent, general};
  rules.routes = {RouteSpec{"urgent", {"escalation.priority >= 3", {}}, "urgent", {}},
                  RouteSpec{"orders", {R"("orders" in escalation.skills)", {}}, "orders", {}},
                  RouteSpec{"technical", {R"("technical" in escalation.skills and escalation.priority >= 1)", {}}, "technical", {}},
                  RouteSpec{"default", {"true", {}}, "general", {}}};
  for (int w = 0; w < workspace_total; ++w) {
    for (int a = 0; a < agents_per_workspace; ++a) {
      AgentSpec agent;
      agent.id = "w" + std::to_string(w) + "-agent-" + std::to_string(a);
      agent.name = "Agent " + std::to_string(w * 100 + a);
      agent.workspaces = {"shop-" + std::to_string(w)};
      if (a % 10 == 0) agent.workspaces.push_back("shop-" + std::to_string((w + 1) % workspace_total));
      agent.skills = {day_skills[static_cast<std::size_t>(a) % 3]};
      if (a % 4 == 0) agent.skills.push_back(day_skills[static_cast<std::size_t>(a + 1) % 3]);
      agent.languages = {"en"};
      if (a % 3 != 0) agent.languages.push_back(day_languages[static_cast<std::size_t>(a) % 4]);
      agent.capacity = 1 + static_cast<std::uint32_t>(a % 4);
      agent.status = a % 9 == 8 ? AgentStatus::away : AgentStatus::available;
      rules.agents.push_back(agent);
    }
  }
  return rules;
}

class Day {
 public:
  // restart_at: the step after which the daemon restarts from a snapshot.
  explicit Day(std::uint64_t restart_at) : router_(RouterOptions{7}), restart_at_(restart_at) {
    const auto errors = router_.load_rules(day_rules());
    if (!errors.empty()) {
      std::fprintf(stderr, "router_pgo_train: rules rejected: %s\n", errors.front().message.c_str());
      std::exit(2);
    }
  }

  // One step of the day: time passes (timers fire when due), then one input, picked at random.
  void step(std::uint64_t n) {
    now_ += static_cast<TimestampMs>(below(5));  // a busy daemon: hundreds of inputs a second
    if (const TimestampMs due = router_.next_deadline(); due >= 0 && due <= now_) {
      apply(TickCommand{});
    }
    const std::uint32_t roll = below(100);
    const bool backlog_full = router_.open_escalation_count() > 9'000;
    if (roll < (backlog_full ? 30u : 46u)) {
      apply(arrival(n));
    } else if (roll < 70 && !assigned_.empty()) {
      const auto [id, agent] = take(assigned_);
      if (below(10) < 7) {
        apply(ResolveCommand{id, below(4) == 0 ? "refund issued" : ""});
      } else {
        apply(SendCommand{id, agent, "Thanks for waiting, I am looking at your order now."});
        assigned_.emplace_back(id, agent);
      }
    } else if (roll < 82 && !offered_.empty()) {
      const auto [id, agent] = take(offered_);
      if (below(100) < 85) {
        apply(AcceptCommand{id, agent});
      } else {
        apply(RejectCommand{id, agent});
      }
    } else if (roll < 88 && !open_conversations_.empty()) {
      InboundEvent message = on_some_conversation(InboundType::message);
      message.text = "Any news? My order number is 4711-" + std::to_string(n % 997);
      apply(message);
    } else if (roll < 91) {
      const int w = static_cast<int>(below(workspace_total));
      const int a = static_cast<int>(below(agents_per_workspace));
      const std::string agent = "w" + std::to_string(w) + "-agent-" + std::to_string(a);
      if (below(6) == 0) {
        InboundEvent disconnect;
        disconnect.type = InboundType::agent_disconnect;
        disconnect.agent_id = agent;
        apply(disconnect);
      } else {
        apply(SetAgentStatusCommand{agent, below(3) == 0 ? AgentStatus::away : AgentStatus::available});
      }
    } else if (roll < 92 && !open_conversations_.empty()) {
      apply(on_some_conversation(InboundType::conversation_closed));
    } else {
      apply(TickCommand{});
    }
    if (n % 50'000 == 25'000) read_the_api();
    if (n == restart_at_) restart();
  }

  std::string check() const { return router_.check_invariants(); }
  std::size_t published_bytes() const { return published_; }

 private:
  std::uint32_t below(std::uint32_t bound) { return static_cast<std::uint32_t>(rng_() % bound); }

  template <typename List>
  typename List::value_type take(List& list) {
    auto front = std::move(list.front());
    list.pop_front();
    return front;
  }

  // An event of `type` on one of the recent conversations (some of them closed since).
  InboundEvent on_some_conversation(InboundType type) {
    InboundEvent e;
    e.type = type;
    const auto& [workspace, conversation] = open_conversations_[below(static_cast<std::uint32_t>(open_conversations_.size()))];
    e.workspace_id = workspace;
    e.conversation_id = conversation;
    return e;
  }

  InboundEvent arrival(std::uint64_t n) {
    InboundEvent e;
    e.type = InboundType::escalation_requested;
    e.event_id = "evt-" + std::to_string(n);
    const std::uint32_t w = below(workspace_total);
    e.workspace_id = "shop-" + std::to_string(w);
    // Now and then a conversation escalates again while open: an update, not a second escalation.
    const bool again = below(20) == 0 && !open_conversations_.empty();
    e.conversation_id = again ? open_conversations_.back().second : "chat-" + std::to_string(n);
    if (again) e.workspace_id = open_conversations_.back().first;
    e.source = below(2) == 0 ? "widget" : "conduit";
    e.contact = Contact{"customer-" + std::to_string(below(30'000)), "Customer " + std::to_string(n % 1000), {}};
    e.reason = below(3) == 0 ? "handoff_requested" : "low_confidence";
    e.priority = static_cast<std::int32_t>(below(10) == 0 ? 3 : below(3));
    e.language = day_languages[below(4)];
    e.skills = std::vector<std::string>{day_skills[below(3)]};
    e.text = "I would like to speak to a person about my order, please.";
    if (!again) open_conversations_.emplace_back(e.workspace_id, e.conversation_id);
    if (open_conversations_.size() > 4'000) open_conversations_.pop_front();
    return e;
  }

  // As the daemon does: the input through the journal's codec, the events as the publishers write them.
  void apply(Command command) {
    const std::string record = encode_input(Input{now_, std::move(command)});
    auto input = decode_input(record);
    if (!input) {
      std::fprintf(stderr, "router_pgo_train: the codec refused its own record: %s\n", input.error().message.c_str());
      std::exit(2);
    }
    router_.apply(*input, outcome_);
    for (const OutboundEvent& e : outcome_.events) {
      published_ += outbound_event_json(e, e.decision.has_value() && below(8) == 0).size();
      if (e.type == OutboundType::escalation_success) assigned_.emplace_back(e.escalation_id.str(), e.agent_id.str());
      if (e.type == OutboundType::escalation_offered) offered_.emplace_back(e.escalation_id.str(), e.agent_id.str());
    }
  }

  void read_the_api() {
    EscalationFilter filter;
    filter.limit = 50;
    for (const Escalation* e : router_.list_escalations(filter).items) published_ += router_.escalation_json(*e, true).size();
    published_ += router_.queue_stats().size();
    for (const Agent* a : router_.agents()) published_ += router_.agent_json(*a).size();
  }

  // A restart from a snapshot, as after a deploy.
  void restart() {
    const std::string bytes = router_.snapshot();
    auto restored = Router::restore(bytes);
    if (!restored) {
      std::fprintf(stderr, "router_pgo_train: restore failed: %s\n", restored.error().message.c_str());
      std::exit(2);
    }
    if (restored->snapshot() != bytes) {
      std::fprintf(stderr, "router_pgo_train: the restored state differs from the snapshot's\n");
      std::exit(2);
    }
    router_ = std::move(restored).value();
  }

  std::mt19937_64 rng_{20261122};
  Router router_;
  std::uint64_t restart_at_;
  Outcome outcome_;
  TimestampMs now_ = 1'780'000'000'000;
  std::deque<std::pair<std::string, std::string>> assigned_;  // escalation, agent
  std::deque<std::pair<std::string, std::string>> offered_;
  std::deque<std::pair<std::string, std::string>> open_conversations_;  // workspace, conversation
  std::size_t published_ = 0;
};

}  // namespace
}  // namespace router::core

int main(int argc, char** argv) {
  const std::uint64_t steps = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 300'000;
  const std::uint64_t check_every = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  router::core::Day day(steps / 3);  // a restart a third of the way through
  for (std::uint64_t n = 1; n <= steps; ++n) {
    day.step(n);
    if ((check_every != 0 && n % check_every == 0) || n == steps) {
      if (const std::string broken = day.check(); !broken.empty()) {
        std::fprintf(stderr, "router_pgo_train: invariant broken after step %llu: %s\n",
                     static_cast<unsigned long long>(n), broken.c_str());
        return 1;
      }
    }
  }
  std::printf("router_pgo_train: %llu steps, %zu bytes published\n", static_cast<unsigned long long>(steps),
              day.published_bytes());
  return 0;
}
