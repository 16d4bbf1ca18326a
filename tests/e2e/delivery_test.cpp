// Platform callbacks end to end: the real binary calling a real local HTTP server written here.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "adapters/http/auth.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/recording_server.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;
const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", "Bearer ops"}};
const char* const callback_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string seed(const std::string& name) {
  std::ifstream in(std::string(ROUTER_SOURCE_DIR) + "/tests/data/seeds/" + name);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string config(const TempDir& dir, const std::string& url, const std::string& extra_sources = "") {
  return R"([server]
listen = "127.0.0.1:0"
[storage]
dir = ")" + dir.file("data") + R"("
fsync = "always"
[delivery]
initial_backoff = "50ms"
max_attempts = 4
[[tokens]]
name = "ops"
token = "ops"
scopes = ["ingest", "operate"]
[[sources]]
name = "widget-main"
format = "widget"
workspace = "ws-1"
auth = { type = "widget", token = "in-key", bot_id = "bot-1" }
callback = { url = ")" + url + R"(", token = "cb-key", bot_id = "bot-1" }
[[sources]]
name = "conduit-main"
format = "conduit"
auth = { type = "bearer", token = "conduit-in" }
callback = { url = ")" + url + R"(", token = "conduit-cb" }
[[sources]]
name = "invent"
format = "invent"
workspace = "ws-1"
auth = { type = "bearer", token = "invent-in" }
callback = { url = ")" + url + R"(", token = "invent-cb" }
[[sources]]
name = "threads"
format = "chatbot-thread"
workspace = "ws-1"
auth = { type = "bearer", token = "threads-in" }
callback = { url = ")" + url + R"(", token = "threads-cb" }
[[sources]]
name = "hooks"
format = "canonical"
auth = { type = "bearer", token = "hooks-in" }
callback = { url = ")" + url + R"(/hooks", secret = ")" + callback_secret + R"(" }
)" + extra_sources + R"(
[[agents]]
id = "minh"
name = "Minh"
avatar = "https://example.com/minh.png"
workspaces = ["ws-1", "j57demo8f8x7c9v0n2q4r6t8y1u3i5o"]
capacity = 50
external_ids = { conduit-main = "m48k3v7p2q9x5t1w8r6n4j0y3u2i5o7a", invent = "member-minh" }
)" + std::string(catch_all_routing);
}

std::string canonical(const std::string& conversation, const std::string& source) {
  return R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":")" + conversation +
         R"(","source":")" + source + R"("})";
}

std::vector<RecordedRequest> to(const RecordingServer& server, const std::string& needle) {
  std::vector<RecordedRequest> out;
  for (const auto& r : server.requests()) {
    if (r.body.find(needle) != std::string::npos || r.target.find(needle) != std::string::npos) out.push_back(r);
  }
  return out;
}

class Delivery : public ::testing::Test {
 protected:
  void start(const std::string& extra = "") {
    daemon_.reset();
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", dir_.write("router.toml", config(dir_, server_.url(), extra))},
                                              dir_.file("daemon-" + std::to_string(++starts_) + ".log"));
    port_ = daemon_->wait_for_port();
    ASSERT_GT(port_, 0) << daemon_->output();
  }
  void TearDown() override {
    if (daemon_) {
      daemon_->signal(SIGTERM);
      EXPECT_EQ(daemon_->wait_exit(10s), 0) << daemon_->output();
    }
  }
  std::string escalation_of(const std::string& conversation, const std::string& workspace = "ws-1") {
    auto r = http_request(port_, "GET", "/v1/escalations?workspaceId=" + workspace + "&conversationId=" + conversation, "", auth);
    const std::size_t at = r.body.find("\"id\":\"");
    return at == std::string::npos ? "" : r.body.substr(at + 6, 26);
  }

  TempDir dir_;
  RecordingServer server_;
  std::unique_ptr<DaemonProcess> daemon_;
  int port_ = 0;
  int starts_ = 0;
};

