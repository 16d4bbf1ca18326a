// Reads canonical events from redis.input_stream with XREADGROUP (group created with MKSTREAM),
// hands them to the engine, and XACKs each entry once the journal has committed it. On start it
// first re-reads its own pending entries (a crash between commit and ack: the entry's id is its
// idempotency key, so nothing applies twice). Entries pending too long at another consumer are
// claimed with XAUTOCLAIM. A malformed entry is moved to {stream}:dead with its error and acked.
#pragma once

#include <memory>
#include <string>

#include "adapters/engine/engine.hpp"
#include "adapters/redis/connection.hpp"

namespace router::adapters::redis {

class StreamConsumer {
 public:
  StreamConsumer(boost::asio::io_context& io, RedisOptions options, engine::Engine& engine);
  ~StreamConsumer();
  void start();
  void stop();
  void close_now();  // after the io_context stopped: frees the connection at once

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::redis
