// The HTTP API end to end: the real binary, real sockets, the seeds' own payloads.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "adapters/crypto/standard_webhooks.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

const char* const conduit_workspace = "j57demo8f8x7c9v0n2q4r6t8y1u3i5o";
const char* const hmac_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string seed(const std::string& name) {
  std::ifstream in(std::string(ROUTER_SOURCE_DIR) + "/tests/data/seeds/" + name);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string config(const TempDir& dir) {
  return R"([server]
listen = "127.0.0.1:0"
max_body_bytes = 65536
[storage]
dir = ")" + dir.file("data") + R"("
[[tokens]]
name = "ops"
token = "ops-token"
scopes = ["ingest", "operate", "admin"]
[[tokens]]
name = "ws2"
token = "ws2-token"
scopes = ["ingest", "operate"]
workspaces = ["ws-2"]
[[tokens]]
name = "ingest-only"
token = "ingest-token"
scopes = ["ingest"]
[[sources]]
name = "hooks"
format = "canonical"
workspace = "ws-1"
auth = { type = "hmac", secret = ")" + std::string(hmac_secret) + R"(" }
[[sources]]
name = "widget-main"
format = "widget"
workspace = "ws-1"
auth = { type = "widget", token = "widget-key", bot_id = "bot-1" }
[[sources]]
name = "conduit-main"
format = "conduit"
auth = { type = "bearer", token = "conduit-token" }
[[sources]]
name = "threads"
format = "chatbot-thread"
workspace = "ws-1"
auth = { type = "bearer", token = "threads-token" }
[[sources]]
name = "invent"
format = "invent"
workspace = "ws-1"
auth = { type = "bearer", token = "invent-token" }
[[agents]]
id = "minh"
name = "Minh"
workspaces = ["ws-1", ")" + conduit_workspace + R"("]
capacity = 20
[[agents]]
id = "lan"
name = "Lan"
workspaces = ["ws-1"]
capacity = 20
status = "away"
[[agents]]
id = "hoa"
workspaces = ["ws-2"]
capacity = 5
)" + std::string(catch_all_routing);
}

class Api : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonProcess>(std::vector<std::string>{"--config", dir_.write("router.toml", config(dir_))},
                                              dir_.file("daemon.log"));
    port_ = daemon_->wait_for_port();
    ASSERT_GT(port_, 0) << daemon_->output();
  }
  void TearDown() override {
    EXPECT_EQ(http_request(port_, "GET", "/healthz").status, 200) << "unhealthy after the test";
    daemon_->signal(SIGTERM);
    EXPECT_EQ(daemon_->wait_exit(5s), 0) << daemon_->output();
  }

  HttpResult call(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& token = "ops-token", Headers headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return http_request(port_, method, path, body, headers);
  }

  HttpResult event(const std::string& json, const std::string& token = "ops-token") {
    return call("POST", "/v1/events", json, token);
  }

  // The open escalation of a conversation, as the list API shows it ("" if none).
  std::string escalation_of(const std::string& conversation, const std::string& workspace = "ws-1") {
    auto r = call("GET", "/v1/escalations?status=open&workspaceId=" + workspace + "&conversationId=" + conversation);
    const std::size_t at = r.body.find("\"id\":\"");
    return at == std::string::npos ? "" : r.body.substr(at + 6, 26);
  }

  std::string request_json(const std::string& conversation, const std::string& workspace = "ws-1") {
    return R"({"eventType":"escalationRequested","workspaceId":")" + workspace + R"(","conversationId":")" + conversation +
           R"(","language":"vi","contact":{"id":"cust-7","name":"Nguyen Van A"},"text":"Tôi muốn khiếu nại..."})";
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  int port_ = 0;
};

