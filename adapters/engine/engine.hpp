// The one owner of the routing core: runs it on a strand (no locks in the core), stamps each input
// with the wall-clock time, arms the core's next timer, and fans outbound events out to the sinks.
// Inbound adapters submit inputs and get the outcome back on the strand. The input queue is
// bounded: when it is full, submit() refuses at once (the HTTP layer answers 503 + Retry-After).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "router/core/events.hpp"
#include "router/core/router.hpp"

namespace boost::asio {
class io_context;
}

namespace router::adapters::engine {

// Where outbound events go (Redis publisher, HTTP callbacks, ...). Called on the engine's strand,
// in sequence order; must not block.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void publish(const std::vector<core::OutboundEvent>& events) = 0;
};

struct EngineOptions {
  std::size_t max_pending_inputs = 10'000;
  std::uint64_t id_seed = 0;  // 0: seeded from the clock at start
};

class Engine {
 public:
  Engine(boost::asio::io_context& io, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Installs the first rules (before start). Errors as core::validate_rules.
  std::vector<core::RuleError> load_rules(const core::RuleSet& rules);
  void add_sink(std::shared_ptr<EventSink> sink);

  // Applies `command` on the strand at the current time; `done` runs on the strand with the
  // outcome and read access to the router. Returns false (and never calls `done`) when the input
  // queue is full.
  using Done = std::function<void(const core::Outcome&, const core::Router&)>;
  bool submit(core::Command command, Done done);
  // Applies several commands in order as one unit; `done` gets one outcome per command.
  using DoneMany = std::function<void(const std::vector<core::Outcome>&, const core::Router&)>;
  bool submit_all(std::vector<core::Command> commands, DoneMany done);

  // Runs `read` on the strand with read access to the router (API queries).
  using Read = std::function<void(const core::Router&)>;
  bool read(Read read);

  std::size_t pending_inputs() const;
  void stop();  // cancels the timer; queued inputs still run

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::engine
