// Test support: a private redis-server on a free loopback port (stoppable and restartable on the
// same port), and a small synchronous hiredis client.
#pragma once

#include <string>
#include <vector>

#include "support/daemon_process.hpp"

struct redisContext;

namespace router::testing {

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  bool start();
  void kill();  // SIGKILL, like a crash

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class RedisClient {
 public:
  explicit RedisClient(int port);
  ~RedisClient();
  bool connected() const { return context_ != nullptr; }
  // The reply flattened to strings (arrays depth-first; integers as text; nil as "(nil)").
  std::vector<std::string> command(const std::vector<std::string>& argv);
  long long integer(const std::vector<std::string>& argv);
  // For SUBSCRIBE: waits for the next pushed message's payload ("" on timeout).
  std::string next_message();

 private:
  redisContext* context_ = nullptr;
};

}  // namespace router::testing