TEST_F(Api, ACanonicalEventIsRoutedAndShownByTheOperatorApi) {
  auto r = event(request_json("conv-1"));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.body.find(R"("accepted":1)"), std::string::npos);
  const std::string id = escalation_of("conv-1");
  ASSERT_EQ(id.size(), 26u);
  auto detail = call("GET", "/v1/escalations/" + id);
  ASSERT_EQ(detail.status, 200);
  EXPECT_NE(detail.body.find(R"("status":"assigned")"), std::string::npos) << detail.body;
  EXPECT_NE(detail.body.find(R"("assigneeId":"minh")"), std::string::npos);
  EXPECT_NE(detail.body.find(R"("messages":[{"role":"customer","content":"Tôi muốn khiếu nại...")"), std::string::npos);
  EXPECT_NE(detail.body.find(R"("trail":[{)"), std::string::npos);
  EXPECT_NE(detail.body.find(R"("previousEscalations":[])"), std::string::npos);
}

TEST_F(Api, ABatchIsAllOrNothingAndNamesTheBadEvent) {
  auto bad = event(R"({"events":[)" + request_json("b1") + R"(,{"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"b2","priority":"high"}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("events[1].priority: must be an integer"), std::string::npos) << bad.body;
  EXPECT_EQ(escalation_of("b1"), "");  // nothing applied
  auto good = event(R"({"events":[)" + request_json("b1") + "," + request_json("b2") + "]}");
  EXPECT_EQ(good.status, 202);
  EXPECT_NE(good.body.find(R"("accepted":2)"), std::string::npos);
  EXPECT_NE(escalation_of("b2"), "");
}

TEST_F(Api, ADuplicateEventIdIsAcknowledgedWithoutASecondEffect) {
  const std::string first = R"({"eventId":"evt-1","eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"d1"})";
  ASSERT_EQ(event(first).status, 202);
  const std::string id = escalation_of("d1");
  ASSERT_EQ(call("POST", "/v1/escalations/" + id + "/resolve", "{}").status, 200);
  auto again = event(first);
  EXPECT_EQ(again.status, 202);
  EXPECT_NE(again.body.find(R"("duplicates":1)"), std::string::npos) << again.body;
  EXPECT_EQ(escalation_of("d1"), "");  // not reopened
}

TEST_F(Api, TheConduitSeedPayloadIsRoutedToAWorkspaceMember) {
  auto r = call("POST", "/v1/webhooks/conduit-main", seed("conduit_escalation.json"), "conduit-token");
  ASSERT_EQ(r.status, 202) << r.body;
  auto list = call("GET", std::string("/v1/escalations?workspaceId=") + conduit_workspace);
  EXPECT_NE(list.body.find(R"("conversationId":"ph77c0dy0mgdpzmqz6tesry8w184002s")"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find(R"("externalId":"k578dfetqv2xv0b7bt9c6m4j5s7n8p1r")"), std::string::npos);
  EXPECT_NE(list.body.find(R"("assigneeId":"minh")"), std::string::npos);
  EXPECT_NE(list.body.find(R"("reason":"Early check-in availability requires property team confirmation.")"), std::string::npos);
}

TEST_F(Api, TheChatbotThreadSeedPayloadIsRouted) {
  auto r = call("POST", "/v1/webhooks/threads", seed("chatbot_thread_response.json"), "threads-token");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_NE(escalation_of("<string>"), "");
  std::string off = seed("chatbot_thread_response.json");
  off.replace(off.find("\"escalated\": true"), 17, "\"escalated\": false");
  ASSERT_EQ(call("POST", "/v1/webhooks/threads", off, "threads-token").status, 202);
  EXPECT_EQ(escalation_of("<string>"), "");  // cancelled
}

TEST_F(Api, TheInventSeedPayloadMeansNothingUntilTheAiHandsOver) {
  const std::string verbatim = seed("invent_chat_state.json");  // ai_enabled true, assigned: nothing to do
  auto r = call("POST", "/v1/webhooks/invent", verbatim, "invent-token");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.body.find(R"("accepted":0)"), std::string::npos);
  std::string handed = verbatim;
  handed.replace(handed.find("\"ai_enabled\": true"), 18, "\"ai_enabled\": false");
  const std::size_t user = handed.find("\"assigned_user\": {");
  handed.replace(user, handed.find('}', user) + 1 - user, "\"assigned_user\": null");
  r = call("POST", "/v1/webhooks/invent", handed, "invent-token");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_NE(escalation_of("<string>"), "");
  std::string closed = handed;
  closed.replace(closed.find("\"state\": \"OPEN\""), 15, "\"state\": \"CLOSED\"");
  ASSERT_EQ(call("POST", "/v1/webhooks/invent", closed, "invent-token").status, 202);
  EXPECT_EQ(escalation_of("<string>"), "");
}

