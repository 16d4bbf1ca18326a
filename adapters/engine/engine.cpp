#include "adapters/engine/engine.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

namespace router::adapters::engine {

namespace asio = boost::asio;

namespace {
core::TimestampMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

struct Engine::State : std::enable_shared_from_this<State> {
  State(asio::io_context& io, EngineOptions opts)
      : options(opts),
        strand(asio::make_strand(io)),
        timer(strand),
        router(core::RouterOptions{opts.id_seed != 0 ? opts.id_seed : static_cast<std::uint64_t>(wall_clock_ms())}) {}

  EngineOptions options;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  core::Router router;
  std::vector<std::shared_ptr<EventSink>> sinks;
  std::atomic<std::size_t> pending{0};
  core::TimestampMs armed_for = -1;
  bool stopped = false;

  bool reserve(std::size_t count) {
    std::size_t current = pending.load(std::memory_order_relaxed);
    do {
      if (current + count > options.max_pending_inputs) {
        return false;
      }
    } while (!pending.compare_exchange_weak(current, current + count, std::memory_order_relaxed));
    return true;
  }

  core::Outcome apply(core::Command command) {
    core::Outcome outcome = router.apply(core::Input{wall_clock_ms(), std::move(command)});
    if (!outcome.events.empty()) {
      for (const auto& sink : sinks) {
        sink->publish(outcome.events);
      }
    }
    arm(router.next_deadline());
    return outcome;
  }

  // One timer for the core's earliest deadline; it comes back as a Tick input.
  void arm(core::TimestampMs deadline) {
    if (stopped || deadline < 0 || deadline == armed_for) {
      return;
    }
    armed_for = deadline;
    const auto delay = std::chrono::milliseconds(std::max<core::TimestampMs>(0, deadline - wall_clock_ms()));
    timer.expires_after(delay);
    timer.async_wait([self = shared_from_this(), deadline](const boost::system::error_code& ec) {
      if (ec || self->stopped || self->armed_for != deadline) {
        return;
      }
      self->armed_for = -1;
      self->apply(core::TickCommand{});
      self->arm(self->router.next_deadline());
    });
  }
};

Engine::Engine(asio::io_context& io, EngineOptions options) : state_(std::make_shared<State>(io, options)) {}

Engine::~Engine() { stop(); }

std::vector<core::RuleError> Engine::load_rules(const core::RuleSet& rules) { return state_->router.load_rules(rules); }

void Engine::add_sink(std::shared_ptr<EventSink> sink) { state_->sinks.push_back(std::move(sink)); }

bool Engine::submit(core::Command command, Done done) {
  if (!state_->reserve(1)) {
    return false;
  }
  asio::post(state_->strand, [s = state_, command = std::move(command), done = std::move(done)]() mutable {
    const core::Outcome outcome = s->apply(std::move(command));
    s->pending.fetch_sub(1, std::memory_order_relaxed);
    done(outcome, s->router);
  });
  return true;
}

bool Engine::submit_all(std::vector<core::Command> commands, DoneMany done) {
  if (!state_->reserve(commands.size())) {
    return false;
  }
  asio::post(state_->strand, [s = state_, commands = std::move(commands), done = std::move(done)]() mutable {
    std::vector<core::Outcome> outcomes;
    outcomes.reserve(commands.size());
    for (core::Command& command : commands) {
      outcomes.push_back(s->apply(std::move(command)));
    }
    s->pending.fetch_sub(commands.size(), std::memory_order_relaxed);
    done(outcomes, s->router);
  });
  return true;
}

bool Engine::read(Read read) {
  if (!state_->reserve(1)) {
    return false;
  }
  asio::post(state_->strand, [s = state_, read = std::move(read)]() {
    s->pending.fetch_sub(1, std::memory_order_relaxed);
    read(s->router);
  });
  return true;
}

std::size_t Engine::pending_inputs() const { return state_->pending.load(std::memory_order_relaxed); }

void Engine::stop() {
  asio::post(state_->strand, [s = state_]() {
    s->stopped = true;
    s->timer.cancel();
  });
}

}  // namespace router::adapters::engine
