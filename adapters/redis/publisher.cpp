#include "adapters/redis/publisher.hpp"

#include <spdlog/spdlog.h>

#include "adapters/metrics/registry.hpp"

#include <deque>
#include <mutex>

namespace router::adapters::redis {

struct Publisher::State : std::enable_shared_from_this<State> {
  State(boost::asio::io_context& io, RedisOptions opts) : options(opts), connection(io, opts, "publisher") {}

  RedisOptions options;
  Connection connection;
  std::deque<std::vector<std::string>> queue;     // not sent yet
  std::deque<std::vector<std::string>> inflight;  // sent, reply not seen yet
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> buffered{0};

  void enqueue(std::vector<std::string> command) {
    if (queue.size() + inflight.size() >= options.max_buffered) {
      static auto& overflow = metrics::registry().counter("escalation_router_redis_commands_total", "Redis publish commands by outcome", {{"outcome", "dropped"}});
      overflow.add();
      const std::uint64_t n = ++dropped;
      if (n == 1 || n % 1000 == 0) {
        spdlog::warn("redis publisher: buffer full ({} commands) while Redis is unreachable: {} publishes dropped so far",
                     options.max_buffered, n);
      }
      return;
    }
    queue.push_back(std::move(command));
  }

  void pump() {
    while (!queue.empty() && connection.connected()) {
      const bool sent_now = connection.command(queue.front(), [self = shared_from_this()](const RedisValue* reply) {
        if (reply == nullptr) return;  // connection lost: requeued when the state goes down
        if (reply->is_error()) spdlog::warn("redis publisher: {}", reply->str);
        if (!self->inflight.empty()) self->inflight.pop_front();
        static auto& sent_counter = metrics::registry().counter("escalation_router_redis_commands_total", "Redis publish commands by outcome", {{"outcome", "sent"}});
        sent_counter.add();
        ++self->sent;
        self->buffered = self->queue.size() + self->inflight.size();
      });
      if (!sent_now) break;
      inflight.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    buffered = queue.size() + inflight.size();
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

void Publisher::stop() { state_->connection.stop(); }

void Publisher::close_now() { state_->connection.close_now(); }

void Publisher::publish(const std::vector<core::OutboundEvent>& events) {
  // Serialize here (engine strand), send on the connection's strand.
  std::vector<std::vector<std::string>> commands;
  const RedisOptions& o = state_->options;
  for (const core::OutboundEvent& event : events) {
    const std::string json = core::outbound_event_json(event);
    commands.push_back({"PUBLISH", o.channel_prefix + ":workspace:" + event.workspace_id, json});
    if (!event.agent_id.empty()) {
      commands.push_back({"PUBLISH", o.channel_prefix + ":agent:" + event.agent_id, json});
    }
    if (!o.output_stream.empty()) {
      commands.push_back({"XADD", o.output_stream, "MAXLEN", "~", std::to_string(o.output_stream_maxlen), "*", "event", json});
    }
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
