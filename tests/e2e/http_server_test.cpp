// HTTP server behaviour over real sockets: limits, keep-alive, pipelining, error bodies.
#include <gtest/gtest.h>
#include <signal.h>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;

class HttpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string config = dir_.write("router.toml", "[server]\nlisten = \"127.0.0.1:0\"\nmax_body_bytes = 2048\n"
                                                         "header_timeout = \"1s\"\n[storage]\ndir = \"" +
                                                             dir_.file("data") + "\"\n");
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", config}, dir_.file("daemon.log"));
    port_ = daemon_->wait_for_port();
    ASSERT_GT(port_, 0) << daemon_->output();
  }
  void TearDown() override {
    daemon_->signal(SIGTERM);
    EXPECT_EQ(daemon_->wait_exit(5s), 0) << daemon_->output();
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  int port_ = 0;
};

TEST_F(HttpServer, UnknownPathIs404WithTheErrorModel) {
  auto response = http_request(port_, "GET", "/v1/nothing-here");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"error":{"code":"NOT_FOUND","message":"no route for GET /v1/nothing-here"}})");
}

TEST_F(HttpServer, WrongMethodIs405WithAllow) {
  auto response = http_request(port_, "POST", "/healthz", "{}");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD");
}

TEST_F(HttpServer, KeepAliveServesManyRequestsOnOneConnection) {
  HttpClient client(port_);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(client.request("GET", "/healthz").status, 200) << i;
  }
}

TEST_F(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  HttpClient client(port_);
  ASSERT_TRUE(client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 200);
  EXPECT_EQ(client.read_response().status, 404);
  auto third = client.read_response();
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, R"({"status":"ready"})");
}

TEST_F(HttpServer, OversizeBodyIs413WithoutReadingIt) {
  HttpClient client(port_);
  // Announce 1 MiB and send none of it: the answer must not wait for the body.
  ASSERT_TRUE(client.send_raw("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: 1048576\r\n\r\n"));
  auto response = client.read_response();
  EXPECT_EQ(response.status, 413);
  EXPECT_NE(response.body.find("PAYLOAD_TOO_LARGE"), std::string::npos);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpServer, OversizeChunkedBodyIs413) {
  HttpClient client(port_);
  std::string chunk(4096, 'x');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  ASSERT_TRUE(client.send_raw("POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                              std::string(size) + "\r\n" + chunk + "\r\n0\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 413);
}

TEST_F(HttpServer, ExpectContinueGetsAnInterimResponse) {
  HttpClient client(port_);
  ASSERT_TRUE(client.send_raw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  // read_response() skips the 100 Continue; the final answer comes after the body.
  ASSERT_TRUE(client.send_raw("{}"));
  EXPECT_EQ(client.read_response().status, 405);
}

TEST_F(HttpServer, MalformedRequestIs400AndClosed) {
  HttpClient client(port_);
  ASSERT_TRUE(client.send_raw("GARBAGE\r\n\r\n"));
  auto response = client.read_response();
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("INVALID_ARGUMENT"), std::string::npos);
}

TEST_F(HttpServer, OversizeHeadersAre400) {
  HttpClient client(port_);
  ASSERT_TRUE(client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 400);
}

TEST_F(HttpServer, SlowHeadersTimeOutAndTheServerStaysHealthy) {
  HttpClient slow(port_);
  ASSERT_TRUE(slow.send_raw("GET /healthz HTTP/1.1\r\n"));  // and never finish (header_timeout = 1s)
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_EQ(http_request(port_, "GET", "/healthz").status, 200);
}

TEST_F(HttpServer, ConnectionCloseRequestIsHonoured) {
  HttpClient client(port_);
  ASSERT_TRUE(client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Connection"), "close");
  EXPECT_TRUE(client.closed_by_peer());
}

}  // namespace
}  // namespace router::testing
