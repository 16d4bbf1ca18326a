// The one owner of the routing core: runs it on a strand (no locks in the core), stamps each input
// with the wall-clock time, arms the core's next timer, and fans outbound events out to the sinks.
// Inbound adapters submit inputs and get the outcome back on the strand. The input queue is
// bounded: when it is full, submit() refuses at once (the HTTP layer answers 503 + Retry-After).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "adapters/storage/journal.hpp"
#include "router/core/events.hpp"
#include "router/core/router.hpp"

namespace boost::asio {
class io_context;
}

namespace router::adapters::engine {

// Where outbound events go (Redis publisher, HTTP callbacks, ...). Called on the engine's strand,
// in sequence order; must not block. The events are valid during the call only (the engine reuses
// their storage): a sink copies what it keeps.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void publish(const std::vector<core::OutboundEvent>& events) = 0;
};

struct EngineOptions {
  std::size_t max_pending_inputs = 10'000;  // applied but not yet durable ones count too
};

class Engine {
 public:
  Engine(boost::asio::io_context& io, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void add_sink(std::shared_ptr<EventSink> sink);

  // Opens the journal in storage.dir and rebuilds the core from it (latest snapshot, then the
  // records after it), then applies `rules` as the first new input. Runs on the strand; `done`
  // runs there when the engine is ready (or recovery failed). Inputs submitted before are refused
  // by the API (not ready), never lost.
  using Recovered = std::function<void(const core::Status&, const storage::RecoveryReport&)>;
  void recover(const storage::StorageOptions& storage, core::RuleSet rules, Recovered done);

  // Without storage (tests of the engine alone): an in-memory core with these rules.
  std::vector<core::RuleError> start_in_memory(const core::RuleSet& rules);

  // Applies `command` on the strand at the current time; once the journal has made it durable,
  // its events go to the sinks and `done` runs on the strand with the outcome and read access to
  // the router. Returns false (and never calls `done`) when the input queue is full. The outcome is
  // valid during the call only (the engine reuses it).
  using Done = std::function<void(const core::Outcome&, const core::Router&)>;
  bool submit(core::Command command, Done done);
  // Applies several commands in order as one unit; `done` gets one outcome per command.
  using DoneMany = std::function<void(const std::vector<core::Outcome>&, const core::Router&)>;
  bool submit_all(std::vector<core::Command> commands, DoneMany done);

  // Runs `read` on the strand with read access to the router (API queries).
  using Read = std::function<void(const core::Router&)>;
  bool read(Read read);

  std::size_t pending_inputs() const;
  storage::JournalStats journal_stats() const;
  void stop();  // cancels the timer; queued inputs still run

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::engine
