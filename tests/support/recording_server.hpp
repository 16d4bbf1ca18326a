// Test support: a local HTTP/1.1 server that records every request and answers from a script
// (status, Retry-After, delay), so tests see exactly what the daemon sends to a platform.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace router::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::steady_clock::time_point at;
  std::string header(const std::string& name) const;
};

struct ScriptedResponse {
  int status = 200;
  std::string retry_after;  // "" for none
  std::string body = "{}";
};

class RecordingServer {
 public:
  RecordingServer();
  ~RecordingServer();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Decides each answer from the request (default: 200).
  void respond_with(std::function<ScriptedResponse(const RecordedRequest&)> script);
  std::vector<RecordedRequest> requests() const;
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) const;

 private:
  void serve(int fd);
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<RecordedRequest> requests_;
  std::function<ScriptedResponse(const RecordedRequest&)> script_;
};

}  // namespace router::testing