TEST_F(Api, TheWidgetSeedPayloadIsAcceptedWithItsApiKeyAndBotId) {
  const Headers auth = {{"Authorization", "widget-key"}, {"botid", "bot-1"}};
  // The seed's own example (escalationSuccess for a conversation with no escalation): acknowledged.
  auto r = call("POST", "/v1/webhooks/widget-main", seed("widget_event.json"), "", auth);
  EXPECT_EQ(r.status, 202) << r.body;
  r = call("POST", "/v1/webhooks/widget-main", R"({"platformConversationId":"123456789","eventType":"escalationRequested","text":"help"})", "", auth);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_NE(escalation_of("123456789"), "");
  r = call("POST", "/v1/webhooks/widget-main", seed("widget_event.json"), "", {{"Authorization", "widget-key"}, {"botid", "bot-2"}});
  EXPECT_EQ(r.status, 401);
}

TEST_F(Api, StandardWebhooksSignaturesAreVerified) {
  const std::string body = request_json("wh-1");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto signed_headers = [&](const std::string& id, std::int64_t ts, const std::string& payload) {
    return Headers{{"webhook-id", id}, {"webhook-timestamp", std::to_string(ts)},
                   {"webhook-signature", "v1,bm90aGluZw== " + adapters::crypto::sign_standard_webhook(hmac_secret, id, ts, payload)}};
  };
  auto ok = call("POST", "/v1/webhooks/hooks", body, "", signed_headers("msg_1", now, body));
  ASSERT_EQ(ok.status, 202) << ok.body;
  EXPECT_NE(escalation_of("wh-1"), "");
  auto replay = call("POST", "/v1/webhooks/hooks", body, "", signed_headers("msg_1", now, body));
  EXPECT_EQ(replay.status, 202);
  EXPECT_NE(replay.body.find(R"("duplicates":1)"), std::string::npos) << replay.body;
  auto tampered = call("POST", "/v1/webhooks/hooks", request_json("wh-2"), "", signed_headers("msg_2", now, body));
  EXPECT_EQ(tampered.status, 401);
  EXPECT_NE(tampered.body.find("no valid v1 signature"), std::string::npos);
  auto stale = call("POST", "/v1/webhooks/hooks", body, "", signed_headers("msg_3", now - 301, body));
  EXPECT_EQ(stale.status, 401);
  EXPECT_NE(stale.body.find("tolerance"), std::string::npos);
  auto unsigned_call = call("POST", "/v1/webhooks/hooks", body, "");
  EXPECT_EQ(unsigned_call.status, 401);
}

TEST_F(Api, TheOperatorWorkflowTakeoverSendReleaseResolve) {
  ASSERT_EQ(event(request_json("op-1")).status, 202);
  const std::string id = escalation_of("op-1");
  auto r = call("POST", "/v1/escalations/" + id + "/takeover", R"({"agentId":"minh"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("status":"taken_over")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("takenOverBy":"minh")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("aiEnabled":false)"), std::string::npos);
  r = call("POST", "/v1/escalations/" + id + "/takeover", R"({"agentId":"lan"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find(R"("code":"CONFLICT")"), std::string::npos);
  r = call("POST", "/v1/escalations/" + id + "/send", R"({"agentId":"minh","content":"Chào bạn, mình là quản lý Minh."})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = call("POST", "/v1/escalations/" + id + "/release");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("status":"released")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("aiEnabled":true)"), std::string::npos);
  r = call("POST", "/v1/escalations/" + id + "/resolve", R"({"resolution":"done"})");
  EXPECT_EQ(r.status, 409);
  auto detail = call("GET", "/v1/escalations/" + id);
  EXPECT_NE(detail.body.find("Chào bạn, mình là quản lý Minh."), std::string::npos);
}

