// The HTTP/1.1 listener: accepts connections, reads requests with limits and timeouts, hands each to
// a Handler and writes its Response. Keep-alive and pipelining (answered in order). drain() stops
// accepting, lets in-flight requests finish, closes idle connections, then reports.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/http/message.hpp"
#include "adapters/http/server_options.hpp"

namespace boost::asio {
class io_context;
}

namespace router::adapters::http {

class Server {
 public:
  // Accepts on `io`; connections go round-robin to `connection_ios`, each run by one thread (empty:
  // on `io` itself, with a strand per connection).
  Server(boost::asio::io_context& io, std::vector<boost::asio::io_context*> connection_ios, ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws std::system_error on failure (a start-up error). Returns the port.
  std::uint16_t listen();
  void start();

  // Stops accepting; in-flight requests finish (their responses say Connection: close), idle
  // connections are closed. `done` runs once every connection is gone or the timeout passed.
  void drain(std::function<void()> done);

  std::size_t connection_count() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::http
