#include <gtest/gtest.h>

#include <sstream>

#include "daemon/config.hpp"
#include "daemon/simulate.hpp"
#include "support/daemon_process.hpp"

namespace router::daemon {
namespace {

Config config_with(const std::string& toml) {
  auto result = load_config_text(toml, "sim.toml", [](const std::string&) { return std::optional<std::string>("x"); });
  EXPECT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors.front().to_string());
  return result.config.value_or(default_config());
}

const char* rules = R"(
[[agents]]
id = "minh"
name = "Minh"
workspaces = ["ws-1"]
skills = ["billing"]
languages = ["vi"]
[[agents]]
id = "lan"
workspaces = ["ws-1"]
languages = ["en"]
[[routes]]
name = "billing"
when = '"billing" in escalation.skills'
queue = "billing"
[[routes]]
name = "default"
when = "true"
queue = "general"
[[queues]]
name = "billing"
agents = '"billing" in agent.skills and escalation.language in agent.languages'
[[queues]]
name = "general"
agents = "escalation.language in agent.languages"
)";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Simulate, PrintsEveryOutboundEventWithTheDecisionBehindIt) {
  std::istringstream events(
      R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c1","language":"vi","skills":["billing"],"occurredAt":"2026-03-12T10:05:00Z"}
{"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c2","language":"fr","occurredAt":"2026-03-12T10:06:00Z"}
)");
  std::ostringstream out;
  EXPECT_EQ(run_simulation(config_with(rules), events, out), 0);
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 4u) << out.str();
  EXPECT_NE(lines[1].find(R"("eventType":"escalationSuccess")"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("agentId":"minh")"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("decision":{"at":"2026-03-12T10:05:00.000Z","action":"assigned","route":"billing","queue":"billing")"),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[3].find(R"("eventType":"escalationQueueUpdate")"), std::string::npos);
  EXPECT_NE(lines[3].find(R"("queuePosition":1)"), std::string::npos);
}

TEST(Simulate, ExplainsWhyEachExaminedCandidateLost) {
  std::istringstream events(
      R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c1","language":"fr","occurredAt":"2026-03-12T10:05:00Z"}
)");
  std::ostringstream out;
  run_simulation(config_with(rules), events, out);
  EXPECT_EQ(out.str().find("decision"), std::string::npos);  // queued: no hand-out decision on events
  std::istringstream events2(
      R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c1","language":"en","occurredAt":"2026-03-12T10:05:00Z"}
)");
  std::ostringstream out2;
  run_simulation(config_with(rules), events2, out2);
  EXPECT_NE(out2.str().find(R"("agentId":"lan")"), std::string::npos);
  EXPECT_NE(out2.str().find(R"("verdict":"does not match the queue's agents rule")"), std::string::npos) << out2.str();
}

TEST(Simulate, OperatorCommandsResolveConversationsAndRefusalsAreReported) {
  std::istringstream events(
      R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c1","language":"en"}
{"command":"takeover","workspaceId":"ws-1","conversationId":"c1","agentId":"minh"}
{"command":"takeover","workspaceId":"ws-1","conversationId":"c1","agentId":"lan"}
{"command":"resolve","workspaceId":"ws-1","conversationId":"c1","resolution":"done"}
{"command":"resolve","workspaceId":"ws-1","conversationId":"c1"}
)");
  std::ostringstream out;
  EXPECT_EQ(run_simulation(config_with(rules), events, out), 0);
  const std::string text = out.str();
  EXPECT_NE(text.find(R"("eventType":"escalationTakenOver")"), std::string::npos);
  EXPECT_NE(text.find(R"({"line":3,"refused":{"code":"CONFLICT")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("eventType":"escalationResolved")"), std::string::npos);
  EXPECT_NE(text.find(R"({"line":5,"refused":{"code":"NOT_FOUND")"), std::string::npos) << text;
}

TEST(Simulate, MalformedLinesAreReportedWithTheirNumberAndExitOne) {
  std::istringstream events(
      "# a comment\n{\"eventType\":\"escalationRequested\",\"workspaceId\":\"ws-1\"}\nnot json\n"
      "{\"eventType\":\"escalationRequested\",\"workspaceId\":\"ws-1\",\"conversationId\":\"c9\",\"priority\":\"high\"}\n");
  std::ostringstream out;
  EXPECT_EQ(run_simulation(config_with(rules), events, out), 1);
  const std::string text = out.str();
  EXPECT_NE(text.find(R"({"line":2,"error":{"code":"INVALID_ARGUMENT","message":"conversationId: required)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"({"line":3,"error")"), std::string::npos);
  EXPECT_NE(text.find(R"("message":"priority: must be an integer")"), std::string::npos) << text;
}

TEST(Simulate, SameInputGivesByteIdenticalOutput) {
  const std::string input =
      R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c1","language":"vi","skills":["billing"]}
{"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"c2","language":"en"}
{"command":"resolve","workspaceId":"ws-1","conversationId":"c1"}
)";
  std::istringstream a(input);
  std::istringstream b(input);
  std::ostringstream out_a;
  std::ostringstream out_b;
  run_simulation(config_with(rules), a, out_a);
  run_simulation(config_with(rules), b, out_b);
  EXPECT_EQ(out_a.str(), out_b.str());
  EXPECT_FALSE(out_a.str().empty());
}

TEST(SimulateCommand, RunsTheExampleScenarioFromTheCommandLine) {
  auto result = testing::run_daemon_command({"simulate", "--config", std::string(ROUTER_SOURCE_DIR) + "/config/example.toml",
                                             "--events", std::string(ROUTER_SOURCE_DIR) + "/config/examples/simulation.jsonl"},
                                            {{"ROUTER_OPS_TOKEN", "x"}, {"WIDGET_API_KEY", "y"}});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(R"("eventType":"escalationOffered")"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(R"("route":"vip-billing")"), std::string::npos);
}

TEST(ConfigRules, ABadRuleExpressionIsReportedAtItsPlaceInTheFile) {
  auto result = load_config_text("[[routes]]\nname = \"r\"\nwhen = 'escalation.prio >= 2'\nqueue = \"q\"\n[[queues]]\nname = \"q\"\n",
                                 "rules.toml");
  ASSERT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string().rfind("rules.toml:3:9: unknown field 'escalation.prio'", 0), 0u)
      << result.errors[0].to_string();
}

}  // namespace
}  // namespace router::daemon