TEST_F(Api, AssignUnassignAcceptRejectFollowTheSpec) {
  ASSERT_EQ(call("POST", "/v1/agents/minh/status", R"({"status":"away"})").status, 200);
  ASSERT_EQ(event(request_json("as-1")).status, 202);
  const std::string id = escalation_of("as-1");
  auto r = call("POST", "/v1/escalations/" + id + "/assign", R"({"assigneeId":"hoa"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("assigneeId: agent \\\"hoa\\\" is not a member of workspace \\\"ws-1\\\""), std::string::npos) << r.body;
  r = call("POST", "/v1/escalations/" + id + "/assign", R"({})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("assigneeId: required"), std::string::npos);
  r = call("POST", "/v1/escalations/" + id + "/assign", R"({"assigneeId":"lan"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("assigneeId":"lan")"), std::string::npos);
  r = call("POST", "/v1/escalations/" + id + "/accept", R"({"agentId":"lan"})");
  EXPECT_EQ(r.status, 409);  // not offered: assigned
  r = call("POST", "/v1/escalations/" + id + "/unassign");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("status":"queued")"), std::string::npos) << r.body;
}

struct BadRequest {
  const char* name;
  const char* method;
  const char* path;
  const char* body;
  const char* token;
  const char* content_type;
  int status;
  const char* code;
  const char* message;
};

class ApiRejects : public Api, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(ApiRejects, BadInputWithTheRightStatusAndCodeAndStaysHealthy) {
  const BadRequest& b = GetParam();
  Headers headers;
  if (b.content_type[0] != '\0') headers.emplace_back("Content-Type", b.content_type);
  if (b.token[0] != '\0') headers.emplace_back("Authorization", std::string("Bearer ") + b.token);
  if (std::string(b.name) == "escalation_of_another_workspace") {
    ASSERT_EQ(event(request_json("other")).status, 202);
    const std::string id = escalation_of("other");
    auto r = call("GET", "/v1/escalations/" + id, "", "ws2-token");
    EXPECT_EQ(r.status, 404);
    r = call("POST", "/v1/escalations/" + id + "/resolve", "{}", "ws2-token");
    EXPECT_EQ(r.status, 404);
    auto list = call("GET", "/v1/escalations", "", "ws2-token");
    EXPECT_EQ(list.body.find(id), std::string::npos);
    return;
  }
  auto r = http_request(port_, b.method, b.path, b.body, headers);
  EXPECT_EQ(r.status, b.status) << b.name << ": " << r.body;
  EXPECT_NE(r.body.find(std::string("\"code\":\"") + b.code + "\""), std::string::npos) << b.name << ": " << r.body;
  EXPECT_NE(r.body.find(b.message), std::string::npos) << b.name << ": " << r.body;
}

const std::string big_body = "{\"eventType\":\"message\",\"text\":\"" + std::string(70000, 'x') + "\"}";

