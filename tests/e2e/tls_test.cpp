// HTTPS on the listener (server.tls_cert / tls_key), with a certificate made here and curl as the client.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <cstdio>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  pclose(pipe);
  return out;
}

TEST(Tls, TheListenerServesHttpsWithTls12OrNewerOnly) {
  TempDir dir;
  const std::string cert = dir.file("cert.pem");
  const std::string key = dir.file("key.pem");
  run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
      " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1");
  const std::string config = "[server]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"" + cert + "\"\ntls_key = \"" + key +
                             "\"\n[storage]\ndir = \"" + dir.file("data") + "\"\n";
  DaemonProcess daemon({"--config", dir.write("router.toml", config)}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port(20s, false);
  ASSERT_GT(port, 0) << daemon.output();
  ASSERT_TRUE(daemon.wait_for_output(" ready", 20s)) << daemon.output();
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/healthz";

  EXPECT_EQ(run("curl -sS --cacert " + cert + " " + url), R"({"status":"ok"})");
  EXPECT_NE(run("curl -sS " + url).find("certificate"), std::string::npos);  // untrusted without the CA
  EXPECT_EQ(run("curl -sS -o /dev/null -w '%{http_code}' --cacert " + cert + " --tlsv1.1 --tls-max 1.1 " + url).find("200"),
            std::string::npos);
  // Keep-alive over TLS: two requests, one connection.
  const std::string two = run("curl -sS --cacert " + cert + " " + url + " " + url);
  EXPECT_EQ(two, R"({"status":"ok"}{"status":"ok"})");
  // Plain HTTP to the TLS port gets no HTTP answer.
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 0);
  EXPECT_EQ(run("curl -sS --cacert " + cert + " " + url), R"({"status":"ok"})");  // still healthy

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0) << daemon.output();
}

TEST(Tls, AnUnreadableKeyIsAStartUpError) {
  TempDir dir;
  const std::string cert = dir.write("cert.pem", "not a certificate");
  const std::string key = dir.write("key.pem", "not a key");
  const std::string config = "[server]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"" + cert + "\"\ntls_key = \"" + key +
                             "\"\n[storage]\ndir = \"" + dir.file("data") + "\"\n";
  auto result = run_daemon_command({"--config", dir.write("router.toml", config)});
  EXPECT_EQ(result.exit_code, 1) << result.output;
}

}  // namespace
}  // namespace router::testing
