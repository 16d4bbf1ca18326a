// Options of the Redis connection, publisher and input stream (config section [redis]).
#pragma once

#include <cstdint>
#include <string>

namespace router::adapters::redis {

struct RedisOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::uint32_t database = 0;
  std::string username;  // from the URL; empty: none
  std::string password;  // from the URL; never logged
  std::string channel_prefix = "escalations";
  std::string input_stream;  // empty: no inbound stream
  std::string group = "router";
  std::string output_stream;  // empty: no XADD
  std::uint64_t output_stream_maxlen = 100'000;
  std::size_t max_buffered = 100'000;       // publishes kept while Redis is down; more are dropped (counted)
  std::int64_t claim_idle_ms = 60'000;      // input stream: entries pending this long at a dead consumer are claimed
  std::string consumer;                     // input stream consumer name; empty: "router-<hostname>"
};

}  // namespace router::adapters::redis