TEST_F(Delivery, WidgetCallsCarryTheApiKeyBotIdAndTheSeedsBody) {
  start();
  ASSERT_EQ(http_request(port_, "POST", "/v1/webhooks/widget-main",
                         R"({"platformConversationId":"123456789","eventType":"escalationRequested","text":"help"})",
                         {{"Authorization", "in-key"}, {"botid", "bot-1"}})
                .status,
            202);
  ASSERT_TRUE(server_.wait_for(1, 5s)) << daemon_->output();
  const RecordedRequest r = server_.requests().front();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/agent/converse/send-message-to-widget");
  EXPECT_EQ(r.header("Authorization"), "cb-key");
  EXPECT_EQ(r.header("botid"), "bot-1");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Idempotency-Key").size(), 26u);
  EXPECT_EQ(r.body, R"({"platformConversationId":"123456789","eventType":"escalationSuccess","agent":"Minh","agentAvatar":"https://example.com/minh.png"})");
  // An agent reply goes to the widget as a message.
  ASSERT_EQ(http_request(port_, "POST", "/v1/escalations/" + escalation_of("123456789") + "/send",
                         R"({"agentId":"minh","content":"Chào bạn"})", auth)
                .status,
            200);
  ASSERT_TRUE(server_.wait_for(2, 5s));
  EXPECT_EQ(server_.requests()[1].body, R"({"platformConversationId":"123456789","eventType":"message","text":"Chào bạn","agent":"Minh"})");
}

TEST_F(Delivery, ConduitInventAndThreadCallsFollowTheirSeeds) {
  start();
  ASSERT_EQ(http_request(port_, "POST", "/v1/webhooks/conduit-main", seed("conduit_escalation.json"), {{"Authorization", "Bearer conduit-in"}}).status, 202);
  ASSERT_TRUE(server_.wait_for(1, 5s)) << daemon_->output();
  auto conduit = to(server_, "/v1/escalations/");
  ASSERT_EQ(conduit.size(), 1u);
  EXPECT_EQ(conduit[0].method, "POST");
  EXPECT_EQ(conduit[0].target, "/v1/escalations/k578dfetqv2xv0b7bt9c6m4j5s7n8p1r/assign");
  EXPECT_EQ(conduit[0].header("Authorization"), "Bearer conduit-cb");
  EXPECT_EQ(conduit[0].body, R"({"assignee_id":"m48k3v7p2q9x5t1w8r6n4j0y3u2i5o7a"})");

  std::string handed = seed("invent_chat_state.json");
  handed.replace(handed.find("\"ai_enabled\": true"), 18, "\"ai_enabled\": false");
  const std::size_t user = handed.find("\"assigned_user\": {");
  handed.replace(user, handed.find('}', user) + 1 - user, "\"assigned_user\": null");
  handed.replace(handed.find("\"id\": \"<string>\""), 16, "\"id\": \"chat-9\"");
  ASSERT_EQ(http_request(port_, "POST", "/v1/webhooks/invent", handed, {{"Authorization", "Bearer invent-in"}}).status, 202);
  ASSERT_TRUE(server_.wait_for(2, 5s));
  auto invent = to(server_, "/chats/");
  ASSERT_EQ(invent.size(), 1u);
  EXPECT_EQ(invent[0].method, "PATCH");
  EXPECT_EQ(invent[0].target, "/chats/chat-9/state/assign");
  EXPECT_EQ(invent[0].body, R"({"member_id":"member-minh"})");
  ASSERT_EQ(http_request(port_, "POST", "/v1/escalations/" + escalation_of("chat-9") + "/release", "", auth).status, 200);
  ASSERT_TRUE(server_.wait_for(3, 5s));
  EXPECT_EQ(to(server_, "/chats/").back().body, R"({"member_id":null})");

  std::string thread = seed("chatbot_thread_response.json");
  thread.replace(thread.find("\"id\": \"<string>\""), 16, "\"id\": \"thread-1\"");
  thread.replace(thread.find("\"chatbotId\": \"<string>\""), 23, "\"chatbotId\": \"bot-77\"");
  ASSERT_EQ(http_request(port_, "POST", "/v1/webhooks/threads", thread, {{"Authorization", "Bearer threads-in"}}).status, 202);
  ASSERT_EQ(http_request(port_, "POST", "/v1/escalations/" + escalation_of("thread-1") + "/resolve", "{}", auth).status, 200);
  ASSERT_TRUE(server_.wait_for(4, 5s));
  auto toggles = to(server_, "/escalate");
  ASSERT_EQ(toggles.size(), 1u);
  EXPECT_EQ(toggles[0].method, "PATCH");
  EXPECT_EQ(toggles[0].target, "/v1/chatting/bot-77/thread/thread-1/escalate");
  EXPECT_EQ(toggles[0].header("Authorization"), "Bearer threads-cb");
}

TEST_F(Delivery, GenericWebhooksAreSignedPerStandardWebhooks) {
  start();
  ASSERT_EQ(http_request(port_, "POST", "/v1/events", canonical("gen-1", "hooks"), auth).status, 202);
  ASSERT_TRUE(server_.wait_for(2, 5s)) << daemon_->output();  // escalationCreated, escalationSuccess
  const RecordedRequest r = server_.requests().front();
  EXPECT_EQ(r.target, "/hooks");
  EXPECT_NE(r.body.find(R"("eventType":"escalationCreated")"), std::string::npos);
  EXPECT_EQ(r.header("webhook-id"), r.header("Idempotency-Key"));
  EXPECT_NE(r.body.find("\"eventId\":\"" + r.header("webhook-id") + "\""), std::string::npos);
  adapters::http::Request as_received;
  as_received.body = r.body;
  as_received.headers = {{"webhook-id", r.header("webhook-id")}, {"webhook-timestamp", r.header("webhook-timestamp")},
                         {"webhook-signature", r.header("webhook-signature")}};
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_TRUE(adapters::http::verify_standard_webhook(callback_secret, as_received, now).ok);
}

TEST_F(Delivery, AFailingPlatformGetsRetriesWithGrowingDelaysThenADeadLetterThatCanBeRetried) {
  std::atomic<bool> healthy{false};
  server_.respond_with([&](const RecordedRequest&) { return ScriptedResponse{healthy ? 200 : 500, "", "{\"error\":\"down\"}"}; });
  start();
  ASSERT_EQ(http_request(port_, "POST", "/v1/events", canonical("fail-1", "conduit-main"), auth).status, 202);
  // conduit-main has no externalId for this conversation: nothing to call. Use the widget instead.
  ASSERT_EQ(http_request(port_, "POST", "/v1/events", canonical("fail-2", "widget-main"), auth).status, 202);
  ASSERT_TRUE(server_.wait_for(4, 10s)) << daemon_->output();
  std::this_thread::sleep_for(300ms);
  auto attempts = server_.requests();
  ASSERT_EQ(attempts.size(), 4u);  // max_attempts = 4, then dead
  for (std::size_t i = 1; i < attempts.size(); ++i) {
    EXPECT_EQ(attempts[i].header("Idempotency-Key"), attempts[0].header("Idempotency-Key"));
  }
  const auto gap = [&](std::size_t i) { return std::chrono::duration_cast<std::chrono::milliseconds>(attempts[i].at - attempts[i - 1].at).count(); };
  EXPECT_GE(gap(1), 35);   // 50 ms, jittered
  EXPECT_GE(gap(2), 75);   // 100 ms
  EXPECT_GE(gap(3), 155);  // 200 ms
  EXPECT_GT(gap(3), gap(1));
  auto dead = http_request(port_, "GET", "/v1/deliveries?state=dead", "", auth);
  ASSERT_NE(dead.body.find("\"state\":\"dead\""), std::string::npos) << dead.body;
  EXPECT_NE(dead.body.find("HTTP 500"), std::string::npos);
  EXPECT_NE(daemon_->output().find("delivery dead-lettered"), std::string::npos);
  const std::size_t at = dead.body.find("\"id\":\"");
  const std::string id = dead.body.substr(at + 6, dead.body.find('"', at + 6) - at - 6);
  healthy = true;
  auto retried = http_request(port_, "POST", "/v1/deliveries/" + id + "/retry", "", auth);
  EXPECT_EQ(retried.status, 200) << retried.body;
  ASSERT_TRUE(server_.wait_for(5, 5s));
  EXPECT_EQ(server_.requests().back().header("Idempotency-Key"), id);
  // The peer has it; the daemon forgets the delivery once it has read the 200.
  for (int i = 0; i < 250 && http_request(port_, "GET", "/v1/deliveries?state=all", "", auth).body != R"({"data":[]})"; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(http_request(port_, "POST", "/v1/deliveries/" + id + "/retry", "", auth).status, 404);  // delivered: gone
}

TEST_F(Delivery, RetryAfterIsHonoured) {
  std::atomic<int> calls{0};
  server_.respond_with([&](const RecordedRequest&) { return ++calls == 1 ? ScriptedResponse{503, "1", "{}"} : ScriptedResponse{}; });
  start();
  ASSERT_EQ(http_request(port_, "POST", "/v1/events", canonical("ra-1", "widget-main"), auth).status, 202);
  ASSERT_TRUE(server_.wait_for(2, 5s));
  auto r = server_.requests();
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(r[1].at - r[0].at).count(), 950);
}

TEST_F(Delivery, OrderPerConversationHoldsUnderRetries) {
  std::atomic<int> failures{0};
  server_.respond_with([&](const RecordedRequest& r) {
    // The first call of the conversation fails twice.
    if (r.body.find("escalationSuccess") != std::string::npos && failures < 2) {
      ++failures;
      return ScriptedResponse{502, "", "{}"};
    }
    return ScriptedResponse{};
  });
  start();
  ASSERT_EQ(http_request(port_, "POST", "/v1/events", canonical("ord-1", "widget-main"), auth).status, 202);
  const std::string id = escalation_of("ord-1");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(http_request(port_, "POST", "/v1/escalations/" + id + "/send", "{\"agentId\":\"minh\",\"content\":\"m" + std::to_string(i) + "\"}", auth).status, 200);
  }
  ASSERT_TRUE(server_.wait_for(8, 10s)) << daemon_->output();
  std::vector<std::string> delivered;
  for (const auto& r : server_.requests()) {
    if (r.body.find("escalationSuccess") != std::string::npos) delivered.push_back("success");
    for (int i = 0; i < 5; ++i) {
      if (r.body.find("\"text\":\"m" + std::to_string(i) + "\"") != std::string::npos) delivered.push_back("m" + std::to_string(i));
    }
  }
  EXPECT_EQ(delivered, (std::vector<std::string>{"success", "success", "success", "m0", "m1", "m2", "m3", "m4"}));
}

