// An HTTP/1.1 client for platform callbacks: plain HTTP and HTTPS (SNI, peer and hostname
// verification against the system CA store or a given CA file), keep-alive connections reused per
// destination, connect and response timeouts. Beast stays inside the .cpp.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace router::adapters::delivery {

struct HttpCall {
  std::string method = "POST";
  std::string url;  // http://host[:port]/path or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string ca_file;  // empty: the system's CA store
};

struct HttpResult {
  int status = 0;             // 0: no response (the error says why)
  std::string error;          // transport problem: connect, TLS, timeout, ...
  std::int64_t retry_after_seconds = -1;
  std::string body_start;     // the first bytes of the body, for dead-letter reasons
};

class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, std::chrono::milliseconds connect_timeout,
             std::chrono::milliseconds response_timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `done` runs on an io thread once, with the response or the failure.
  void send(HttpCall call, std::function<void(HttpResult)> done);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::delivery
