// Open-loop HTTP load at a constant arrival rate, corrected for coordinated omission: every request
// has an intended send time (start + k / rate); its latency counts from then, not from when a busy
// connection finally got to send it. Prints p50, p90, p99, p99.9 and max.
//   loadgen --port P --rate R --seconds S [--connections C] [--token T] [--mix events]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// The same steady event mix as bench/wrk_events.lua: per conversation, a request, two messages, a close.
std::string event_body(std::uint64_t n) {
  const std::uint64_t conversation = n / 4 % 20000;
  const std::string id = "lg-" + std::to_string(conversation);
  switch (n % 4) {
    case 0: return R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":")" + id + R"(","language":"en","text":"help"})";
    case 1:
    case 2: return R"({"eventType":"message","workspaceId":"ws-1","conversationId":")" + id + R"(","text":"any news?"})";
    default: return R"({"eventType":"conversationClosed","workspaceId":"ws-1","conversationId":")" + id + R"("})";
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 8080;
  double rate = 1000;
  double seconds = 10;
  int connections = 16;
  std::string token;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--port") port = std::atoi(value.c_str());
    else if (key == "--rate") rate = std::atof(value.c_str());
    else if (key == "--seconds") seconds = std::atof(value.c_str());
    else if (key == "--connections") connections = std::atoi(value.c_str());
    else if (key == "--token") token = value;
  }
  const auto total = static_cast<std::uint64_t>(rate * seconds);
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(connections));
  std::atomic<std::uint64_t> errors{0};
  const auto start = clock_type::now() + std::chrono::milliseconds(200);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      router::testing::HttpClient client(port, std::chrono::seconds(30));
      std::vector<std::pair<std::string, std::string>> headers;
      if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
      for (std::uint64_t k = static_cast<std::uint64_t>(c); k < total; k += static_cast<std::uint64_t>(connections)) {
        const auto intended = start + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(k) * 1e9 / rate));
        std::this_thread::sleep_until(intended);
        auto r = client.request("POST", "/v1/events", event_body(k), headers);
        const auto done = clock_type::now();
        if (r.status != 202) ++errors;
        latencies[static_cast<std::size_t>(c)].push_back(std::chrono::duration<double, std::milli>(done - intended).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto q = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))]; };
  std::printf("loadgen: %llu requests at %.0f/s over %d connections, %llu errors\n", static_cast<unsigned long long>(all.size()),
              rate, connections, static_cast<unsigned long long>(errors.load()));
  std::printf("latency (ms, from the intended send time): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", q(0.50),
              q(0.90), q(0.99), q(0.999), all.empty() ? 0.0 : all.back());
  return errors.load() == 0 ? 0 : 1;
}