TEST_F(Delivery, PendingDeliveriesSurviveARestart) {
  std::atomic<bool> healthy{false};
  // Down, and asking for a minute's patience: the delivery is still pending when the daemon stops.
  server_.respond_with([&](const RecordedRequest&) { return healthy ? ScriptedResponse{} : ScriptedResponse{503, "60", "{}"}; });
  start();
  ASSERT_EQ(http_request(port_, "POST", "/v1/events", canonical("survive-1", "widget-main"), auth).status, 202);
  ASSERT_TRUE(server_.wait_for(1, 5s));
  auto pending = http_request(port_, "GET", "/v1/deliveries?state=pending", "", auth);
  ASSERT_NE(pending.body.find("survive-1"), std::string::npos) << pending.body;
  const std::string key = server_.requests().front().header("Idempotency-Key");
  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait_exit(10s), 0);
  healthy = true;
  const std::size_t before = server_.requests().size();
  start();
  ASSERT_TRUE(server_.wait_for(before + 1, 10s)) << daemon_->output();
  EXPECT_EQ(server_.requests().back().header("Idempotency-Key"), key);
  std::string left;
  for (int i = 0; i < 250 && (left = http_request(port_, "GET", "/v1/deliveries?state=all", "", auth).body) != R"({"data":[]})"; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(left, R"({"data":[]})");
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  while (pipe != nullptr && std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  if (pipe != nullptr) pclose(pipe);
  return out;
}

TEST(DeliveryTls, AnHttpsPlatformIsReachedWithItsCaAndRefusedWithout) {
  TempDir dir;
  const std::string cert = dir.file("cert.pem");
  const std::string key = dir.file("key.pem");
  run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
      " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1");
  const std::string port_file = dir.file("peer.port");
  const std::string log = dir.file("peer.log");
  const pid_t peer = [&] {
    const std::string command = "python3 " + std::string(ROUTER_SOURCE_DIR) + "/tests/support/https_peer.py " + cert + " " + key +
                                " " + port_file + " " + log + " >/dev/null 2>&1 & echo $!";
    return static_cast<pid_t>(std::atoi(run(command).c_str()));
  }();
  std::string peer_port;
  for (int i = 0; i < 200 && peer_port.empty(); ++i) {
    std::ifstream in(port_file);
    std::getline(in, peer_port);
    if (peer_port.empty()) std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(peer_port.empty());
  const std::string url = "https://127.0.0.1:" + peer_port;
  const std::string sources = "[[sources]]\nname = \"secure\"\nformat = \"widget\"\nworkspace = \"ws-1\"\n"
                              "auth = { type = \"widget\", token = \"k\", bot_id = \"b\" }\n"
                              "callback = { url = \"" + url + "\", token = \"t\", bot_id = \"b\", ca_file = \"" + cert + "\" }\n"
                              "[[sources]]\nname = \"untrusted\"\nformat = \"widget\"\nworkspace = \"ws-1\"\n"
                              "auth = { type = \"widget\", token = \"k2\", bot_id = \"b\" }\n"
                              "callback = { url = \"" + url + "\", token = \"t\", bot_id = \"b\" }\n";
  DaemonProcess daemon({"--config", dir.write("router.toml", config(dir, "http://127.0.0.1:1", sources))}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  ASSERT_EQ(http_request(port, "POST", "/v1/events", canonical("tls-ok", "secure"), auth).status, 202);
  ASSERT_EQ(http_request(port, "POST", "/v1/events", canonical("tls-bad", "untrusted"), auth).status, 202);
  std::string logged;
  for (int i = 0; i < 250 && logged.find("escalationSuccess") == std::string::npos; ++i) {
    std::ifstream in(log);
    std::ostringstream text;
    text << in.rdbuf();
    logged = text.str();
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(logged.find("/agent/converse/send-message-to-widget"), std::string::npos) << daemon.output();
  std::this_thread::sleep_for(500ms);
  auto deliveries = http_request(port, "GET", "/v1/deliveries?state=all", "", auth);
  EXPECT_NE(deliveries.body.find("tls-bad"), std::string::npos) << deliveries.body;
  EXPECT_NE(deliveries.body.find("certificate verify failed"), std::string::npos) << deliveries.body;
  EXPECT_EQ(deliveries.body.find("tls-ok"), std::string::npos) << "delivered: no longer listed";
  EXPECT_NE(daemon.output().find("TLS handshake"), std::string::npos);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(10s), 0);
  ::kill(peer, SIGTERM);
}

}  // namespace
}  // namespace router::testing
