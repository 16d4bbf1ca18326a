// Nothing acknowledged is lost: restarts and kill -9 under load, on the real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;

std::string config(const TempDir& dir, const char* fsync, const std::string& redis_url = "") {
  const std::string redis = redis_url.empty() ? "" : "[redis]\nurl = \"" + redis_url + "\"\ninput_stream = \"in\"\nclaim_idle = \"500ms\"\n";
  return redis + std::string(R"([server]
listen = "127.0.0.1:0"
[storage]
dir = ")") + dir.file("data") + R"("
fsync = ")" + fsync + R"("
snapshot_every = 150
[[tokens]]
name = "ops"
token = "ops-token"
scopes = ["ingest", "operate", "admin"]
[[agents]]
id = "a1"
workspaces = ["ws-1"]
capacity = 3
[[agents]]
id = "a2"
workspaces = ["ws-1"]
capacity = 2
)" + std::string(catch_all_routing);
}

const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", "Bearer ops-token"}};

std::string all_escalations(int port) { return list_all_escalations(port, auth); }

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The "sequence" of the last outbound event in a debug log.
long long last_sequence(const std::string& log) {
  const std::size_t at = log.rfind("\"sequence\":");
  return at == std::string::npos ? -1 : std::atoll(log.c_str() + at + 11);
}
long long first_sequence(const std::string& log) {
  const std::size_t at = log.find("\"sequence\":");
  return at == std::string::npos ? -1 : std::atoll(log.c_str() + at + 11);
}

