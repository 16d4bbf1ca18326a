#include "adapters/engine/engine.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>

#include "router/core/input_codec.hpp"

namespace router::adapters::engine {

namespace asio = boost::asio;

namespace {
core::TimestampMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

struct Engine::State : std::enable_shared_from_this<State> {
  State(asio::io_context& io, EngineOptions opts) : options(opts), strand(asio::make_strand(io)), timer(strand) {}

  EngineOptions options;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  core::Router router;
  std::unique_ptr<storage::Journal> journal;
  std::uint64_t snapshot_every = 0;
  std::uint64_t since_snapshot = 0;
  std::vector<std::shared_ptr<EventSink>> sinks;
  std::atomic<std::size_t> pending{0};
  core::TimestampMs armed_for = -1;
  bool stopped = false;
  // Outcomes handed out and done with (on the strand): the next inputs reuse them and their events'
  // capacity instead of allocating. Small ones only, so a burst (a reload's requeues) is not kept.
  std::vector<std::shared_ptr<core::Outcome>> spare_outcomes;
  static constexpr std::size_t max_spare_outcomes = 64;
  static constexpr std::size_t max_spare_events = 16;

  std::shared_ptr<core::Outcome> take_outcome() {
    if (spare_outcomes.empty()) return std::make_shared<core::Outcome>();
    auto outcome = std::move(spare_outcomes.back());
    spare_outcomes.pop_back();
    return outcome;
  }
  void give_back(std::shared_ptr<core::Outcome> outcome) {
    if (spare_outcomes.size() < max_spare_outcomes && outcome->events.capacity() <= max_spare_events) {
      spare_outcomes.push_back(std::move(outcome));
    }
  }

  bool reserve(std::size_t count) {
    std::size_t current = pending.load(std::memory_order_relaxed);
    do {
      if (current + count > options.max_pending_inputs) {
        return false;
      }
    } while (!pending.compare_exchange_weak(current, current + count, std::memory_order_relaxed));
    return true;
  }

  // Applies one input; `after` runs on the strand once it is durable, after its events went out.
  void apply(core::Command command, std::function<void(const core::Outcome&)> after) {
    const core::Input input{wall_clock_ms(), std::move(command)};
    std::string record = journal ? core::encode_input(input) : std::string();
    std::shared_ptr<core::Outcome> outcome = take_outcome();
    router.apply(input, *outcome);
    arm(router.next_deadline());
    auto finish = [self = shared_from_this(), outcome, after = std::move(after)]() {
      if (!outcome->events.empty()) {
        for (const auto& sink : self->sinks) sink->publish(outcome->events);  // sinks copy what they keep
      }
      if (after) after(*outcome);  // callbacks read it now and keep nothing of it
      self->give_back(outcome);
    };
    if (!journal) {
      finish();
      return;
    }
    const std::uint64_t seq = journal->append(std::move(record), [self = shared_from_this(), finish = std::move(finish)]() mutable {
      asio::post(self->strand, std::move(finish));
    });
    if (snapshot_every != 0 && ++since_snapshot >= snapshot_every) {
      since_snapshot = 0;
      journal->write_snapshot(seq, router.snapshot());  // serialized here, written by the journal's thread
    }
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
      self->apply(core::TickCommand{}, nullptr);
      self->arm(self->router.next_deadline());
    });
  }
};

Engine::Engine(asio::io_context& io, EngineOptions options) : state_(std::make_shared<State>(io, options)) {}

Engine::~Engine() {
  stop();
  state_->journal.reset();  // flushes and joins the writer while the io_context still exists
}

std::vector<core::RuleError> Engine::start_in_memory(const core::RuleSet& rules) { return state_->router.load_rules(rules); }

namespace {

// Rebuilds the router from storage: identity, snapshot, records. Events of replayed inputs are
// dropped: they were handed out before the restart.
class Replay final : public storage::RecoveryVisitor {
 public:
  explicit Replay(core::Router& router) : router_(router) {}
  void on_identity(std::uint64_t seed) override { router_ = core::Router(core::RouterOptions{seed}); }
  core::Status on_snapshot(std::uint64_t, std::string_view bytes) override {
    auto restored = core::Router::restore(bytes);
    if (!restored) return std::move(restored).error();
    router_ = std::move(restored).value();
    return core::Ok{};
  }
  core::Status on_record(std::uint64_t, std::string_view payload) override {
    auto input = core::decode_input(payload);
    if (!input) return std::move(input).error();
    router_.apply_quietly(*input);
    return core::Ok{};
  }

 private:
  core::Router& router_;
};

}  // namespace

void Engine::recover(const storage::StorageOptions& storage, core::RuleSet rules, Recovered done) {
  asio::post(state_->strand, [s = state_, storage, rules = std::move(rules), done = std::move(done)]() mutable {
    storage::RecoveryReport report;
    Replay replay(s->router);
    auto journal = storage::Journal::open(storage, replay, report);
    if (!journal) {
      return done(core::Status(std::move(journal).error()), report);
    }
    s->journal = std::move(journal).value();
    s->snapshot_every = storage.snapshot_every;
    // The configuration in force now is the first new input: replay stays exact across config changes.
    s->apply(core::ReloadRulesCommand{std::move(rules)}, [s, report, done](const core::Outcome& outcome) {
      if (outcome.error) return done(core::Status(*outcome.error), report);
      s->arm(s->router.next_deadline());
      done(core::Ok{}, report);
    });
  });
}

storage::JournalStats Engine::journal_stats() const {
  auto journal = state_->journal.get();
  return journal != nullptr ? journal->stats() : storage::JournalStats{};
}

void Engine::add_sink(std::shared_ptr<EventSink> sink) { state_->sinks.push_back(std::move(sink)); }

bool Engine::submit(core::Command command, Done done) {
  if (!state_->reserve(1)) {
    return false;
  }
  asio::post(state_->strand, [s = state_, command = std::move(command), done = std::move(done)]() mutable {
    s->apply(std::move(command), [s, done = std::move(done)](const core::Outcome& outcome) {
      s->pending.fetch_sub(1, std::memory_order_relaxed);
      done(outcome, s->router);
    });
  });
  return true;
}

bool Engine::submit_all(std::vector<core::Command> commands, DoneMany done) {
  if (!state_->reserve(commands.size())) {
    return false;
  }
  asio::post(state_->strand, [s = state_, commands = std::move(commands), done = std::move(done)]() mutable {
    // Records commit in order: the last one's commit means all are durable.
    auto outcomes = std::make_shared<std::vector<core::Outcome>>();
    outcomes->reserve(commands.size());
    const std::size_t count = commands.size();
    for (std::size_t i = 0; i < count; ++i) {
      const bool last = i + 1 == count;
      s->apply(std::move(commands[i]), [s, outcomes, last, count, done](const core::Outcome& outcome) {
        outcomes->push_back(outcome);
        if (last) {
          s->pending.fetch_sub(count, std::memory_order_relaxed);
          done(*outcomes, s->router);
        }
      });
    }
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
