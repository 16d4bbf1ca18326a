// A hiredis 0.14 async connection driven by the daemon's io_context: connect (AUTH/SELECT from the
// URL), per-command timeouts with Asio timers, reconnect with backoff. hiredis owns the socket and
// frees its context itself after a disconnect or a failed connect; this class never closes the fd
// and forgets the context when hiredis says it is gone. All of it runs on one strand.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/redis/redis_options.hpp"

namespace boost::asio {
class io_context;
}

namespace router::adapters::redis {

struct RedisValue {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;
  std::vector<RedisValue> elements;

  bool is_error() const { return type == Type::error; }
};

class Connection {
 public:
  Connection(boost::asio::io_context& io, RedisOptions options, std::string name);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Called on the connection's strand: true once connected (after AUTH/SELECT), false when lost.
  void on_state(std::function<void(bool up)> handler);
  void start();
  void stop();  // disconnects; no reconnect
  // After the io_context has stopped (no handler can run): frees hiredis's context at once. hiredis
  // answers pending commands with null and calls the hooks; nothing is left behind at exit.
  void close_now();

  // Sends a command if connected (returns false otherwise: the caller keeps it). The handler runs
  // on the strand with the reply, or with nullptr when the connection was lost or the command
  // timed out (the connection is then dropped and re-established). A zero timeout arms no timer:
  // the caller watches the time itself (a pipeline of many commands) and calls reset().
  using Handler = std::function<void(const RedisValue* reply)>;
  bool command(std::vector<std::string> argv, Handler handler,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  bool connected() const;
  void reset();  // on the strand: drops the connection (pending commands get nullptr), reconnects
  // Runs `fn` on the connection's strand.
  void dispatch(std::function<void()> fn);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::redis
