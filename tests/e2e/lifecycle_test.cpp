// The built daemon as a process: start, probe, reload, stop.
#include <gtest/gtest.h>
#include <signal.h>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;

std::string minimal_config(const TempDir& dir, const std::string& extra = "") {
  return "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\ndir = \"" + dir.file("data") + "\"\n" + extra;
}

TEST(DaemonLifecycle, ServesHealthAndReadinessThenExitsZeroOnSigterm) {
  TempDir dir;
  const std::string config = dir.write("router.toml", minimal_config(dir));
  DaemonProcess daemon({"--config", config}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();

  auto health = http_request(port, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  EXPECT_EQ(health.header("Content-Type"), "application/json");
  auto ready = http_request(port, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200);

  daemon.signal(SIGTERM);
  auto code = daemon.wait_exit(5s);
  ASSERT_TRUE(code.has_value()) << "still running 5 s after SIGTERM";
  EXPECT_EQ(*code, 0) << daemon.output();
  EXPECT_TRUE(daemon.wait_for_output("stopped", 1s)) << daemon.output();
}

TEST(DaemonLifecycle, SigintAlsoDrainsAndExitsZero) {
  TempDir dir;
  DaemonProcess daemon({"--config", dir.write("router.toml", minimal_config(dir))}, dir.file("daemon.log"));
  ASSERT_GT(daemon.wait_for_port(), 0) << daemon.output();
  daemon.signal(SIGINT);
  EXPECT_EQ(daemon.wait_exit(5s), 0) << daemon.output();
}

TEST(DaemonLifecycle, SigtermClosesIdleKeepAliveConnectionsAndExitsPromptly) {
  TempDir dir;
  DaemonProcess daemon({"--config", dir.write("router.toml", minimal_config(dir))}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0);
  HttpClient idle(port);
  ASSERT_EQ(idle.request("GET", "/healthz").status, 200);  // keep-alive: the connection stays open
  daemon.signal(SIGTERM);
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_EQ(daemon.wait_exit(5s), 0) << daemon.output();
}

TEST(DaemonLifecycle, SigtermLetsAnInFlightRequestFinishWithConnectionClose) {
  TempDir dir;
  DaemonProcess daemon({"--config", dir.write("router.toml", minimal_config(dir))}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0);
  HttpClient client(port);
  ASSERT_TRUE(client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // headers not finished yet
  std::this_thread::sleep_for(100ms);
  daemon.signal(SIGTERM);
  ASSERT_TRUE(daemon.wait_for_output("draining", 5s));
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(daemon.running()) << "exited before the in-flight request was answered";
  ASSERT_TRUE(client.send_raw("\r\n"));
  auto response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Connection"), "close");
  EXPECT_EQ(daemon.wait_exit(5s), 0) << daemon.output();
}

TEST(DaemonLifecycle, SighupWithBadConfigKeepsRunningAndLogsTheError) {
  TempDir dir;
  const std::string config = dir.write("router.toml", minimal_config(dir));
  DaemonProcess daemon({"--config", config}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0);
  dir.write("router.toml", minimal_config(dir, "[log]\nlevle = \"debug\"\n"));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_output("reload rejected", 5s)) << daemon.output();
  EXPECT_NE(daemon.output().find("router.toml:6:1: unknown key 'log.levle'"), std::string::npos) << daemon.output();
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);

  dir.write("router.toml", minimal_config(dir, "[log]\nlevel = \"debug\"\n"));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_output("reload: done", 5s)) << daemon.output();
  EXPECT_EQ(http_request(port, "GET", "/readyz").status, 200);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

TEST(DaemonLifecycle, RefusesToStartOnABadConfigWithFileLineColumn) {
  TempDir dir;
  const std::string config = dir.write("router.toml", "[server]\nthreads = \"two\"\n");
  auto result = run_daemon_command({"--config", config});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find(config + ":2:11: 'server.threads' must be an integer"), std::string::npos)
      << result.output;
}

TEST(DaemonLifecycle, FailsCleanlyWhenThePortIsTaken) {
  TempDir dir;
  DaemonProcess first({"--config", dir.write("a.toml", minimal_config(dir))}, dir.file("a.log"));
  const int port = first.wait_for_port();
  ASSERT_GT(port, 0);
  const std::string taken = "[server]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n[storage]\ndir = \"" +
                            dir.file("data2") + "\"\n";
  auto result = run_daemon_command({"--config", dir.write("b.toml", taken)});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << result.output;
}

TEST(DaemonLifecycle, JsonLogFormatWritesOneJsonObjectPerLine) {
  TempDir dir;
  DaemonProcess daemon({"--config", dir.write("router.toml", minimal_config(dir, "[log]\nformat = \"json\"\n"))},
                       dir.file("daemon.log"));
  ASSERT_GT(daemon.wait_for_port(), 0);
  daemon.signal(SIGTERM);
  ASSERT_EQ(daemon.wait_exit(5s), 0);
  const std::string output = daemon.output();
  std::size_t lines = 0;
  std::size_t start = 0;
  while (start < output.size()) {
    const std::size_t end = output.find('\n', start);
    const std::string line = output.substr(start, end - start);
    start = end == std::string::npos ? output.size() : end + 1;
    if (line.empty()) {
      continue;
    }
    ++lines;
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find("\"time\":\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"level\":\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"msg\":\""), std::string::npos) << line;
  }
  EXPECT_GE(lines, 3u) << output;
}

TEST(DaemonCommandLine, PrintsTheVersion) {
  auto result = run_daemon_command({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output.rfind("escalation-routerd ", 0), 0u) << result.output;
}

TEST(DaemonCommandLine, RejectsUnknownArguments) {
  auto result = run_daemon_command({"--frobnicate"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("unknown argument \"--frobnicate\""), std::string::npos);
}

}  // namespace
}  // namespace router::testing
