// Publishes every outbound event on Redis: PUBLISH to {prefix}:workspace:{id} and, when it concerns
// an agent, {prefix}:agent:{id}; XADD to redis.output_stream (MAXLEN ~) when set. While Redis is down
// the commands wait in a bounded buffer and go out in order on reconnect; overflow is counted and
// logged. Commands in flight when a connection drops are sent again (consumers dedupe by eventId).
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
  void publish(const std::vector<core::OutboundEvent>& events) override;
  PublisherStats stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::redis
