// The routing core: the whole domain state and the one function that changes it, apply(Input).
// Pure and deterministic: no I/O, no clock, no threads. The engine owns one Router and calls it
// from a single strand; the journal records its inputs; replaying them rebuilds the same state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/core/events.hpp"
#include "router/core/model.hpp"
#include "router/core/rules.hpp"

namespace router::core {

// A rule that failed to compile, with its place in the configuration file.
struct RuleError {
  SourcePos pos;
  std::string message;
};

// Compiles every expression of `rules`; returns all errors, positioned in the file (empty: valid).
std::vector<RuleError> validate_rules(const RuleSet& rules);

struct RouterOptions {
  std::uint64_t id_seed = 0;               // seeds ULID randomness (deterministic)
  std::uint32_t max_trail = 32;            // routing decisions kept per escalation
  std::uint32_t max_closed = 100'000;      // closed escalations kept for the API, oldest dropped first
  DurationMs dedupe_window_ms = 24 * 3'600'000;
  std::uint32_t max_dedupe_entries = 1'000'000;
};

struct EscalationFilter {
  std::optional<std::vector<EscalationStatus>> statuses;  // "open" expands to the four open states
  std::string workspace_id;
  std::string conversation_id;
  std::string agent_id;
  std::string queue;
  std::vector<std::string> allowed_workspaces;  // empty: all (token restriction)
  std::uint32_t limit = 20;
  std::string cursor;  // exclusive: list ids older than this one
};

struct EscalationPage {
  std::vector<const Escalation*> items;
  std::string next_cursor;  // empty: no more
};

struct QueueStats {
  std::string workspace_id;
  std::string name;  // "" for escalations no route matched
  std::uint32_t waiting = 0;
  std::uint32_t offered = 0;
  std::int64_t longest_wait_seconds = 0;
  std::uint32_t eligible_agents_available = 0;
  std::int32_t estimated_wait_minutes = 0;  // for a newcomer at the back of the queue
};

class Router {
 public:
  explicit Router(RouterOptions options = {});
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Installs the first rule set (agents from the config included). Errors as validate_rules.
  std::vector<RuleError> load_rules(const RuleSet& rules);

  Outcome apply(const Input& input);
  // The same, into `into`: it is cleared first and its events' capacity is reused (a caller that
  // applies input after input into one outcome allocates nothing for them).
  void apply(const Input& input, Outcome& into);
  // The same state change as apply(), without building outbound events (journal replay: they
  // were handed out before the restart). Sequence numbers and ids advance exactly as in apply().
  void apply_quietly(const Input& input);

  // Reads, for the API. Pointers stay valid until the next apply().
  const Escalation* find_escalation(std::string_view id) const;
  const Escalation* find_open_escalation(std::string_view workspace_id, std::string_view conversation_id) const;
  const Agent* find_agent(std::string_view id) const;
  std::vector<const Agent*> agents() const;  // in id order
  const Agent* agent_at(AgentIndex index) const;  // an escalation's assignee / takenOverBy
  EscalationPage list_escalations(const EscalationFilter& filter) const;
  std::vector<QueueStats> queue_stats() const;
  std::int32_t queue_position(const Escalation& escalation) const;  // 1-based while queued, else -1
  std::vector<const Escalation*> previous_escalations(const Escalation& escalation, std::size_t limit = 10) const;

  // API views: {"id": ..., ...} as SPEC §4.1 names the fields; detail adds messages, trail, previous.
  std::string escalation_json(const Escalation& escalation, bool detail) const;
  // visible_workspaces: when set, only those of the agent's workspaces are shown (token restriction).
  std::string agent_json(const Agent& agent, const std::vector<std::string>* visible_workspaces = nullptr) const;
  std::string_view symbol_name(Symbol symbol) const;
  const SymbolTable& symbols() const;
  const RuleSet& rules() const;

  TimestampMs now() const;
  TimestampMs next_deadline() const;
  std::uint64_t sequence() const;  // of the last outbound event
  std::size_t open_escalation_count() const;

  // Checks the state's invariants (capacity, single holder, membership, every open escalation in
  // exactly one place, no eligible agent idle while work waits). "" when they hold. For tests.
  std::string check_invariants() const;

  // The whole state as bytes, and back. restore(snapshot()) behaves exactly like the original.
  std::string snapshot() const;
  static Result<Router> restore(std::string_view bytes);

  struct State;

 private:
  explicit Router(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace router::core
