#include "adapters/engine/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "adapters/metrics/registry.hpp"
#include "adapters/storage/files.hpp"
#include "router/core/input_codec.hpp"

namespace router::adapters::engine {

namespace {

core::TimestampMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr const char* marks_file = "outbox.marks";
constexpr auto marks_interval = std::chrono::milliseconds(200);

// What one batch leaves behind until it is durable: the answers per outlet, the events, how many
// inputs it held.
struct Release {
  std::vector<std::pair<AnswerOutlet*, std::function<void()>>> answers;
  std::vector<core::OutboundEvent> events;
  std::vector<std::string> json;
  std::size_t inputs = 0;
};

thread_local Release* current_release = nullptr;  // set on the thread running a batch, while it does
thread_local bool in_core = false;                 // this thread is inside the core's batch loop

// "name sequence" per line.
std::map<std::string, std::uint64_t, std::less<>> parse_marks(const std::string& text) {
  std::map<std::string, std::uint64_t, std::less<>> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const std::size_t space = line.find(' ');
    if (space != std::string::npos) {
      char* tail = nullptr;
      const unsigned long long value = std::strtoull(line.c_str() + space + 1, &tail, 10);
      if (tail != nullptr && *tail == '\0') out[line.substr(0, space)] = value;
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

bool defer_answer(AnswerOutlet& outlet, std::function<void()>& answer) {
  if (current_release == nullptr) return false;
  current_release->answers.emplace_back(&outlet, std::move(answer));
  return true;
}

struct Engine::State : std::enable_shared_from_this<State> {
  explicit State(EngineOptions opts) : options(opts) {}

  struct Job {
    enum class Kind : std::uint8_t { submit, submit_all, read, control };
    Kind kind = Kind::submit;
    core::Command command;
    std::vector<core::Command> commands;
    Check check;
    Done done;
    DoneMany done_many;
    Read read;
    std::function<void()> control;
  };

  EngineOptions options;
  // --- shared with the submitting threads
  std::mutex mutex;  // the inbox
  std::vector<Job> inbox;
  std::atomic<std::size_t> pending{0};
  std::atomic<bool> ticking{true};
  // The core runs on whichever thread finds it free (flat combining): that thread takes every
  // input waiting, as one batch, until none is left. One thread at a time: no locks in the core.
  std::mutex core_mutex;
  // The ticker wakes for the core's next deadline (and the outbox marks) when no input comes.
  std::mutex ticker_mutex;
  std::condition_variable ticker_wake;
  core::TimestampMs ticker_deadline = -1;  // what the ticker sleeps until (-1: nothing due)
  bool ticker_kicked = false;
  bool exiting = false;
  std::atomic<bool> durable_sinks_known{false};
  std::thread ticker;

  // --- the core's own (under core_mutex)
  core::Router router;
  std::unique_ptr<storage::Journal> journal;
  std::atomic<storage::Journal*> journal_for_stats{nullptr};  // read from other threads
  std::atomic<std::uint64_t> sequence_now{0};                  // router.sequence(), for other threads
  std::uint64_t snapshot_every = 0;
  std::uint64_t since_snapshot = 0;
  std::vector<std::shared_ptr<EventSink>> sinks;
  std::vector<EventSink*> durable_sinks;
  bool sinks_want_json = false;
  std::map<std::string, std::uint64_t, std::less<>> marks_written;
  std::chrono::steady_clock::time_point marks_due{};
  core::Outcome outcome;  // reused input after input
  metrics::Histogram& batch_seconds = metrics::registry().histogram(
      "escalation_router_core_batch_duration_seconds", "Time the core took for one batch of inputs (input processing stops meanwhile)");
  metrics::Counter& batch_inputs = metrics::registry().counter(
      "escalation_router_core_batch_inputs_total", "Inputs the core took in batches (over the batch count: the mean batch size)");
  std::unique_ptr<Release> release = std::make_unique<Release>();

  bool reserve(std::size_t count) {
    std::size_t current = pending.load(std::memory_order_relaxed);
    do {
      if (current + count > options.max_pending_inputs) {
        return false;
      }
    } while (!pending.compare_exchange_weak(current, current + count, std::memory_order_relaxed));
    return true;
  }

  void enqueue(Job job) {
    std::lock_guard lock(mutex);
    inbox.push_back(std::move(job));
  }

  // Runs the core on this thread unless another thread does; that one takes what was enqueued.
  // `force`: run one batch even when the inbox is empty (the ticker: timers and marks).
  void combine(bool force = false) {
    if (in_core) return;  // a Done that submits: the running batch loop takes it next
    std::vector<Job> batch;
    for (;;) {
      std::unique_lock core(core_mutex, std::defer_lock);
      if (force) {
        core.lock();
      } else if (!core.try_lock()) {
        return;  // the thread inside looks at the inbox again before it leaves
      }
      in_core = true;
      for (;;) {
        {
          std::lock_guard lock(mutex);
          batch.swap(inbox);
        }
        if (batch.empty() && !force) break;
        force = false;
        process(batch);
        batch.clear();
      }
      in_core = false;
      core.unlock();
      std::lock_guard lock(mutex);  // an input enqueued after the last look, before the unlock
      if (inbox.empty()) return;
    }
  }

  void run_ticker() {
    std::unique_lock lock(ticker_mutex);
    while (!exiting) {
      const auto now = std::chrono::system_clock::now();
      auto until = now + (durable_sinks_known ? std::chrono::milliseconds(marks_interval) : std::chrono::milliseconds(1000));
      if (ticker_deadline >= 0) {
        until = std::min(until, std::chrono::system_clock::time_point(std::chrono::milliseconds(ticker_deadline)));
      }
      ticker_wake.wait_until(lock, until, [&] { return exiting || ticker_kicked; });
      if (exiting) break;
      ticker_kicked = false;
      lock.unlock();
      combine(true);
      lock.lock();
    }
  }

  // After a batch (core_mutex held): the ticker must wake for the core's next deadline. It is told
  // only when that comes earlier than what it sleeps until.
  void watch_deadline() {
    const core::TimestampMs next = ticking ? router.next_deadline() : -1;
    bool notify = false;
    {
      std::lock_guard lock(ticker_mutex);
      notify = next >= 0 && (ticker_deadline < 0 || next < ticker_deadline);
      ticker_deadline = next;
    }
    if (notify) ticker_wake.notify_one();
  }

  void kick_ticker() {
    {
      std::lock_guard lock(ticker_mutex);
      ticker_kicked = true;
    }
    ticker_wake.notify_one();
  }

  // Applies one input into `into` and journals it.
  void apply(core::Command command, core::TimestampMs now, core::Outcome& into) {
    const core::Input input{now, std::move(command)};
    if (journal) journal->append(core::encode_input(input));
    router.apply(input, into);
    ++since_snapshot;
  }

  void take_events(core::Outcome& from) {
    for (core::OutboundEvent& event : from.events) release->events.push_back(std::move(event));
    from.events.clear();
  }

  void process(std::vector<Job>& batch) {
    const auto t0 = std::chrono::steady_clock::now();
    Release& r = *release;
    current_release = &r;
    const core::TimestampMs now = wall_clock_ms();
    if (ticking) {
      const core::TimestampMs deadline = router.next_deadline();
      if (deadline >= 0 && deadline <= now) {
        apply(core::TickCommand{}, now, outcome);
        take_events(outcome);
      }
    }
    for (Job& job : batch) {
      switch (job.kind) {
        case Job::Kind::read:
          job.read(router);
          ++r.inputs;
          break;
        case Job::Kind::control:
          job.control();
          break;
        case Job::Kind::submit:
          if (job.check) {
            if (std::optional<core::Error> refused = job.check(router)) {
              outcome = core::Outcome{};
              outcome.error = std::move(refused);
              job.done(outcome, router);
              ++r.inputs;
              break;
            }
          }
          apply(std::move(job.command), now, outcome);
          if (job.done) job.done(outcome, router);
          take_events(outcome);
          ++r.inputs;
          break;
        case Job::Kind::submit_all: {
          std::vector<core::Outcome> outcomes(job.commands.size());
          for (std::size_t i = 0; i < job.commands.size(); ++i) apply(std::move(job.commands[i]), now, outcomes[i]);
          if (job.done_many) job.done_many(outcomes, router);
          for (auto& o : outcomes) take_events(o);
          r.inputs += job.commands.size();
          break;
        }
      }
    }
    current_release = nullptr;
    const auto t1 = std::chrono::steady_clock::now();
    if (sinks_want_json) {
      for (const core::OutboundEvent& event : r.events) r.json.push_back(core::outbound_event_json(event));
    }
    const auto t2 = std::chrono::steady_clock::now();
    if (journal && snapshot_every != 0 && since_snapshot >= snapshot_every) {
      // A forked child writes it: input stops only for the fork.
      if (journal->fork_snapshot(journal->last_seq(), router.sequence(), [this] { return router.snapshot(); })) since_snapshot = 0;
    }
    if (!r.answers.empty() || !r.events.empty() || r.inputs != 0) {
      auto done = std::shared_ptr<Release>(std::move(release));
      release = std::make_unique<Release>();
      if (journal) {
        journal->commit([self = this, done] { self->deliver(*done); });
      } else {
        deliver(*done);
      }
    } else if (journal) {
      journal->commit(nullptr);
    }
    const auto t3 = std::chrono::steady_clock::now();
    sequence_now.store(router.sequence(), std::memory_order_relaxed);
    save_marks(false);
    watch_deadline();
    const double seconds = std::chrono::duration<double>(t3 - t0).count();
    batch_seconds.observe(seconds);
    batch_inputs.add(batch.size());
    if (seconds > 0.05) {
      auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
      spdlog::warn("engine: a batch of {} inputs took {:.1f} ms (apply {:.1f}, serialize {:.1f}, journal write and snapshot fork {:.1f})",
                   batch.size(), ms(t3 - t0), ms(t1 - t0), ms(t2 - t1), ms(t3 - t2));
    }
  }

  // The batch is durable: its events to the sinks, its answers to their I/O threads.
  void deliver(Release& r) {
    if (!r.events.empty()) {
      const OutboundBatch batch{r.events, r.json, false};
      for (const auto& sink : sinks) sink->publish(batch);
    }
    if (!r.answers.empty()) {
      // Usually one outlet per I/O thread: a short linear search.
      std::vector<std::pair<AnswerOutlet*, std::vector<std::function<void()>>>> per_outlet;
      for (auto& [outlet, answer] : r.answers) {
        auto it = std::find_if(per_outlet.begin(), per_outlet.end(), [o = outlet](const auto& p) { return p.first == o; });
        if (it == per_outlet.end()) {
          per_outlet.emplace_back(outlet, std::vector<std::function<void()>>{});
          it = per_outlet.end() - 1;
        }
        it->second.push_back(std::move(answer));
      }
      for (auto& [outlet, answers] : per_outlet) outlet->deliver(std::move(answers));
    }
    pending.fetch_sub(r.inputs, std::memory_order_relaxed);
  }

  // outbox.marks: each durable sink's confirmed sequence, written on the journal's thread at most
  // every marks_interval (and at exit).
  void save_marks(bool now) {
    if (!journal || durable_sinks.empty()) return;
    const auto clock = std::chrono::steady_clock::now();
    if (!now && clock < marks_due) return;
    marks_due = clock + marks_interval;
    std::map<std::string, std::uint64_t, std::less<>> marks;
    for (EventSink* sink : durable_sinks) marks[std::string(sink->outbox_name())] = std::min(sink->confirmed_sequence(), router.sequence());
    if (marks == marks_written) return;
    std::string text;
    for (const auto& [name, seq] : marks) text += name + ' ' + std::to_string(seq) + '\n';
    journal->write_file(marks_file, std::move(text));
    marks_written = std::move(marks);
  }

  std::uint64_t lowest_mark() const {
    std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
    for (EventSink* sink : durable_sinks) lowest = std::min(lowest, sink->confirmed_sequence());
    return lowest;
  }
};

Engine::Engine(EngineOptions options) : state_(std::make_shared<State>(options)) {
  state_->ticker = std::thread([s = state_.get()] { s->run_ticker(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(state_->ticker_mutex);
    state_->exiting = true;
  }
  state_->ticker_wake.notify_one();
  if (state_->ticker.joinable()) state_->ticker.join();
  state_->combine();  // what is still queued
  {
    std::lock_guard core(state_->core_mutex);
    state_->save_marks(true);
  }
  state_->journal_for_stats = nullptr;
  state_->journal.reset();  // fdatasyncs, writes the marks, stops the sync thread
}

std::vector<core::RuleError> Engine::start_in_memory(const core::RuleSet& rules) {
  std::promise<std::vector<core::RuleError>> result;
  auto future = result.get_future();
  State::Job job;
  job.kind = State::Job::Kind::control;
  job.control = [s = state_.get(), &rules, &result] { result.set_value(s->router.load_rules(rules)); };
  state_->enqueue(std::move(job));
  state_->combine();
  return future.get();
}

namespace {

// Rebuilds the router from storage: identity, snapshot, records. The events of replayed inputs that
// every durable sink confirmed are dropped; the later ones are kept to be sent again.
class Replay final : public storage::RecoveryVisitor {
 public:
  Replay(core::Router& router, std::uint64_t lowest_mark, std::size_t max_resend)
      : router_(router), lowest_mark_(lowest_mark), max_resend_(max_resend) {}
  void on_identity(std::uint64_t seed) override { router_ = core::Router(core::RouterOptions{seed}); }
  bool snapshot_usable(std::uint64_t events) override { return events <= lowest_mark_; }
  core::Status on_snapshot(std::uint64_t, std::string_view bytes) override {
    auto restored = core::Router::restore(bytes);
    if (!restored) return std::move(restored).error();
    router_ = std::move(restored).value();
    return core::Ok{};
  }
  core::Status on_record(std::uint64_t, std::string_view payload) override {
    auto input = core::decode_input(payload);
    if (!input) return std::move(input).error();
    if (lowest_mark_ == std::numeric_limits<std::uint64_t>::max()) {
      router_.apply_quietly(*input);  // nobody waits for events again
      return core::Ok{};
    }
    router_.apply(*input, outcome_);
    for (core::OutboundEvent& event : outcome_.events) {
      if (event.sequence <= lowest_mark_) continue;
      if (resend.size() >= max_resend_) {
        resend.pop_front();
        ++given_up;
      }
      resend.push_back(std::move(event));
    }
    return core::Ok{};
  }

  std::deque<core::OutboundEvent> resend;
  std::uint64_t given_up = 0;

 private:
  core::Router& router_;
  std::uint64_t lowest_mark_;
  std::size_t max_resend_;
  core::Outcome outcome_;
};

}  // namespace

void Engine::recover(const storage::StorageOptions& storage, core::RuleSet rules, Recovered done) {
  State::Job job;
  job.kind = State::Job::Kind::control;
  job.control = [s = state_.get(), storage, rules = std::move(rules), done = std::move(done)]() mutable {
    storage::RecoveryReport report;
    // The marks the sinks confirmed before the restart; a sink with no mark (a new one, or a journal
    // from before the outbox) gets nothing again.
    std::map<std::string, std::uint64_t, std::less<>> marks;
    std::string text;
    const bool have_marks = storage::read_whole_file((std::filesystem::path(storage.dir) / marks_file).string(), text);
    if (have_marks) marks = parse_marks(text);
    std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
    for (const auto& sink : s->sinks) {
      if (sink->outbox_name().empty()) continue;
      s->durable_sinks_known = true;
      s->durable_sinks.push_back(sink.get());
      auto it = marks.find(sink->outbox_name());
      if (it != marks.end()) lowest = std::min(lowest, it->second);
    }
    Replay replay(s->router, lowest, s->options.max_resend_events);
    auto journal = storage::Journal::open(storage, replay, report);
    if (!journal) {
      return done(core::Status(std::move(journal).error()), report);
    }
    s->journal = std::move(journal).value();
    s->journal_for_stats = s->journal.get();
    s->snapshot_every = storage.snapshot_every;
    s->sequence_now = s->router.sequence();
    s->journal->retain_events_after([s] { return std::min(s->lowest_mark(), s->sequence_now.load(std::memory_order_relaxed)); });
    if (replay.given_up != 0) {
      report.warnings.push_back(std::to_string(replay.given_up) + " outbound events behind the sinks' marks are too many to send again (max " +
                                std::to_string(s->options.max_resend_events) + "); the oldest are not resent");
    }
    // Send again what each durable sink had not confirmed, before anything new.
    for (EventSink* sink : s->durable_sinks) {
      auto it = marks.find(sink->outbox_name());
      sink->resume_after(it != marks.end() ? std::min(it->second, s->router.sequence()) : s->router.sequence());
    }
    if (!replay.resend.empty()) {
      std::vector<core::OutboundEvent> events(std::make_move_iterator(replay.resend.begin()), std::make_move_iterator(replay.resend.end()));
      std::vector<std::string> json;
      json.reserve(events.size());
      for (const auto& event : events) json.push_back(core::outbound_event_json(event));
      for (const auto& sink : s->sinks) {
        if (sink->outbox_name().empty()) continue;
        auto it = marks.find(sink->outbox_name());
        if (it == marks.end()) continue;
        const auto first = std::find_if(events.begin(), events.end(), [&](const core::OutboundEvent& e) { return e.sequence > it->second; });
        const std::size_t from = static_cast<std::size_t>(first - events.begin());
        if (from == events.size()) continue;
        spdlog::info("outbox: sending {} event(s) again to {} (sequences {} to {})", events.size() - from, sink->outbox_name(),
                     events[from].sequence, events.back().sequence);
        sink->publish(OutboundBatch{std::span(events).subspan(from), std::span(json).subspan(from), true});
      }
    } else if (!have_marks && !s->durable_sinks.empty() && report.records_replayed != 0) {
      report.warnings.push_back(std::string("no ") + marks_file + " in storage.dir (first start with the outbox): nothing is sent again");
    }
    // The configuration in force now is the first new input: replay stays exact across config changes.
    s->apply(core::ReloadRulesCommand{std::move(rules)}, wall_clock_ms(), s->outcome);
    const std::optional<core::Error> error = s->outcome.error;
    s->take_events(s->outcome);
    s->save_marks(true);
    if (error) return done(core::Status(*error), report);
    done(core::Ok{}, report);
  };
  state_->enqueue(std::move(job));
  state_->kick_ticker();  // recovery runs on the ticker thread: the caller goes on serving /readyz
}

storage::JournalStats Engine::journal_stats() const {
  // From any thread: the journal is set once, during recovery, and its stats are locked.
  storage::Journal* journal = state_->journal_for_stats.load();
  return journal != nullptr ? journal->stats() : storage::JournalStats{};
}

void Engine::add_sink(std::shared_ptr<EventSink> sink) {
  state_->sinks_want_json = state_->sinks_want_json || sink->wants_json();
  state_->sinks.push_back(std::move(sink));
}

bool Engine::submit(core::Command command, Done done) { return submit_checked(nullptr, std::move(command), std::move(done)); }

bool Engine::submit_checked(Check check, core::Command command, Done done) {
  if (!state_->reserve(1)) {
    return false;
  }
  State::Job job;
  job.kind = State::Job::Kind::submit;
  job.command = std::move(command);
  job.check = std::move(check);
  job.done = std::move(done);
  state_->enqueue(std::move(job));
  state_->combine();
  return true;
}

bool Engine::submit_all(std::vector<core::Command> commands, DoneMany done) {
  if (!state_->reserve(commands.size())) {
    return false;
  }
  State::Job job;
  job.kind = State::Job::Kind::submit_all;
  job.commands = std::move(commands);
  job.done_many = std::move(done);
  state_->enqueue(std::move(job));
  state_->combine();
  return true;
}

bool Engine::read(Read read) {
  if (!state_->reserve(1)) {
    return false;
  }
  State::Job job;
  job.kind = State::Job::Kind::read;
  job.read = std::move(read);
  state_->enqueue(std::move(job));
  state_->combine();
  return true;
}

std::size_t Engine::pending_inputs() const { return state_->pending.load(std::memory_order_relaxed); }

void Engine::stop() { state_->ticking = false; }

}  // namespace router::adapters::engine
