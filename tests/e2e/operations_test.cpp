// What a platform team runs: metrics that promtool accepts, a unit systemd accepts, reloads under load.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;
const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", "Bearer ops"}};

std::string run(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::array<char, 4096> buffer{};
  while (pipe != nullptr && std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  const int rc = pipe != nullptr ? pclose(pipe) : -1;
  if (status != nullptr) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

std::string config(const TempDir& dir, const std::string& extra = "") {
  return R"([server]
listen = "127.0.0.1:0"
[storage]
dir = ")" + dir.file("data") + R"("
fsync = "batch"
[[tokens]]
name = "ops"
token = "ops"
scopes = ["ingest", "operate", "admin"]
[[agents]]
id = "a1"
workspaces = ["ws-1"]
capacity = 1000
)" + std::string(catch_all_routing) + extra;
}

TEST(Metrics, AScrapePassesPromtoolAndNamesWhatSpecNineAsksFor) {
  TempDir dir;
  DaemonProcess daemon({"--config", dir.write("router.toml", config(dir))}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  for (int i = 0; i < 5; ++i) {
    http_request(port, "POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"m)" + std::to_string(i) + R"("})", auth);
  }
  http_request(port, "GET", "/v1/nothing", "", auth);
  auto scrape = http_request(port, "GET", "/metrics");
  ASSERT_EQ(scrape.status, 200);
  EXPECT_EQ(scrape.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string file = dir.write("metrics.txt", scrape.body);
  int status = -1;
  const std::string lint = run("promtool check metrics < " + file, &status);
  EXPECT_EQ(status, 0) << lint << "\n" << scrape.body;
  for (const char* family : {"escalation_router_events_in_total{source=\"api\",type=\"escalationRequested\"} 5",
                             "escalation_router_decisions_total{queue=\"general\",outcome=\"assigned\"} 5",
                             "escalation_router_queue_waiting", "escalation_router_queue_longest_wait_seconds",
                             "escalation_router_agents{status=\"available\"} 1", "escalation_router_deliveries_pending",
                             "escalation_router_journal_fsync_duration_seconds_bucket",
                             "escalation_router_http_request_duration_seconds_bucket{route=\"/v1/events\"",
                             "escalation_router_http_requests_total{route=\"/v1/events\",method=\"POST\",status=\"202\"} 5",
                             "escalation_router_open_escalations 5", "escalation_router_ready 1"}) {
    EXPECT_NE(scrape.body.find(family), std::string::npos) << family;
  }
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

TEST(Systemd, TheUnitPassesSystemdAnalyzeVerify) {
  TempDir dir;
  std::ifstream in(std::string(ROUTER_SOURCE_DIR) + "/systemd/escalation-router.service");
  std::ostringstream unit;
  unit << in.rdbuf();
  std::string text = unit.str();
  // Verify checks that the executables exist: point them at the one just built.
  for (std::size_t at; (at = text.find("/usr/local/bin/escalation-routerd")) != std::string::npos;) {
    text.replace(at, 33, ROUTER_DAEMON_PATH);
  }
  const std::string path = dir.write("escalation-router.service", text);
  int status = -1;
  const std::string out = run("systemd-analyze verify " + path, &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out.find("escalation-router.service:"), std::string::npos) << out;  // no warning about our unit
}

TEST(Reload, ReloadsUnderLoadLoseNothing) {
  TempDir dir;
  const std::string path = dir.write("router.toml", config(dir));
  DaemonProcess daemon({"--config", path}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      HttpClient client(port);
      for (int i = 0; !stop; ++i) {
        auto r = client.request("POST", "/v1/events",
                                R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"r)" + std::to_string(t) +
                                    "-" + std::to_string(i) + R"("})",
                                auth);
        if (r.status == 202) {
          ++accepted;
        } else {
          ++refused;
        }
      }
    });
  }
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(100ms);
    // Alternate the agents' capacity and a second queue, through SIGHUP and the admin API.
    dir.write("router.toml", config(dir, i % 2 ? "" : "[[agents]]\nid = \"a2\"\nworkspaces = [\"ws-1\"]\n"));
    if (i % 2 == 0) {
      daemon.signal(SIGHUP);
    } else {
      EXPECT_EQ(http_request(port, "POST", "/v1/admin/reload", "", auth).status, 200);
    }
  }
  std::this_thread::sleep_for(100ms);
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_GT(accepted.load(), 50);
  auto list = http_request(port, "GET", "/v1/escalations?status=all&limit=1", "", auth);
  EXPECT_EQ(list.status, 200);
  auto metrics = http_request(port, "GET", "/metrics");
  EXPECT_NE(metrics.body.find("escalation_router_open_escalations " + std::to_string(accepted.load()) + "\n"), std::string::npos)
      << "every accepted event is there";
  const std::string log = daemon.output();
  std::size_t reloads = 0;
  for (std::size_t at = log.find("reload: done"); at != std::string::npos; at = log.find("reload: done", at + 1)) ++reloads;
  EXPECT_EQ(reloads, 6u) << log;
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(10s), 0);
}

TEST(Examples, EveryExampleConfigurationPassesCheckConfig) {
  const std::string dir = std::string(ROUTER_SOURCE_DIR) + "/config/examples";
  int checked = 0;
  for (const char* name : {"widget.toml", "conduit.toml", "chatbot-thread.toml", "invent.toml", "canonical.toml"}) {
    auto result = run_daemon_command({"check-config", dir + "/" + name},
                                     {{"ROUTER_OPS_TOKEN", "x"}, {"WIDGET_API_KEY", "x"}, {"CONDUIT_TOKEN", "x"},
                                      {"CONDUIT_WEBHOOK_TOKEN", "x"}, {"THREADS_TOKEN", "x"}, {"THREADS_WEBHOOK_TOKEN", "x"},
                                      {"INVENT_TOKEN", "x"}, {"INVENT_WEBHOOK_TOKEN", "x"}, {"HOOKS_SECRET", "whsec_c2VjcmV0"},
                                      {"CALLBACK_SECRET", "whsec_c2VjcmV0"}});
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.output;
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

}  // namespace
}  // namespace router::testing
