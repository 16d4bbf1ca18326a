// Publishes every outbound event on Redis: PUBLISH to {prefix}:workspace:{id} and, when it concerns
// an agent, {prefix}:agent:{id}; XADD to redis.output_stream (MAXLEN ~) when set. While Redis is down
// the commands wait in a bounded buffer and go out in order on reconnect; overflow is counted and
// logged. Commands in flight when a connection drops are sent again (consumers dedupe by eventId).
// A durable sink of the engine's outbox ("redis"): it confirms an event once Redis has answered
// every command of it; after a restart the engine sends the unconfirmed ones again. Each batch's
// commands are pipelined: written together, answered in order, one timeout watch for all of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "adapters/engine/engine.hpp"
#include "adapters/redis/connection.hpp"

namespace router::adapters::redis {

struct PublisherStats {
  std::uint64_t commands_sent = 0;
  std::uint64_t commands_dropped = 0;  // buffer overflow while Redis was down
  std::uint64_t buffered = 0;
  bool connected = false;
};

class Publisher final : public engine::EventSink {
 public:
  Publisher(boost::asio::io_context& io, RedisOptions options);
  ~Publisher() override;
  void start();
  void stop();
  void close_now();  // after the io_context stopped: frees the connection at once
  void publish(const engine::OutboundBatch& batch) override;
  bool wants_json() const override { return true; }
  std::string_view outbox_name() const override { return "redis"; }
  void resume_after(std::uint64_t sequence) override;
  std::uint64_t confirmed_sequence() const override;
  PublisherStats stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::redis