TEST(Durability, ARestartKeepsEveryEscalationExactly) {
  TempDir dir;
  const std::string path = dir.write("router.toml", config(dir, "always") + "[log]\nlevel = \"debug\"\n");
  std::string before;
  {
    DaemonProcess daemon({"--config", path}, dir.file("run1.log"));
    const int port = daemon.wait_for_port();
    ASSERT_GT(port, 0) << daemon.output();
    for (int i = 0; i < 12; ++i) {
      auto r = http_request(port, "POST", "/v1/events",
                            R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c)" + std::to_string(i) +
                                R"(","priority":)" + std::to_string(i % 3) + R"(,"text":"hello"})",
                            auth);
      ASSERT_EQ(r.status, 202) << r.body;
    }
    ASSERT_EQ(http_request(port, "POST", "/v1/events",
                           R"({"eventId":"once","eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"dedupe"})", auth)
                  .status,
              202);
    before = all_escalations(port);
    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait_exit(5s), 0);
  }
  std::ifstream first_log(dir.file("run1.log"));
  std::ostringstream first_run;
  first_run << first_log.rdbuf();
  const long long sequence_before = last_sequence(first_run.str());
  ASSERT_GT(sequence_before, 0);
  DaemonProcess daemon({"--config", path}, dir.file("run2.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  EXPECT_EQ(all_escalations(port), before);
  EXPECT_NE(daemon.output().find("records replayed"), std::string::npos);
  // The dedupe window survived: the same eventId has no second effect.
  auto again = http_request(port, "POST", "/v1/events",
                            R"({"eventId":"once","eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"dedupe"})", auth);
  EXPECT_NE(again.body.find("\"duplicates\":1"), std::string::npos) << again.body;
  // It goes on from where it was: the outbound sequence continues without a gap or a repeat.
  auto r = http_request(port, "POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"after"})", auth);
  EXPECT_EQ(r.status, 202);
  ASSERT_TRUE(daemon.wait_for_output("\"sequence\":", 5s));
  EXPECT_EQ(first_sequence(daemon.output()), sequence_before + 1);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

class CrashUnderLoad : public ::testing::TestWithParam<std::tuple<unsigned, const char*>> {};

TEST_P(CrashUnderLoad, EveryAcknowledgedEventSurvivesKill9) {
  const unsigned seed = std::get<0>(GetParam());
  const char* fsync = std::get<1>(GetParam());
  TempDir dir;
  RedisServer redis;
  const std::string path = dir.write("router.toml", config(dir, fsync, redis.url()));
  std::set<std::string> acknowledged;
  std::set<std::string> resolved;
  std::vector<std::string> streamed;  // conversations written to the input stream (XADD acknowledged by Redis)
  {
    DaemonProcess daemon({"--config", path}, dir.file("run1.log"));
    const int port = daemon.wait_for_port();
    ASSERT_GT(port, 0) << daemon.output();
    std::mutex mutex;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (unsigned t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        HttpClient client(port, 2s);
        std::mt19937 rng(seed * 31 + t);
        for (int i = 0; !stop && i < 100000; ++i) {
          const std::string conversation = "t" + std::to_string(t) + "-" + std::to_string(i);
          auto r = client.request("POST", "/v1/events",
                                  R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":")" + conversation +
                                      R"(","priority":)" + std::to_string(rng() % 3) + "}",
                                  auth);
          if (r.status != 202) break;  // killed
          std::string id = r.body.substr(r.body.find("escalationIds\":[\"") + 17, 26);
          {
            std::lock_guard lock(mutex);
            acknowledged.insert(conversation);
          }
          if (rng() % 3 == 0) {
            auto resolve = client.request("POST", "/v1/escalations/" + id + "/resolve", R"({"resolution":"done"})", auth);
            if (resolve.status == 0) break;
            if (resolve.status == 200) {
              std::lock_guard lock(mutex);
              resolved.insert(conversation);
            }
          }
        }
      });
    }
    clients.emplace_back([&] {
      RedisClient producer(redis.port());
      for (int i = 0; !stop && i < 100000; ++i) {
        const std::string conversation = "r-" + std::to_string(i);
        auto id = producer.command({"XADD", "in", "*", "event",
                                    R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":")" + conversation + R"("})"});
        if (id.empty()) break;
        std::lock_guard lock(mutex);
        streamed.push_back(conversation);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    std::mt19937 rng(seed);
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    daemon.signal(SIGKILL);
    stop = true;
    for (auto& c : clients) c.join();
    ASSERT_TRUE(daemon.wait_exit(5s).has_value());
  }
  ASSERT_GT(acknowledged.size(), 20u) << "the load did not get going";
  ASSERT_GT(streamed.size(), 20u) << "the stream load did not get going";

  std::string first_replay;
  for (int run = 2; run <= 3; ++run) {
    DaemonProcess daemon({"--config", path}, dir.file("run" + std::to_string(run) + ".log"));
    const int port = daemon.wait_for_port(60s);
    ASSERT_GT(port, 0) << daemon.output();
    // Wait for the stream to be consumed completely (its pending entries included).
    RedisClient client(redis.port());
    for (int i = 0; i < 1000; ++i) {
      const auto pending = client.command({"XPENDING", "in", "router"});
      const auto lag = client.command({"XINFO", "GROUPS", "in"});
      const auto at = std::find(lag.begin(), lag.end(), "lag");
      if (!pending.empty() && pending[0] == "0" && at != lag.end() && at + 1 != lag.end() && *(at + 1) == "0") break;
      std::this_thread::sleep_for(20ms);
    }
    const std::string state = all_escalations(port);
    // Every entry written to the input stream took effect exactly once.
    for (const std::string& conversation : streamed) {
      const std::string needle = "\"conversationId\":\"" + conversation + "\"";
      const std::size_t first = state.find(needle);
      ASSERT_NE(first, std::string::npos) << conversation << " from the stream lost";
      ASSERT_EQ(state.find(needle, first + 1), std::string::npos) << conversation << " applied twice";
    }
    // Every acknowledged request took effect; every acknowledged resolve too.
    for (const std::string& conversation : acknowledged) {
      ASSERT_NE(state.find("\"conversationId\":\"" + conversation + "\""), std::string::npos) << conversation << " lost";
    }
    for (const std::string& conversation : resolved) {
      const std::size_t at = state.find("\"conversationId\":\"" + conversation + "\"");
      ASSERT_NE(state.find("\"status\":\"resolved\"", at), std::string::npos);
      EXPECT_LT(state.find("\"status\":\"resolved\"", at), state.find("\"conversationId\"", at + 1)) << conversation;
    }
    // No agent holds more than its capacity (closed escalations show assigneeId null), and each
    // agent's load is exactly what it holds.
    const std::size_t a1 = count(state, "\"assigneeId\":\"a1\"");
    const std::size_t a2 = count(state, "\"assigneeId\":\"a2\"");
    EXPECT_LE(a1, 3u);
    EXPECT_LE(a2, 2u);
    auto agents = http_request(port, "GET", "/v1/agents", "", auth);
    EXPECT_NE(agents.body.find("\"capacity\":3,\"load\":" + std::to_string(a1)), std::string::npos) << agents.body;
    EXPECT_NE(agents.body.find("\"capacity\":2,\"load\":" + std::to_string(a2)), std::string::npos) << agents.body;
    RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
    if (run == 2) {
      first_replay = state;
    } else {
      EXPECT_TRUE(state == first_replay) << "a second replay gave another state";
    }
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_exit(10s), 0) << daemon.output();
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, CrashUnderLoad,
                         ::testing::Values(std::make_tuple(1u, "always"), std::make_tuple(2u, "batch"),
                                           std::make_tuple(3u, "always"), std::make_tuple(4u, "batch")));

}  // namespace
}  // namespace router::testing