const BadRequest bad_requests[] = {
    {"malformed_json", "POST", "/v1/events", "{\"eventType\":", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "not valid JSON"},
    {"malformed_in_ignored_field", "POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"x","junk":[1,}")", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "not valid JSON"},
    {"invalid_utf8", "POST", "/v1/events", "{\"eventType\":\"message\",\"text\":\"\xff\xfe\"}", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "not valid JSON"},
    {"not_an_object", "POST", "/v1/events", "[1,2]", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "must be a JSON object"},
    {"wrong_type", "POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":7})", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "conversationId: must be a string"},
    {"missing_required", "POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1"})", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "conversationId: required"},
    {"unknown_event_type", "POST", "/v1/events", R"({"eventType":"escalationExploded","workspaceId":"ws-1","conversationId":"c"})", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "eventType: unknown event type"},
    {"bad_status", "POST", "/v1/events", R"({"eventType":"agentStatus","agentId":"minh","status":"busy"})", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "status: unknown status"},
    {"batch_too_large", "POST", "/v1/events", R"({"events":[]})", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "events: must hold at least one event"},
    {"oversize_body", "POST", "/v1/events", big_body.c_str(), "ops-token", "application/json", 413, "PAYLOAD_TOO_LARGE", "max_body_bytes"},
    {"not_json_content_type", "POST", "/v1/events", "eventType=message", "ops-token", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE", "application/json"},
    {"unknown_source", "POST", "/v1/webhooks/nope", "{}", "", "application/json", 404, "NOT_FOUND", "unknown source"},
    {"missing_token", "GET", "/v1/escalations", "", "", "", 401, "UNAUTHENTICATED", "missing or invalid bearer token"},
    {"invalid_token", "GET", "/v1/escalations", "", "wrong-token", "", 401, "UNAUTHENTICATED", "missing or invalid bearer token"},
    {"missing_scope", "GET", "/v1/escalations", "", "ingest-token", "", 403, "PERMISSION_DENIED", "lacks the operate scope"},
    {"admin_scope", "POST", "/v1/admin/reload", "", "ws2-token", "", 403, "PERMISSION_DENIED", "lacks the admin scope"},
    {"wrong_workspace_ingest", "POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c"})", "ws2-token", "application/json", 404, "NOT_FOUND", "workspaceId: workspace \\\"ws-1\\\" not found"},
    {"wrong_workspace_list", "GET", "/v1/escalations?workspaceId=ws-1", "", "ws2-token", "", 404, "NOT_FOUND", "not found"},
    {"escalation_of_another_workspace", "GET", "/", "", "", "", 404, "NOT_FOUND", ""},
    {"unknown_escalation", "GET", "/v1/escalations/01NOPE0000000000000000000X", "", "ops-token", "", 404, "NOT_FOUND", "not found"},
    {"unknown_escalation_command", "POST", "/v1/escalations/01NOPE0000000000000000000X/resolve", "{}", "ops-token", "application/json", 404, "NOT_FOUND", "not found"},
    {"unknown_action", "POST", "/v1/escalations/x/explode", "{}", "ops-token", "application/json", 404, "NOT_FOUND", "no route"},
    {"bad_status_filter", "GET", "/v1/escalations?status=sleeping", "", "ops-token", "", 400, "INVALID_ARGUMENT", "status: unknown status"},
    {"bad_limit", "GET", "/v1/escalations?limit=0", "", "ops-token", "", 400, "INVALID_ARGUMENT", "limit: must be an integer from 1 to 200"},
    {"agent_put_without_workspaces", "PUT", "/v1/agents/new", R"({"name":"New"})", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "workspaces: required"},
    {"agent_put_other_workspace", "PUT", "/v1/agents/new", R"({"workspaces":["ws-1"]})", "ws2-token", "application/json", 404, "NOT_FOUND", "workspace \\\"ws-1\\\" not found"},
    {"agent_of_another_workspace", "GET", "/v1/agents/minh", "", "ws2-token", "", 404, "NOT_FOUND", "agent minh not found"},
    {"agent_status_missing", "POST", "/v1/agents/minh/status", "{}", "ops-token", "application/json", 400, "INVALID_ARGUMENT", "status: required"},
    {"wrong_method", "DELETE", "/v1/escalations", "", "ops-token", "", 405, "INVALID_ARGUMENT", "method DELETE is not allowed"},
};

INSTANTIATE_TEST_SUITE_P(Table, ApiRejects, ::testing::ValuesIn(bad_requests),
                         [](const ::testing::TestParamInfo<BadRequest>& info) { return std::string(info.param.name); });

TEST_F(Api, ListingPagesWithACursorNewestFirst) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(event(request_json("page-" + std::to_string(i))).status, 202);
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = call("GET", "/v1/escalations?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    for (std::size_t at = r.body.find("\"conversationId\":\""); at != std::string::npos;
         at = r.body.find("\"conversationId\":\"", at + 1)) {
      seen.push_back(r.body.substr(at + 18, r.body.find('"', at + 18) - at - 18));
    }
    const std::size_t next = r.body.find("\"nextCursor\":\"");
    if (next == std::string::npos) {
      EXPECT_NE(r.body.find("\"nextCursor\":null"), std::string::npos);
      break;
    }
    cursor = r.body.substr(next + 14, 26);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"page-4", "page-3", "page-2", "page-1", "page-0"}));
}

