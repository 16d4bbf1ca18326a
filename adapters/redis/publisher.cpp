#include "adapters/redis/publisher.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>

#include "adapters/metrics/registry.hpp"

namespace router::adapters::redis {

namespace {

constexpr auto reply_timeout = std::chrono::seconds(5);

struct PublishCommand {
  std::vector<std::string> argv;
  std::uint64_t sequence = 0;  // of its event
  bool last_of_event = false;  // its reply confirms the event
  std::chrono::steady_clock::time_point sent{};
};

}  // namespace

struct Publisher::State : std::enable_shared_from_this<State> {
  State(boost::asio::io_context& io, RedisOptions opts) : options(opts), connection(io, opts, "publisher"), watch(io) {}

  RedisOptions options;
  Connection connection;
  boost::asio::steady_timer watch;  // replies overdue: reconnect
  std::deque<PublishCommand> queue;     // not sent yet
  std::deque<PublishCommand> inflight;  // sent, reply not seen yet
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> buffered{0};
  std::atomic<std::uint64_t> confirmed{0};
  bool stopped = false;
  metrics::Counter& sent_counter = metrics::registry().counter("escalation_router_redis_commands_total", "Redis publish commands by outcome", {{"outcome", "sent"}});
  metrics::Counter& dropped_counter = metrics::registry().counter("escalation_router_redis_commands_total", "Redis publish commands by outcome", {{"outcome", "dropped"}});

  void enqueue(PublishCommand command) {
    if (queue.size() + inflight.size() >= options.max_buffered) {
      dropped_counter.add();
      const std::uint64_t n = ++dropped;
      if (n == 1 || n % 1000 == 0) {
        spdlog::warn("redis publisher: buffer full ({} commands) while Redis is unreachable: {} publishes dropped so far",
                     options.max_buffered, n);
      }
      return;
    }
    queue.push_back(std::move(command));
  }

  void on_reply(const RedisValue* reply) {
    if (reply == nullptr) return;  // connection lost: requeued when the state goes down
    if (reply->is_error()) spdlog::warn("redis publisher: {}", reply->str);
    if (!inflight.empty()) {
      const PublishCommand& done = inflight.front();
      if (done.last_of_event && done.sequence > confirmed.load(std::memory_order_relaxed)) {
        confirmed.store(done.sequence, std::memory_order_release);
      }
      inflight.pop_front();
    }
    sent_counter.add();
    ++sent;
    buffered = queue.size() + inflight.size();
  }

  void pump() {
    const auto now = std::chrono::steady_clock::now();
    while (!queue.empty() && connection.connected()) {
      // No timer per command: watch_replies() looks at the oldest one.
      const bool sent_now = connection.command(queue.front().argv, [self = shared_from_this()](const RedisValue* reply) { self->on_reply(reply); },
                                               std::chrono::milliseconds(0));
      if (!sent_now) break;
      queue.front().sent = now;
      inflight.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    buffered = queue.size() + inflight.size();
    if (!inflight.empty()) watch_replies();
  }

  bool watching = false;
  void watch_replies() {
    if (watching || stopped) return;
    watching = true;
    watch.expires_after(std::chrono::seconds(1));
    watch.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->connection.dispatch([self, ec] {
        self->watching = false;
        if (ec || self->stopped || self->inflight.empty()) return;
        if (std::chrono::steady_clock::now() - self->inflight.front().sent > reply_timeout) {
          spdlog::warn("redis publisher: no reply for {} s; reconnecting", reply_timeout.count());
          self->connection.reset();
          return;
        }
        self->watch_replies();
      });
    });
  }

  void on_state(bool up) {
    if (up) {
      if (!queue.empty() || !inflight.empty()) {
        spdlog::info("redis publisher: connected; flushing {} buffered commands", queue.size() + inflight.size());
      }
      pump();
      return;
    }
    // What was in flight goes out again first, in its order.
    while (!inflight.empty()) {
      queue.push_front(std::move(inflight.back()));
      inflight.pop_back();
    }
    buffered = queue.size();
  }
};

Publisher::Publisher(boost::asio::io_context& io, RedisOptions options)
    : state_(std::make_shared<State>(io, std::move(options))) {}

Publisher::~Publisher() { stop(); }

void Publisher::start() {
  std::weak_ptr<State> weak = state_;
  metrics::registry().gauge("escalation_router_redis_buffered", "Redis publish commands waiting to be sent");
  metrics::registry().gauge("escalation_router_redis_connected", "1 while the Redis publisher is connected");
  metrics::registry().add_collector([weak](metrics::GaugeWriter& g) {
    if (auto s = weak.lock()) {
      g.set("escalation_router_redis_buffered", {}, static_cast<double>(s->buffered.load()));
      g.set("escalation_router_redis_connected", {}, s->connection.connected() ? 1 : 0);
    }
  });
  state_->connection.on_state([weak](bool up) {
    if (auto s = weak.lock()) s->on_state(up);
  });
  state_->connection.start();
}

void Publisher::stop() {
  state_->connection.dispatch([s = state_] {
    s->stopped = true;
    s->watch.cancel();
  });
  state_->connection.stop();
}

void Publisher::close_now() { state_->connection.close_now(); }

void Publisher::resume_after(std::uint64_t sequence) { state_->confirmed.store(sequence, std::memory_order_release); }

std::uint64_t Publisher::confirmed_sequence() const { return state_->confirmed.load(std::memory_order_acquire); }

void Publisher::publish(const engine::OutboundBatch& batch) {
  // The batch's commands, from the JSON the engine serialized once; one hand-off to the connection.
  std::vector<PublishCommand> commands;
  commands.reserve(batch.events.size() * 3);
  const RedisOptions& o = state_->options;
  const std::string maxlen = std::to_string(o.output_stream_maxlen);
  for (std::size_t i = 0; i < batch.events.size(); ++i) {
    const core::OutboundEvent& event = batch.events[i];
    const std::string& json = batch.json[i];
    commands.push_back({{"PUBLISH", o.channel_prefix + ":workspace:" + event.workspace_id, json}, event.sequence, false});
    if (!event.agent_id.empty()) {
      commands.push_back({{"PUBLISH", o.channel_prefix + ":agent:" + event.agent_id, json}, event.sequence, false});
    }
    if (!o.output_stream.empty()) {
      commands.push_back({{"XADD", o.output_stream, "MAXLEN", "~", maxlen, "*", "event", json}, event.sequence, false});
    }
    commands.back().last_of_event = true;
  }
  state_->connection.dispatch([s = state_, commands = std::move(commands)]() mutable {
    for (auto& command : commands) s->enqueue(std::move(command));
    s->pump();
  });
}

PublisherStats Publisher::stats() const {
  return {state_->sent.load(), state_->dropped.load(), state_->buffered.load(), state_->connection.connected()};
}

}  // namespace router::adapters::redis
