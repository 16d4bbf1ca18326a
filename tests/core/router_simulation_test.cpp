// A seeded randomized simulation of the routing core: thousands of random events (arrivals, agents
// joining, leaving, accepting, rejecting, disconnecting, time passing, reloads), checking after every
// step that the invariants hold, that hand-outs respect priority-then-FIFO order, that a snapshot
// restores to an identical state, and that two runs with the same seed give identical outputs.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "router/core/expr.hpp"
#include "router/core/input_codec.hpp"
#include "router/core/router.hpp"

namespace router::core {
namespace {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
  bool chance(std::uint32_t percent) { return below(100) < percent; }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[below(static_cast<std::uint32_t>(v.size()))]; }

 private:
  std::uint64_t state_;
};

const std::vector<std::string> workspaces = {"ws-a", "ws-b"};
const std::vector<std::string> skills = {"billing", "tech", "sales"};
const std::vector<std::string> languages = {"en", "vi", "fr"};

RuleSet rules_variant(int variant) {
  RuleSet rules;
  rules.settings.disconnect_grace_ms = 20'000;
  rules.settings.queue_update_interval_ms = 5'000;
  auto q = [](std::string name, std::string agents, Strategy strategy) {
    QueueSpec spec;
    spec.name = std::move(name);
    spec.agents.text = std::move(agents);
    spec.strategy = strategy;
    return spec;
  };
  QueueSpec billing = q("billing", R"("billing" in agent.skills and escalation.language in agent.languages)", Strategy::least_loaded);
  billing.offer_timeout_ms = variant == 0 ? 15'000 : 0;
  billing.sticky = true;
  billing.max_missed_offers = 2;
  billing.steps.push_back(QueueStep{30'000, ExpressionSource{R"("billing" in agent.skills)", {}}});
  billing.steps.push_back(QueueStep{90'000, ExpressionSource{"true", {}}});
  QueueSpec tech = q("tech", R"("tech" in agent.skills)", variant == 0 ? Strategy::round_robin : Strategy::longest_idle);
  tech.reply_timeout_ms = 60'000;
  tech.fail_after_ms = 240'000;
  QueueSpec general = q("general", variant == 0 ? "true" : "agent.load == 0", Strategy::longest_idle);
  QueueSpec manual = q("manual", "true", Strategy::manual);
  rules.queues = {billing, tech, general, manual};
  auto r = [](std::string name, std::string when, std::string queue) {
    RouteSpec route;
    route.name = std::move(name);
    route.when.text = std::move(when);
    route.queue = std::move(queue);
    return route;
  };
  rules.routes = {r("vip", "escalation.priority >= 3", variant == 0 ? "general" : "billing"),
                  r("billing", R"("billing" in escalation.skills)", "billing"),
                  r("tech", R"("tech" in escalation.skills)", "tech"),
                  r("manual", R"(escalation.reason == "legal")", "manual"),
                  r("default", "true", "general")};
  for (int i = 0; i < 8; ++i) {
    AgentSpec a;
    a.id = "agent-" + std::to_string(i);
    a.name = "Agent " + std::to_string(i);
    a.workspaces = i % 3 == 0 ? workspaces : std::vector<std::string>{workspaces[static_cast<std::size_t>(i) % 2]};
    a.skills = {skills[static_cast<std::size_t>(i) % 3]};
    if (i % 2 == 0) a.skills.push_back(skills[static_cast<std::size_t>(i + 1) % 3]);
    a.languages = {languages[static_cast<std::size_t>(i) % 3], "en"};
    a.capacity = 1 + static_cast<std::uint32_t>(i % 3);
    a.status = i % 4 == 3 ? AgentStatus::away : AgentStatus::available;
    rules.agents.push_back(a);
  }
  return rules;
}

struct QueuedKey {
  int line_class;
  std::int32_t neg_priority;
  TimestampMs queued_at;
  std::uint64_t seq;
  bool operator<(const QueuedKey& o) const {
    return std::tie(line_class, neg_priority, queued_at, seq) < std::tie(o.line_class, o.neg_priority, o.queued_at, o.seq);
  }
};

QueuedKey key_of(const Escalation& e) { return {e.front_of_line ? 0 : 1, -e.priority, e.queued_at, e.queue_seq}; }

class Simulation {
 public:
  explicit Simulation(std::uint64_t seed) : rng_(seed), router_(RouterOptions{seed}) {
    rules_ = rules_variant(0);
    EXPECT_TRUE(router_.load_rules(rules_).empty());
  }

  // Picks the next random input.
  Command next_command() {
    const std::uint32_t roll = rng_.below(100);
    if (roll < 28) {
      InboundEvent e;
      e.type = InboundType::escalation_requested;
      e.workspace_id = rng_.pick(workspaces);
      e.conversation_id = "conv-" + std::to_string(rng_.below(40));
      e.priority = static_cast<std::int32_t>(rng_.below(5));
      e.skills = std::vector<std::string>{rng_.pick(skills)};
      e.language = rng_.pick(languages);
      e.contact = Contact{"cust-" + std::to_string(rng_.below(15)), "Customer", {}};
      e.reason = rng_.chance(5) ? "legal" : "gate_failure";
      if (rng_.chance(10)) e.event_id = "evt-" + std::to_string(rng_.below(50));
      return e;
    }
    const std::vector<const Escalation*> open = open_escalations();
    auto some_escalation = [&]() -> std::string {
      if (open.empty() || rng_.chance(5)) return "01UNKNOWN0000000000000000X";
      return rng_.pick(open)->id;
    };
    auto some_agent = [&]() { return "agent-" + std::to_string(rng_.below(8)); };
    auto holder_or_random = [&](const std::string& id) {
      const Escalation* e = router_.find_escalation(id);
      if (e != nullptr && e->assignee != no_index && rng_.chance(80)) return router_.agent_at(e->assignee)->id;
      return some_agent();
    };
    if (roll < 36) return TickCommand{};
    if (roll < 42) {
      const std::string id = some_escalation();
      return AcceptCommand{id, holder_or_random(id)};
    }
    if (roll < 46) {
      const std::string id = some_escalation();
      return RejectCommand{id, holder_or_random(id)};
    }
    if (roll < 50) return AssignCommand{some_escalation(), some_agent()};
    if (roll < 52) return UnassignCommand{some_escalation()};
    if (roll < 55) return TakeoverCommand{some_escalation(), some_agent()};
    if (roll < 59) {
      const std::string id = some_escalation();
      return SendCommand{id, holder_or_random(id), "reply"};
    }
    if (roll < 62) return ReleaseCommand{some_escalation()};
    if (roll < 68) return ResolveCommand{some_escalation(), "done"};
    if (roll < 78) {
      static const std::vector<AgentStatus> statuses = {AgentStatus::available, AgentStatus::available, AgentStatus::away,
                                                       AgentStatus::offline};
      return SetAgentStatusCommand{some_agent(), rng_.pick(statuses)};
    }
    if (roll < 81) {
      InboundEvent e;
      e.type = InboundType::agent_disconnect;
      e.agent_id = some_agent();
      return e;
    }
    if (roll < 86) {
      InboundEvent e;
      e.type = rng_.chance(50) ? InboundType::message : (rng_.chance(50) ? InboundType::conversation_closed : InboundType::escalation_failed);
      e.workspace_id = rng_.pick(workspaces);
      e.conversation_id = "conv-" + std::to_string(rng_.below(40));
      e.text = "hello";
      if (rng_.chance(30)) e.agent_id = some_agent();
      return e;
    }
    if (roll < 89) {
      // An agent changes: skills, workspaces, capacity (never below its load).
      const std::string id = some_agent();
      const Agent* current = router_.find_agent(id);
      AgentSpec a;
      a.id = id;
      a.name = current->name;
      a.workspaces = rng_.chance(70) ? workspaces : std::vector<std::string>{rng_.pick(workspaces)};
      a.skills = {rng_.pick(skills), rng_.pick(skills)};
      a.languages = {rng_.pick(languages), "en"};
      a.capacity = std::max<std::uint32_t>(current->load, 1 + rng_.below(3));
      a.status = current->status;
      return UpsertAgentCommand{a};
    }
    if (roll < 91) {
      variant_ = 1 - variant_;
      RuleSet next = rules_variant(variant_);
      next.agents = rules_.agents;
      return ReloadRulesCommand{next};
    }
    return TickCommand{};
  }

  TimestampMs next_time() {
    const std::uint32_t roll = rng_.below(10);
    now_ += roll < 6 ? rng_.below(2'000) : (roll < 9 ? rng_.below(20'000) : rng_.below(120'000));
    return now_;
  }

  std::vector<const Escalation*> open_escalations() const {
    EscalationFilter f;
    f.statuses = std::vector<EscalationStatus>{EscalationStatus::queued, EscalationStatus::offered,
                                              EscalationStatus::assigned, EscalationStatus::taken_over};
    f.limit = 200;
    return router_.list_escalations(f).items;
  }

  // Priority-then-FIFO: an escalation handed out by routing had no better waiting escalation that
  // the same agent was eligible for at that moment.
  void check_fifo(const Outcome& outcome, const std::map<std::string, QueuedKey>& queued_before) {
    for (const OutboundEvent& event : outcome.events) {
      if ((event.type != OutboundType::escalation_offered && event.type != OutboundType::escalation_success) ||
          !event.decision || event.decision->reason() == "assigned by an operator" || event.decision->action == "accepted") {
        continue;
      }
      const Escalation* handed = router_.find_escalation(event.escalation_id);
      const Agent* agent = router_.find_agent(event.agent_id);
      ASSERT_NE(handed, nullptr);
      ASSERT_NE(agent, nullptr);
      const QueuedKey handed_key = key_of(*handed);
      for (const Escalation* other : open_escalations()) {
        if (other->status != EscalationStatus::queued || other->id == handed->id) continue;
        auto before = queued_before.find(other->id);
        if (before == queued_before.end() || before->second.seq != other->queue_seq) continue;
        if (!(key_of(*other) < handed_key) || !agent->member_of(other->workspace)) continue;
        const auto index = static_cast<AgentIndex>(std::stoi(agent->id.substr(6)));  // agent-N is index N
        if (std::find(other->excluded.begin(), other->excluded.end(), index) != other->excluded.end()) {
          continue;
        }
        const std::string queue_name(router_.symbol_name(other->queue));
        const QueueSpec* spec = nullptr;
        for (const QueueSpec& q : router_.rules().queues) {
          if (q.name == queue_name) spec = &q;
        }
        if (spec == nullptr || spec->strategy == Strategy::manual) continue;
        // The agents rule in force for `other` at the event's time.
        std::string rule = spec->agents.text;
        for (const QueueStep& step : spec->steps) {
          if (event.at - other->queued_at >= step.after_ms) rule = step.agents.text;
        }
        if (rule.find("agent.load") != std::string::npos) continue;  // load moved within the step
        SymbolTable names = router_.symbols();  // a copy: the same ids for the same names
        auto compiled = Expression::compile(rule, ExpressionScope::escalation_and_agent, names);
        ASSERT_TRUE(compiled.ok());
        EvalContext ctx{other, agent, event.at, &names};
        if (compiled->evaluate(ctx)) {
          ADD_FAILURE() << "step " << step_ << ": " << handed->id << " (priority " << handed->priority << ") went to "
                        << agent->id << " while " << other->id << " (priority " << other->priority
                        << ", queued earlier) waited and was eligible";
        }
      }
    }
  }

  void step(Router& router, const Command& command, TimestampMs at, std::string& transcript) {
    if (&router == &router_) journal_.push_back(encode_input(Input{at, command}));
    const Outcome outcome = router.apply(Input{at, command});
    for (const OutboundEvent& e : outcome.events) {
      transcript += outbound_event_json(e, true);
      transcript += '\n';
    }
    if (outcome.error) transcript += "error " + outcome.error->message + "\n";
    last_ = outcome;
  }

  std::string run(int steps, bool check_everything) {
    std::string transcript;
    std::unique_ptr<Router> twin;
    std::string twin_transcript;
    std::size_t twin_from = 0;
    for (step_ = 0; step_ < steps; ++step_) {
      const Command command = next_command();
      const TimestampMs at = next_time();
      std::map<std::string, QueuedKey> queued_before;
      if (check_everything) {
        for (const Escalation* e : open_escalations()) {
          if (e->status == EscalationStatus::queued) queued_before.emplace(e->id, key_of(*e));
        }
      }
      step(router_, command, at, transcript);
      if (twin) {
        step(*twin, command, at, twin_transcript);
      }
      if (!check_everything) continue;
      const std::string broken = router_.check_invariants();
      if (!broken.empty()) {
        ADD_FAILURE() << "invariant broken after step " << step_ << ": " << broken;
        return transcript;
      }
      check_fifo(last_, queued_before);
      if (step_ % 250 == 125) {
        // snapshot -> restore gives an identical state, and the copy behaves identically from here.
        const std::string bytes = router_.snapshot();
        auto restored = Router::restore(bytes);
        if (!restored.ok()) {
          ADD_FAILURE() << "restore failed: " << restored.error().message;
          return transcript;
        }
        if (restored->snapshot() != bytes || !restored->check_invariants().empty()) {
          ADD_FAILURE() << "restored state differs at step " << step_;
          return transcript;
        }
        if (twin) {
          EXPECT_EQ(twin_transcript, transcript.substr(twin_from)) << "restored copy diverged";
        }
        twin = std::make_unique<Router>(std::move(restored).value());
        twin_transcript.clear();
        twin_from = transcript.size();
      }
    }
    if (twin) {
      EXPECT_EQ(twin_transcript, transcript.substr(twin_from)) << "restored copy diverged";
      EXPECT_EQ(twin->snapshot(), router_.snapshot());
    }
    return transcript;
  }

  Router& router() { return router_; }
  const std::vector<std::string>& journal() const { return journal_; }
  const RuleSet& initial_rules() const { return initial_rules_; }

 private:
  Rng rng_;
  Router router_;
  std::vector<std::string> journal_;
  RuleSet initial_rules_ = rules_variant(0);
  RuleSet rules_;
  int variant_ = 0;
  TimestampMs now_ = 1'773'309'900'000;
  int step_ = 0;
  Outcome last_;
};

class RouterSimulation : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(RouterSimulation, InvariantsHoldAfterEveryStep) {
  Simulation sim(GetParam());
  const std::string transcript = sim.run(4000, true);
  EXPECT_GT(transcript.size(), 10'000u);  // it did something
  EXPECT_NE(transcript.find("\"escalationSuccess\""), std::string::npos);
  EXPECT_NE(transcript.find("\"escalationOffered\""), std::string::npos);
  EXPECT_NE(transcript.find("\"escalationQueueUpdate\""), std::string::npos);
  EXPECT_NE(transcript.find("\"escalationUnassigned\""), std::string::npos);
}

TEST_P(RouterSimulation, TwoRunsWithTheSameSeedGiveIdenticalOutputs) {
  Simulation first(GetParam());
  Simulation second(GetParam());
  const std::string a = first.run(3000, false);
  const std::string b = second.run(3000, false);
  EXPECT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b);
  EXPECT_EQ(first.router().snapshot(), second.router().snapshot());
}

TEST_P(RouterSimulation, ReplayingTheEncodedInputsRebuildsTheSameState) {
  Simulation sim(GetParam());
  const std::string transcript = sim.run(2000, false);
  Router replayed(RouterOptions{GetParam()});
  ASSERT_TRUE(replayed.load_rules(sim.initial_rules()).empty());
  std::string replay_transcript;
  for (const std::string& record : sim.journal()) {
    auto input = decode_input(record);
    ASSERT_TRUE(input.ok()) << input.error().message;
    ASSERT_EQ(encode_input(*input), record);  // the codec round-trips exactly
    const Outcome outcome = replayed.apply(*input);
    for (const OutboundEvent& e : outcome.events) {
      replay_transcript += outbound_event_json(e, true);
      replay_transcript += '\n';
    }
    if (outcome.error) replay_transcript += "error " + outcome.error->message + "\n";
  }
  EXPECT_TRUE(replay_transcript == transcript);
  EXPECT_EQ(replayed.snapshot(), sim.router().snapshot());
  // Replay without building events (what the daemon does at start) reaches the same state.
  Router quiet(RouterOptions{GetParam()});
  ASSERT_TRUE(quiet.load_rules(sim.initial_rules()).empty());
  for (const std::string& record : sim.journal()) quiet.apply_quietly(*decode_input(record));
  EXPECT_EQ(quiet.snapshot(), sim.router().snapshot());
}

TEST(InputCodec, RejectsTruncatedAndUnknownRecords) {
  const std::string record = encode_input(Input{42, SendCommand{"01E", "a-1", "hello"}});
  EXPECT_TRUE(decode_input(record).ok());
  EXPECT_FALSE(decode_input(record.substr(0, record.size() - 1)).ok());
  EXPECT_FALSE(decode_input(record + "x").ok());
  std::string unknown = record;
  unknown[9] = 99;  // command kind
  EXPECT_FALSE(decode_input(unknown).ok());
  EXPECT_FALSE(decode_input("").ok());
}

INSTANTIATE_TEST_SUITE_P(Seeds, RouterSimulation, ::testing::Values(1, 2, 3, 42, 1234567));

}  // namespace
}  // namespace router::core
