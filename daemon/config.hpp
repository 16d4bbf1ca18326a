// The daemon's configuration: one TOML file parsed into typed sections, every error reported as
// "file:line:col: message". Unknown keys, wrong types and bad durations are errors, never defaults.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/delivery/delivery_service.hpp"
#include "adapters/http/auth_options.hpp"
#include "adapters/http/server_options.hpp"
#include "adapters/platforms/source_options.hpp"
#include "adapters/redis/redis_options.hpp"
#include "adapters/storage/storage_options.hpp"
#include "router/core/rules.hpp"

namespace router::daemon {

enum class LogFormat { text, json };

struct LogOptions {
  std::string level = "info";  // trace | debug | info | warn | error | critical | off
  LogFormat format = LogFormat::text;
};

struct Config {
  std::string path;  // the file it came from; "<defaults>" for the embedded defaults
  adapters::http::ServerOptions server;
  adapters::storage::StorageOptions storage;
  std::optional<adapters::redis::RedisOptions> redis;  // absent: nothing is published
  LogOptions log;
  adapters::delivery::DeliveryOptions delivery;
  std::vector<adapters::http::TokenSpec> tokens;
  std::vector<adapters::platforms::SourceSpec> sources;
  core::RuleSet rules;
};

struct ConfigError {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string message;

  std::string to_string() const;  // "file:line:col: message"
};

struct ConfigResult {
  std::optional<Config> config;     // set when errors is empty
  std::vector<ConfigError> errors;  // every problem found, in file order
};

// Looks up an environment variable; the loader takes it as a parameter so tests control it.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> process_env(const std::string& name);

ConfigResult load_config_file(const std::string& path, EnvLookup env = process_env);
ConfigResult load_config_text(std::string_view text, const std::string& path, EnvLookup env = process_env);

// The configuration used without --config: 127.0.0.1:8080, ./data, no Redis, one "general" queue.
Config default_config();

}  // namespace router::daemon
