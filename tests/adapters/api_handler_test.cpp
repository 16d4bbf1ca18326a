// The API as a function from Request to Response, over a real engine with an in-memory core: no
// socket. The engine runs the core on the calling thread, so each call answers before it returns.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "adapters/engine/engine.hpp"
#include "adapters/http/api.hpp"

namespace router::adapters::http {
namespace {

core::RuleSet rules() {
  core::RuleSet r;
  core::QueueSpec general;
  general.name = "general";
  general.agents.text = "true";
  r.queues = {general};
  core::RouteSpec all;
  all.name = "default";
  all.when.text = "true";
  all.queue = "general";
  r.routes = {all};
  for (const char* ws : {"ws-1", "ws-2"}) {
    core::AgentSpec a;
    a.id = std::string("agent-") + ws;
    a.workspaces = {ws};
    a.languages = {"en"};
    a.capacity = 5;
    a.status = core::AgentStatus::available;
    r.agents.push_back(a);
  }
  return r;
}

TokenSpec token(std::string name, std::string secret, std::uint8_t scopes, std::vector<std::string> workspaces = {}) {
  TokenSpec t;
  t.name = std::move(name);
  t.secret = std::move(secret);
  t.scopes = scopes;
  t.all_workspaces = workspaces.empty();
  t.workspaces = std::move(workspaces);
  return t;
}

constexpr auto ingest = static_cast<std::uint8_t>(Scope::ingest);
constexpr auto operate = static_cast<std::uint8_t>(Scope::operate);

class ApiHandler : public ::testing::Test {
 protected:
  explicit ApiHandler(engine::EngineOptions options = {}) : engine_(options) {
    EXPECT_TRUE(engine_.start_in_memory(rules()).empty());
    ApiConfig config;
    config.tokens = {token("ops", "ops-secret", ingest | operate), token("ws2", "ws2-secret", ingest | operate, {"ws-2"}),
                     token("feeder", "feeder-secret", ingest)};
    api_.emplace(&engine_, config);
    api_->set_ready(true);
  }

  Response call(const std::string& method, const std::string& target, const std::string& body = "",
                const std::string& secret = "ops-secret") {
    Request request;
    request.method = method;
    request.target = target;
    request.path = target.substr(0, target.find('?'));
    if (target.find('?') != std::string::npos) request.query = target.substr(target.find('?') + 1);
    if (!secret.empty()) request.headers.emplace_back("Authorization", "Bearer " + secret);
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    std::optional<Response> answer;
    api_->handle(std::move(request), [&](Response r) { answer = std::move(r); });
    EXPECT_TRUE(answer.has_value()) << method << " " << target << " was not answered before handle() returned";
    return answer.value_or(Response{});
  }

  // POSTs an escalation request; returns its id.
  std::string escalate(const std::string& workspace, const std::string& conversation) {
    const Response r = call("POST", "/v1/events",
                            R"({"eventType":"escalationRequested","workspaceId":")" + workspace + R"(","conversationId":")" +
                                conversation + R"(","language":"en"})");
    EXPECT_EQ(r.status, 202) << r.body;
    const std::size_t at = r.body.find("\"escalationIds\":[\"");
    EXPECT_NE(at, std::string::npos) << r.body;
    return at == std::string::npos ? "" : r.body.substr(at + 18, 26);
  }

  static std::string header(const Response& r, const std::string& name) {
    for (const auto& [key, value] : r.headers) {
      if (key == name) return value;
    }
    return "";
  }

  engine::Engine engine_;
  std::optional<Api> api_;
};

TEST_F(ApiHandler, AnAcceptedEventIsRoutedAndTheOperatorApiShowsIt) {
  const std::string id = escalate("ws-1", "c-1");
  const Response r = call("GET", "/v1/escalations/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"conversationId\":\"c-1\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"assigneeId\":\"agent-ws-1\""), std::string::npos) << r.body;
}

TEST_F(ApiHandler, UntilTheJournalIsReplayedTheApiAnswers503WithRetryAfter) {
  api_->set_ready(false);
  const Response r = call("POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(header(r, "Retry-After").empty());
  EXPECT_EQ(call("GET", "/readyz", "", "").status, 503);
  EXPECT_EQ(call("GET", "/healthz", "", "").status, 200);
}

TEST_F(ApiHandler, AMissingOrWrongTokenIs401AndAMissingScopeIs403) {
  EXPECT_EQ(call("GET", "/v1/escalations", "", "").status, 401);
  EXPECT_EQ(call("GET", "/v1/escalations", "", "ops-secreT").status, 401);
  const Response r = call("GET", "/v1/escalations", "", "feeder-secret");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("lacks the operate scope"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("feeder-secret"), std::string::npos);  // never the secret
}

TEST_F(ApiHandler, ATokenOfAnotherWorkspaceSeesNothingAndChangesNothing) {
  const std::string id = escalate("ws-1", "c-private");
  EXPECT_EQ(call("GET", "/v1/escalations/" + id, "", "ws2-secret").status, 404);
  // A command goes through the engine's check on the core thread: refused as not found.
  const Response resolve = call("POST", "/v1/escalations/" + id + "/resolve", R"({"resolution":"x"})", "ws2-secret");
  EXPECT_EQ(resolve.status, 404) << resolve.body;
  EXPECT_NE(call("GET", "/v1/escalations/" + id).body.find("\"status\":\"assigned\""), std::string::npos);
  const Response list = call("GET", "/v1/escalations?status=open", "", "ws2-secret");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(id), std::string::npos) << list.body;
  EXPECT_EQ(call("POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"x"})",
                 "ws2-secret").status, 404);
}

TEST_F(ApiHandler, ACommandOnAnUnknownEscalationIs404) {
  const Response r = call("POST", "/v1/escalations/01ZZZZZZZZZZZZZZZZZZZZZZZZ/resolve", R"({"resolution":"x"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("NOT_FOUND"), std::string::npos) << r.body;
}

TEST_F(ApiHandler, AResolveIsAppliedAndAnsweredWithTheEscalationAfterIt) {
  const std::string id = escalate("ws-2", "c-2");
  const Response r = call("POST", "/v1/escalations/" + id + "/resolve", R"({"resolution":"done"})", "ws2-secret");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"status\":\"resolved\""), std::string::npos) << r.body;
}

TEST_F(ApiHandler, MalformedJsonIs400AndNamesWhatIsWrong) {
  const Response r = call("POST", "/v1/events", R"({"eventType":"escalationRequested",)");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("INVALID_ARGUMENT"), std::string::npos) << r.body;
  const Response field = call("POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":5})");
  EXPECT_EQ(field.status, 400);
  EXPECT_NE(field.body.find("conversationId"), std::string::npos) << field.body;
}

class ApiHandlerFull : public ApiHandler {
 protected:
  ApiHandlerFull() : ApiHandler(engine::EngineOptions{0, 0}) {}
};

TEST_F(ApiHandlerFull, AFullInputQueueIs503WithRetryAfterAndNothingIsApplied) {
  const Response r = call("POST", "/v1/events", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c"})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_FALSE(header(r, "Retry-After").empty());
  EXPECT_EQ(call("GET", "/v1/escalations").status, 503);  // reads take the same queue
}

}  // namespace
}  // namespace router::adapters::http
