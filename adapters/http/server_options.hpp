// Options of the HTTP listener (config section [server]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "router/core/time.hpp"

namespace router::adapters::http {

struct ServerOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;  // 0: any free port (the bound one is logged)
  std::size_t max_body_bytes = 1 << 20;
  unsigned threads = 2;
  std::string tls_cert;  // both set: serve HTTPS
  std::string tls_key;
  core::DurationMs header_timeout_ms = 10'000;   // time to receive a request's headers
  core::DurationMs request_timeout_ms = 30'000;  // time to receive the body and answer
  core::DurationMs idle_timeout_ms = 60'000;     // keep-alive connection with no request
  std::size_t max_connections = 10'000;
  core::DurationMs drain_timeout_ms = 10'000;    // SIGTERM: how long in-flight requests may take
};

}  // namespace router::adapters::http
