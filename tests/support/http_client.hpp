// Test support: a blocking HTTP/1.1 client on plain POSIX sockets, so tests talk to the daemon over
// real TCP without compiling Beast into test files.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace router::testing {

struct HttpResult {
  int status = 0;  // 0: no response (connection closed or timed out)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(const std::string& name) const;  // case-insensitive, "" if absent
};

class HttpClient {
 public:
  explicit HttpClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send_raw(const std::string& bytes);
  HttpResult read_response();
  // True when the peer has closed the connection (reads EOF within the timeout).
  bool closed_by_peer();

  HttpResult request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  int fd_ = -1;
  std::string buffer_;
};

// One request on a fresh connection.
HttpResult http_request(int port, const std::string& method, const std::string& target, const std::string& body = "",
                        const std::vector<std::pair<std::string, std::string>>& headers = {});

// Every escalation the API lists (status=all), all pages concatenated; "error <status>" on failure.
std::string list_all_escalations(int port, const std::vector<std::pair<std::string, std::string>>& headers);

// The catch-all routing most e2e configurations end with: one route to one queue any agent serves.
inline constexpr const char* catch_all_routing =
    "[[routes]]\nname = \"default\"\nwhen = \"true\"\nqueue = \"general\"\n"
    "[[queues]]\nname = \"general\"\nagents = \"true\"\n";

}  // namespace router::testing
