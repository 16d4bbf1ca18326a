#include <gtest/gtest.h>

#include <map>

#include "daemon/config.hpp"
#include "support/daemon_process.hpp"

namespace router::daemon {
namespace {

std::optional<std::string> fake_env(const std::string& name) {
  static const std::map<std::string, std::string> values = {
      {"ROUTER_OPS_TOKEN", "ops-secret-1"}, {"WIDGET_API_KEY", "widget-key-1"}, {"EMPTY_VAR", ""}};
  auto it = values.find(name);
  if (it == values.end()) {
    return std::nullopt;
  }
  return it->second;
}

ConfigResult load(const std::string& text) { return load_config_text(text, "test.toml", fake_env); }

std::string all_errors(const ConfigResult& result) {
  std::string out;
  for (const auto& e : result.errors) {
    out += e.to_string() + "\n";
  }
  return out;
}

TEST(ConfigLoading, ExampleFileLoadsEveryKeyIntoTypedSections) {
  auto result = load_config_file(std::string(ROUTER_SOURCE_DIR) + "/config/example.toml", fake_env);
  ASSERT_TRUE(result.config) << all_errors(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.server.listen_host, "127.0.0.1");
  EXPECT_EQ(c.server.listen_port, 8080);
  EXPECT_EQ(c.server.max_body_bytes, 1048576u);
  EXPECT_EQ(c.server.threads, 2u);
  EXPECT_EQ(c.server.idle_timeout_ms, 60'000);
  EXPECT_EQ(c.storage.dir, "./data");
  EXPECT_EQ(c.storage.fsync, adapters::storage::FsyncMode::batch);
  EXPECT_EQ(c.storage.fsync_interval_ms, 10);
  EXPECT_EQ(c.storage.snapshot_every, 100000u);
  EXPECT_FALSE(c.redis.has_value());
  EXPECT_EQ(c.rules.settings.disconnect_grace_ms, 60'000);
  EXPECT_EQ(c.rules.settings.initial_wait_estimate_ms, 120'000);
  EXPECT_EQ(c.log.format, LogFormat::text);
  ASSERT_EQ(c.tokens.size(), 1u);
  EXPECT_EQ(c.tokens[0].secret, "ops-secret-1");
  EXPECT_EQ(c.tokens[0].scopes, 7);
  EXPECT_TRUE(c.tokens[0].all_workspaces);
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].format, adapters::platforms::Format::widget);
  EXPECT_EQ(c.sources[0].auth.type, adapters::platforms::AuthType::widget);
  EXPECT_EQ(c.sources[0].auth.secret, "widget-key-1");
  EXPECT_EQ(c.sources[0].auth.bot_id, "bot-1");
  ASSERT_EQ(c.rules.agents.size(), 2u);
  EXPECT_EQ(c.rules.agents[0].capacity, 3u);
  EXPECT_EQ(c.rules.agents[0].languages, (std::vector<std::string>{"vi", "en"}));
  EXPECT_EQ(c.rules.agents[1].status, core::AgentStatus::available);
  ASSERT_EQ(c.rules.routes.size(), 2u);
  EXPECT_EQ(c.rules.routes[0].when.text, R"(escalation.priority >= 2 and "billing" in escalation.skills)");
  EXPECT_GT(c.rules.routes[0].when.pos.line, 0u);
  ASSERT_EQ(c.rules.queues.size(), 2u);
  const core::QueueSpec& vip = c.rules.queues[0];
  EXPECT_EQ(vip.strategy, core::Strategy::least_loaded);
  EXPECT_TRUE(vip.sticky);
  EXPECT_EQ(vip.offer_timeout_ms, 30'000);
  EXPECT_EQ(vip.max_missed_offers, 3u);
  EXPECT_EQ(vip.reply_timeout_ms, 300'000);
  EXPECT_EQ(vip.fail_after_ms, 600'000);
  ASSERT_EQ(vip.steps.size(), 1u);
  EXPECT_EQ(vip.steps[0].after_ms, 60'000);
  EXPECT_EQ(c.rules.queues[1].strategy, core::Strategy::longest_idle);
}

TEST(ConfigLoading, EmptyFileGivesTheEmbeddedDefaults) {
  auto result = load("");
  ASSERT_TRUE(result.config) << all_errors(result);
  EXPECT_EQ(result.config->server.listen_port, 8080);
  EXPECT_EQ(result.config->storage.dir, "./data");
  ASSERT_EQ(result.config->rules.queues.size(), 1u);
  EXPECT_EQ(result.config->rules.queues[0].name, "general");
  EXPECT_EQ(result.config->path, "test.toml");
}

TEST(ConfigLoading, ParsesRedisUrlWithCredentialsAndDatabase) {
  auto result = load("[redis]\nurl = \"redis://user:p%40ss@10.0.0.5:6380/3\"\ninput_stream = \"in\"\n");
  ASSERT_TRUE(result.config) << all_errors(result);
  const auto& redis = *result.config->redis;
  EXPECT_EQ(redis.host, "10.0.0.5");
  EXPECT_EQ(redis.port, 6380);
  EXPECT_EQ(redis.database, 3u);
  EXPECT_EQ(redis.username, "user");
  EXPECT_EQ(redis.password, "p%40ss");
  EXPECT_EQ(redis.input_stream, "in");
  EXPECT_EQ(redis.channel_prefix, "escalations");
}

TEST(ConfigLoading, ParsesIpv6ListenAndHmacSource) {
  auto result = load(R"(
[server]
listen = "[::1]:0"
[[sources]]
name = "hooks"
format = "canonical"
auth = { type = "hmac", secret = "whsec_c2VjcmV0" }
callback = { url = "https://example.com/hooks/", secret_env = "WIDGET_API_KEY" }
)");
  ASSERT_TRUE(result.config) << all_errors(result);
  EXPECT_EQ(result.config->server.listen_host, "::1");
  EXPECT_EQ(result.config->server.listen_port, 0);
  EXPECT_EQ(result.config->sources[0].auth.secret, "whsec_c2VjcmV0");
  EXPECT_EQ(result.config->sources[0].callback->url, "https://example.com/hooks");
  EXPECT_EQ(result.config->sources[0].callback->secret, "widget-key-1");
}

TEST(ConfigLoading, MissingFileIsAnError) {
  auto result = load_config_file("/nonexistent/router.toml", fake_env);
  ASSERT_FALSE(result.config);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].to_string().find("/nonexistent/router.toml:0:0: cannot open"), std::string::npos);
}

TEST(ConfigLoading, ReportsEveryErrorSortedByPosition) {
  auto result = load("[server]\nthreads = 0\n[log]\nlevel = \"loud\"\n[storage]\nfsync = \"sometimes\"\n");
  ASSERT_EQ(result.errors.size(), 3u) << all_errors(result);
  EXPECT_EQ(result.errors[0].line, 2u);
  EXPECT_EQ(result.errors[1].line, 4u);
  EXPECT_EQ(result.errors[2].line, 6u);
}

TEST(ConfigLoading, SecretsNeverAppearInErrors) {
  auto result = load("[redis]\nurl = \"rediss://u:hunter2@host\"\n");
  ASSERT_FALSE(result.config);
  EXPECT_EQ(all_errors(result).find("hunter2"), std::string::npos) << all_errors(result);
}

struct BadConfig {
  const char* name;
  const char* toml;
  std::uint32_t line;
  std::uint32_t column;  // 0: do not check
  const char* message;   // a substring of the error
};

class ConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrors, AreReportedWithFileLineColumnAndCause) {
  const BadConfig& bad = GetParam();
  auto result = load(bad.toml);
  ASSERT_FALSE(result.config) << bad.name;
  ASSERT_FALSE(result.errors.empty());
  bool found = false;
  for (const auto& error : result.errors) {
    if (error.message.find(bad.message) != std::string::npos && error.line == bad.line &&
        (bad.column == 0 || error.column == bad.column)) {
      found = true;
      EXPECT_EQ(error.to_string().rfind("test.toml:" + std::to_string(bad.line) + ":", 0), 0u);
    }
  }
  EXPECT_TRUE(found) << "expected line " << bad.line << " with \"" << bad.message << "\", got:\n" << all_errors(result);
}

const BadConfig bad_configs[] = {
    {"syntax", "[server\nlisten = 1\n", 1, 0, "expected"},
    {"unknown_top_level", "\n[sever]\n", 2, 2, "unknown key 'sever'; did you mean 'server'?"},
    {"unknown_in_section", "[server]\nlisten = \"127.0.0.1:1\"\nlsiten = \"x\"\n", 3, 1, "unknown key 'server.lsiten'; did you mean 'listen'?"},
    {"unknown_in_array_table", "[[agents]]\nid = \"a\"\nworkspaces = [\"w\"]\ncapacty = 2\n", 4, 1, "unknown key 'agents[0].capacty'; did you mean 'capacity'?"},
    {"unknown_in_inline_table", "[[sources]]\nname = \"s\"\nformat = \"canonical\"\nauth = { type = \"bearer\", token = \"t\", tokn = \"x\" }\n", 4, 0, "unknown key 'sources[0].auth.tokn'"},
    {"string_for_integer", "[server]\nthreads = \"2\"\n", 2, 11, "'server.threads' must be an integer, not a string"},
    {"integer_for_string", "[storage]\ndir = 5\n", 2, 7, "'storage.dir' must be a string, not an integer"},
    {"float_for_integer", "[server]\nmax_body_bytes = 1.5\n", 2, 0, "must be an integer, not a float"},
    {"string_for_boolean", "[[queues]]\nname = \"q\"\nsticky = \"yes\"\n[[routes]]\nname = \"r\"\nqueue = \"q\"\n", 3, 0, "'queues[0].sticky' must be a boolean"},
    {"section_not_table", "server = 1\n", 1, 0, "'server' must be a table"},
    {"array_of_non_strings", "[[agents]]\nid = \"a\"\nworkspaces = [\"w\", 3]\n", 3, 0, "'agents[0].workspaces' must hold only non-empty strings, not an integer"},
    {"not_array_of_tables", "agents = 3\n", 1, 0, "must be an array of tables ([[agents]])"},
    {"duration_without_unit", "[routing]\ndisconnect_grace = \"60\"\n", 2, 0, "every number needs a unit"},
    {"duration_bad_unit", "[routing]\nqueue_update_interval = \"10x\"\n", 2, 0, "invalid duration \"10x\""},
    {"duration_not_string", "[routing]\ndisconnect_grace = 60\n", 2, 0, "must be a duration string with a unit"},
    {"duration_too_large", "[routing]\ndisconnect_grace = \"9000h\"\n", 2, 0, "too large"},
    {"duration_below_minimum", "[storage]\nfsync_interval = \"0\"\n", 2, 0, "must be at least 1ms"},
    {"integer_out_of_range", "[server]\nthreads = 0\n", 2, 0, "must be between 1 and 256, not 0"},
    {"bad_listen", "[server]\nlisten = \"localhost\"\n", 2, 0, "expected \"host:port\""},
    {"bad_listen_port", "[server]\nlisten = \"127.0.0.1:70000\"\n", 2, 0, "expected \"host:port\""},
    {"tls_cert_without_key", "[server]\ntls_cert = \"/etc/hostname\"\n", 1, 0, "go together"},
    {"tls_cert_missing_file", "[server]\ntls_cert = \"/nonexistent.crt\"\ntls_key = \"/etc/hostname\"\n", 2, 0, "no readable file at \"/nonexistent.crt\""},
    {"bad_fsync", "[storage]\nfsync = \"sometimes\"\n", 2, 0, "unknown value \"sometimes\"; expected one of always, batch, none"},
    {"bad_log_level", "[log]\nlevel = \"loud\"\n", 2, 0, "expected one of trace, debug, info"},
    {"bad_log_format", "[log]\nformat = \"xml\"\n", 2, 0, "expected one of text, json"},
    {"bad_redis_scheme", "[redis]\nurl = \"http://x\"\n", 2, 0, "must start with redis://"},
    {"bad_redis_db", "[redis]\nurl = \"redis://h:1/abc\"\n", 2, 0, "invalid database number"},
    {"redis_empty_group", "[redis]\ngroup = \"\"\n", 2, 0, "'redis.group': must not be empty"},
    {"secret_inline_and_env", "[[tokens]]\nname = \"t\"\ntoken = \"a\"\ntoken_env = \"ROUTER_OPS_TOKEN\"\nscopes = [\"admin\"]\n", 4, 0, "give either 'tokens[0].token' or 'tokens[0].token_env', not both"},
    {"secret_env_unset", "[[tokens]]\nname = \"t\"\ntoken_env = \"NOPE_NOT_SET\"\nscopes = [\"admin\"]\n", 3, 0, "environment variable NOPE_NOT_SET is not set or empty"},
    {"secret_env_empty", "[[tokens]]\nname = \"t\"\ntoken_env = \"EMPTY_VAR\"\nscopes = [\"admin\"]\n", 3, 0, "environment variable EMPTY_VAR is not set or empty"},
    {"secret_missing", "[[tokens]]\nname = \"t\"\nscopes = [\"admin\"]\n", 1, 0, "missing required key 'tokens[0].token' (or 'tokens[0].token_env')"},
    {"token_missing_name", "[[tokens]]\ntoken = \"x\"\nscopes = [\"admin\"]\n", 1, 0, "missing required key 'tokens[0].name'"},
    {"token_bad_scope", "[[tokens]]\nname = \"t\"\ntoken = \"x\"\nscopes = [\"root\"]\n", 4, 0, "unknown scope \"root\""},
    {"token_no_scopes", "[[tokens]]\nname = \"t\"\ntoken = \"x\"\nscopes = []\n", 4, 0, "must name at least one scope"},
    {"token_duplicate", "[[tokens]]\nname = \"t\"\ntoken = \"x\"\nscopes = [\"admin\"]\n[[tokens]]\nname = \"t\"\ntoken = \"y\"\nscopes = [\"admin\"]\n", 5, 0, "duplicate tokens entry \"t\""},
    {"source_bad_name", "[[sources]]\nname = \"a/b\"\nformat = \"canonical\"\nauth = { type = \"bearer\", token = \"t\" }\n", 2, 0, "may hold only letters"},
    {"source_bad_format", "[[sources]]\nname = \"s\"\nformat = \"slack\"\nauth = { type = \"bearer\", token = \"t\" }\n", 3, 0, "unknown value \"slack\"; expected one of canonical, widget"},
    {"source_missing_workspace", "[[sources]]\nname = \"s\"\nformat = \"invent\"\nauth = { type = \"bearer\", token = \"t\" }\n", 1, 0, "'sources[0].workspace': invent payloads carry no workspace"},
    {"source_missing_auth", "[[sources]]\nname = \"s\"\nformat = \"canonical\"\n", 1, 0, "missing required key 'sources[0].auth'"},
    {"source_bad_auth_type", "[[sources]]\nname = \"s\"\nformat = \"canonical\"\nauth = { type = \"basic\", token = \"t\" }\n", 4, 0, "expected one of bearer, hmac, widget"},
    {"source_widget_auth_without_bot", "[[sources]]\nname = \"s\"\nformat = \"widget\"\nworkspace = \"w\"\nauth = { type = \"widget\", token = \"t\" }\n", 5, 0, "missing required key 'sources[0].auth.bot_id'"},
    {"source_hmac_without_secret", "[[sources]]\nname = \"s\"\nformat = \"canonical\"\nauth = { type = \"hmac\" }\n", 4, 0, "missing required key 'sources[0].auth.secret'"},
    {"source_callback_bad_url", "[[sources]]\nname = \"s\"\nformat = \"canonical\"\nauth = { type = \"bearer\", token = \"t\" }\ncallback = { url = \"ftp://x\" }\n", 5, 0, "must start with http:// or https://"},
    {"source_widget_callback_without_bot", "[[sources]]\nname = \"s\"\nformat = \"widget\"\nworkspace = \"w\"\nauth = { type = \"widget\", token = \"t\", bot_id = \"b\" }\ncallback = { url = \"http://x\", token = \"k\" }\n", 6, 0, "missing required key 'sources[0].callback.bot_id'"},
    {"agent_missing_id", "[[agents]]\nworkspaces = [\"w\"]\n", 1, 0, "missing required key 'agents[0].id'"},
    {"agent_missing_workspaces", "[[agents]]\nid = \"a\"\n", 1, 0, "missing required key 'agents[0].workspaces'"},
    {"agent_empty_workspaces", "[[agents]]\nid = \"a\"\nworkspaces = []\n", 3, 0, "must name at least one workspace"},
    {"agent_zero_capacity", "[[agents]]\nid = \"a\"\nworkspaces = [\"w\"]\ncapacity = 0\n", 4, 0, "must be between 1 and 10000"},
    {"agent_bad_status", "[[agents]]\nid = \"a\"\nworkspaces = [\"w\"]\nstatus = \"busy\"\n", 4, 0, "expected one of available, away, offline"},
    {"agent_bad_attribute", "[[agents]]\nid = \"a\"\nworkspaces = [\"w\"]\nattributes = { x = { y = 1 } }\n", 4, 0, "'agents[0].attributes.x' must be a scalar or a list of scalars"},
    {"agent_unknown_external_source", "[[agents]]\nid = \"a\"\nworkspaces = [\"w\"]\nexternal_ids = { nowhere = \"1\" }\n", 4, 0, "'agents[0].external_ids.nowhere' names no configured source"},
    {"agent_duplicate", "[[agents]]\nid = \"a\"\nworkspaces = [\"w\"]\n[[agents]]\nid = \"a\"\nworkspaces = [\"w\"]\n", 4, 0, "duplicate agents entry \"a\""},
    {"route_missing_queue", "[[routes]]\nname = \"r\"\n[[queues]]\nname = \"q\"\n", 1, 0, "missing required key 'routes[0].queue'"},
    {"route_unknown_queue", "[[routes]]\nname = \"r\"\nqueue = \"nope\"\n[[queues]]\nname = \"q\"\n", 3, 0, "route \"r\" names queue \"nope\", which is not defined"},
    {"routes_without_queues", "[[routes]]\nname = \"r\"\nqueue = \"q\"\n", 1, 0, "[[routes]] are defined but no [[queues]]"},
    {"queues_without_routes", "[[queues]]\nname = \"q\"\n", 1, 0, "[[queues]] are defined but no [[routes]]"},
    {"queue_bad_strategy", "[[queues]]\nname = \"q\"\nstrategy = \"random\"\n[[routes]]\nname = \"r\"\nqueue = \"q\"\n", 3, 0, "expected one of round_robin, least_loaded, longest_idle, manual"},
    {"queue_steps_out_of_order", "[[queues]]\nname = \"q\"\n[[queues.steps]]\nafter = \"2m\"\nagents = \"true\"\n[[queues.steps]]\nafter = \"1m\"\nagents = \"true\"\n[[routes]]\nname = \"r\"\nqueue = \"q\"\n", 7, 0, "steps must be in increasing order of 'after'"},
    {"queue_step_missing_after", "[[queues]]\nname = \"q\"\n[[queues.steps]]\nagents = \"true\"\n[[routes]]\nname = \"r\"\nqueue = \"q\"\n", 3, 0, "missing required key 'queues[0].steps[0].after'"},
    {"queue_step_missing_agents", "[[queues]]\nname = \"q\"\n[[queues.steps]]\nafter = \"1m\"\n[[routes]]\nname = \"r\"\nqueue = \"q\"\n", 3, 0, "missing required key 'queues[0].steps[0].agents'"},
};

INSTANTIATE_TEST_SUITE_P(EveryErrorPath, ConfigErrors, ::testing::ValuesIn(bad_configs),
                         [](const ::testing::TestParamInfo<BadConfig>& info) { return std::string(info.param.name); });

TEST(CheckConfigCommand, MisspelledKeyPrintsFileLineColumnAndExitsOne) {
  testing::TempDir dir;
  const std::string path = dir.write("bad.toml", "[server]\nlisten = \"127.0.0.1:8080\"\nmax_body_byte = 10\n");
  auto result = testing::run_daemon_command({"check-config", path});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find(path + ":3:1: unknown key 'server.max_body_byte'; did you mean 'max_body_bytes'?"),
            std::string::npos)
      << result.output;
}

TEST(CheckConfigCommand, ValidFileExitsZero) {
  auto result = testing::run_daemon_command({"check-config", std::string(ROUTER_SOURCE_DIR) + "/config/example.toml"},
                                            {{"ROUTER_OPS_TOKEN", "x"}, {"WIDGET_API_KEY", "y"}});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(": ok ("), std::string::npos) << result.output;
}

TEST(CheckConfigCommand, WithoutFileIsAUsageError) {
  auto result = testing::run_daemon_command({"check-config"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("usage:"), std::string::npos);
}

}  // namespace
}  // namespace router::daemon