TEST_F(Api, AnOfferIsRejectedThenAcceptedByTheNextAgent) {
  dir_.write("router.toml", config(dir_) + "");
  std::string offered = config(dir_);
  offered.replace(offered.find("agents = \"true\""), 15, "agents = \"true\"\noffer_timeout = \"30s\"");
  dir_.write("router.toml", offered);
  ASSERT_EQ(call("POST", "/v1/admin/reload").status, 200);
  ASSERT_EQ(call("POST", "/v1/agents/lan/status", R"({"status":"available"})").status, 200);
  ASSERT_EQ(event(request_json("offer-1")).status, 202);
  const std::string id = escalation_of("offer-1");
  auto detail = call("GET", "/v1/escalations/" + id);
  ASSERT_NE(detail.body.find(R"("status":"offered")"), std::string::npos) << detail.body;
  const std::string first = detail.body.find(R"("assigneeId":"minh")") != std::string::npos ? "minh" : "lan";
  const std::string second = first == "minh" ? "lan" : "minh";
  auto r = call("POST", "/v1/escalations/" + id + "/reject", "{\"agentId\":\"" + first + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"assigneeId\":\"" + second + "\""), std::string::npos) << r.body;
  r = call("POST", "/v1/escalations/" + id + "/accept", "{\"agentId\":\"" + second + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("status":"assigned")"), std::string::npos);
  auto agent = call("GET", "/v1/agents/" + second);
  EXPECT_EQ(agent.status, 200);
  EXPECT_NE(agent.body.find(R"("load":1)"), std::string::npos) << agent.body;
}

TEST_F(Api, AgentsCanBeCreatedListedAndSetAway) {
  auto r = call("PUT", "/v1/agents/new-1", R"({"name":"New One","workspaces":["ws-2"],"skills":["billing"],"languages":["en"],"capacity":2})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"("name":"New One")"), std::string::npos);
  r = call("GET", "/v1/agents", "", "ws2-token");
  EXPECT_NE(r.body.find("new-1"), std::string::npos);
  EXPECT_EQ(r.body.find("minh"), std::string::npos);  // ws-1 only: invisible to the ws-2 token
  r = call("POST", "/v1/agents/new-1/status", R"({"status":"away"})", "ws2-token");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("status":"away")"), std::string::npos);
}

TEST_F(Api, QueuesShowWaitingWorkPerWorkspace) {
  ASSERT_EQ(call("POST", "/v1/agents/minh/status", R"({"status":"away"})").status, 200);
  ASSERT_EQ(event(request_json("q-1")).status, 202);
  auto r = call("GET", "/v1/queues");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"({"workspaceId":"ws-1","name":"general","waiting":1)"), std::string::npos) << r.body;
  r = call("GET", "/v1/queues", "", "ws2-token");
  EXPECT_EQ(r.body.find("ws-1"), std::string::npos);
}

TEST_F(Api, AdminReloadAppliesAGoodFileAndRejectsABadOne) {
  dir_.write("router.toml", config(dir_) + "[[agents]]\nid = \"extra\"\nworkspaces = [\"ws-1\"]\n");
  auto r = call("POST", "/v1/admin/reload");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(call("GET", "/v1/agents/extra").status, 200);
  dir_.write("router.toml", config(dir_) + "[[agents]]\nid = \"extra\"\nworkspacs = [\"ws-1\"]\n");
  r = call("POST", "/v1/admin/reload");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("workspacs"), std::string::npos) << r.body;
  EXPECT_EQ(call("GET", "/v1/agents/extra").status, 200);  // the running configuration is kept
}

TEST_F(Api, SecretsNeverAppearInTheLog) {
  event(request_json("log-1"));
  call("GET", "/v1/escalations", "", "wrong-token");
  call("POST", "/v1/admin/reload");
  const std::string log = daemon_->output();
  for (const char* secret : {"ops-token", "ws2-token", "ingest-token", "widget-key", "conduit-token", "threads-token",
                             "invent-token", hmac_secret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace router::testing
