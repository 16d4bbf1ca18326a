// The one owner of the routing core. The core runs on a thread of its own (no locks in the core):
// inbound adapters hand it inputs from any thread; it takes everything waiting as one batch (one
// wake-up per batch, not per input), stamps and applies each input, journals the whole batch with
// one write (one fdatasync under fsync = always, shared with the batches that gather while it runs),
// and once the batch is durable releases its answers (one hand-off per I/O thread) and its outbound
// events, serialized once, to every sink. It fires the core's timers itself. The input queue is
// bounded: when it is full, submit() refuses at once (the HTTP layer answers 503 + Retry-After).
//
// Outbox: the core is deterministic, so the outbound events follow from the journal. Each durable
// sink (Redis, HTTP callbacks) reports how far it has confirmed; the engine records that in
// storage.dir/outbox.marks, and after a restart sends every event after a sink's mark again, in
// order, with the same eventId and sequence (at-least-once).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/storage/journal.hpp"
#include "router/core/events.hpp"
#include "router/core/router.hpp"

namespace router::adapters::engine {

// A durable batch's outbound events, in sequence order, each also serialized once
// (core::outbound_event_json) when a sink asked for it (wants_json). Valid during the call only.
struct OutboundBatch {
  std::span<const core::OutboundEvent> events;
  std::span<const std::string> json;  // json[i] is events[i]; empty when no sink wants JSON
  bool resent = false;                // sent again after a restart (their marks were behind)
};

// Where outbound events go (Redis publisher, HTTP callbacks, metrics, ...). Called in sequence
// order, never concurrently, from the engine's threads; must not block: a sink copies what it keeps.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void publish(const OutboundBatch& batch) = 0;
  // Whether it reads batch.json: the engine serializes each event once if any sink does, else never.
  virtual bool wants_json() const { return false; }
  // A durable sink has a name (its key in outbox.marks; others return ""), is told at start the
  // sequence it resumes after (its mark, or the current sequence when it has none), and reports
  // the sequence up to which it has confirmed every event handed to it (or given it up, counted
  // and logged). Thread-safe: the engine reads it from its own thread.
  virtual std::string_view outbox_name() const { return {}; }
  virtual void resume_after(std::uint64_t /*sequence*/) {}
  virtual std::uint64_t confirmed_sequence() const { return std::numeric_limits<std::uint64_t>::max(); }
};

// Where answers built on the core thread go back to: one per I/O thread.
class AnswerOutlet {
 public:
  virtual ~AnswerOutlet() = default;
  // Runs every answer on the outlet's own thread, in order.
  virtual void deliver(std::vector<std::function<void()>> answers) = 0;
};

// Called from a Done or Read on the core thread: holds `answer` until everything applied so far is
// durable, then hands it to `outlet` with the rest of the batch's answers for it. Returns false
// (and leaves `answer` alone) anywhere else: the caller delivers it itself.
bool defer_answer(AnswerOutlet& outlet, std::function<void()>& answer);

struct EngineOptions {
  std::size_t max_pending_inputs = 10'000;  // applied but not yet durable ones count too
  std::size_t max_resend_events = 1'000'000;  // events kept to send again after a restart; older go
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();  // finishes what is queued, writes the marks, stops the core thread
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void add_sink(std::shared_ptr<EventSink> sink);  // before recover()

  // Opens the journal in storage.dir and rebuilds the core from it (latest usable snapshot, then the
  // records after it), sends the events the durable sinks have not confirmed again, then applies
  // `rules` as the first new input. `done` runs on the core thread when the engine is ready (or
  // recovery failed). Inputs submitted before are refused by the API (not ready), never lost.
  using Recovered = std::function<void(const core::Status&, const storage::RecoveryReport&)>;
  void recover(const storage::StorageOptions& storage, core::RuleSet rules, Recovered done);

  // Without storage (tests of the engine alone): an in-memory core with these rules.
  std::vector<core::RuleError> start_in_memory(const core::RuleSet& rules);

  // Applies `command` at the current time; `done` runs on the core thread right after, with the
  // outcome and read access to the router (answers it builds go through defer_answer). The events
  // go to the sinks once the journal has made the batch durable. Returns false (and never calls
  // `done`) when the input queue is full. The outcome is valid during the call only.
  using Done = std::function<void(const core::Outcome&, const core::Router&)>;
  bool submit(core::Command command, Done done);
  // The same, but `check` runs first on the core thread; an error it returns is the outcome (the
  // command is neither applied nor journaled). One hop for "find it, check the token, act".
  using Check = std::function<std::optional<core::Error>(const core::Router&)>;
  bool submit_checked(Check check, core::Command command, Done done);
  // Applies several commands in order as one unit; `done` gets one outcome per command.
  using DoneMany = std::function<void(const std::vector<core::Outcome>&, const core::Router&)>;
  bool submit_all(std::vector<core::Command> commands, DoneMany done);

  // Runs `read` on the core thread with read access to the router (API queries).
  using Read = std::function<void(const core::Router&)>;
  bool read(Read read);

  std::size_t pending_inputs() const;
  storage::JournalStats journal_stats() const;
  void stop();  // no more timer firings; queued and new inputs still run (drain)

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::engine
