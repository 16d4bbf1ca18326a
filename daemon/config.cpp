#include "daemon/config.hpp"

#include "router/core/router.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace router::daemon {
namespace {

using core::DurationMs;

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

core::SourcePos pos_of(const toml::source_region& region) {
  return {static_cast<std::uint32_t>(region.begin.line), static_cast<std::uint32_t>(region.begin.column)};
}

// Collects errors with their position in the file.
class Diagnostics {
 public:
  Diagnostics(std::string file, EnvLookup env) : file_(std::move(file)), env_(std::move(env)) {}

  void error(core::SourcePos pos, std::string message) {
    errors_.push_back({file_, pos.line, pos.column, std::move(message)});
  }
  void error(const toml::source_region& region, std::string message) { error(pos_of(region), std::move(message)); }

  std::optional<std::string> env(const std::string& name) const { return env_(name); }
  std::vector<ConfigError> take_errors() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    return std::move(errors_);
  }
  bool has_errors() const { return !errors_.empty(); }

 private:
  std::string file_;
  EnvLookup env_;
  std::vector<ConfigError> errors_;
};

// Reads the keys of one table. Every key asked for is known; at finish(), any other key present
// is an error, with a suggestion when it is close to a known one.
class TableReader {
 public:
  TableReader(Diagnostics& diag, const toml::table& table, std::string path)
      : diag_(diag), table_(table), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  core::SourcePos pos() const { return pos_of(table_.source()); }

  const toml::node* node(std::string_view key) {
    known_.emplace(key);
    return table_.get(key);
  }

  std::string key_path(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

  void missing(std::string_view key) {
    diag_.error(table_.source(), "missing required key '" + key_path(key) + "'");
  }

  void wrong_type(std::string_view key, const toml::node& value, std::string_view expected) {
    diag_.error(value.source(), "'" + key_path(key) + "' must be " + std::string(expected) + ", not " + type_name(value));
  }

  void invalid(std::string_view key, const toml::node& value, const std::string& message) {
    diag_.error(value.source(), "'" + key_path(key) + "': " + message);
  }

  std::optional<std::string> string(std::string_view key, bool required = false) {
    const toml::node* value = node(key);
    if (value == nullptr) {
      if (required) {
        missing(key);
      }
      return std::nullopt;
    }
    if (!value->is_string()) {
      wrong_type(key, *value, "a string");
      return std::nullopt;
    }
    return value->as_string()->get();
  }

  // A non-empty string; "" is reported.
  std::optional<std::string> name(std::string_view key, bool required = true) {
    auto text = string(key, required);
    if (text && text->empty()) {
      invalid(key, *table_.get(key), "must not be empty");
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const toml::node* value = node(key);
    if (value == nullptr) {
      return std::nullopt;
    }
    if (!value->is_integer()) {
      wrong_type(key, *value, "an integer");
      return std::nullopt;
    }
    const std::int64_t number = value->as_integer()->get();
    if (number < min || number > max) {
      invalid(key, *value, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " +
                               std::to_string(number));
      return std::nullopt;
    }
    return number;
  }

  std::optional<bool> boolean(std::string_view key) {
    const toml::node* value = node(key);
    if (value == nullptr) {
      return std::nullopt;
    }
    if (!value->is_boolean()) {
      wrong_type(key, *value, "a boolean (true or false)");
      return std::nullopt;
    }
    return value->as_boolean()->get();
  }

  std::optional<DurationMs> duration(std::string_view key, DurationMs min_ms = 0) {
    const toml::node* value = node(key);
    if (value == nullptr) {
      return std::nullopt;
    }
    if (!value->is_string()) {
      wrong_type(key, *value, "a duration string with a unit, like \"30s\"");
      return std::nullopt;
    }
    auto parsed = core::parse_duration(value->as_string()->get());
    if (!parsed) {
      invalid(key, *value, parsed.error().message);
      return std::nullopt;
    }
    if (*parsed < min_ms) {
      invalid(key, *value, "must be at least " + core::format_duration(min_ms));
      return std::nullopt;
    }
    return *parsed;
  }

  std::optional<std::vector<std::string>> strings(std::string_view key, bool required = false) {
    const toml::node* value = node(key);
    if (value == nullptr) {
      if (required) {
        missing(key);
      }
      return std::nullopt;
    }
    if (!value->is_array()) {
      wrong_type(key, *value, "an array of strings");
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const toml::node& item : *value->as_array()) {
      if (!item.is_string() || item.as_string()->get().empty()) {
        diag_.error(item.source(), "'" + key_path(key) + "' must hold only non-empty strings, not " +
                                       (item.is_string() ? std::string("an empty string") : type_name(item)));
        ok = false;
        continue;
      }
      out.push_back(item.as_string()->get());
    }
    if (!ok) {
      return std::nullopt;
    }
    return out;
  }

  // A one-of string: the allowed values are listed in the error.
  template <typename T, typename Parse>
  std::optional<T> choice(std::string_view key, Parse parse, std::string_view allowed, bool required = false) {
    auto text = string(key, required);
    if (!text) {
      return std::nullopt;
    }
    auto parsed = parse(*text);
    if (!parsed) {
      invalid(key, *table_.get(key), "unknown value \"" + *text + "\"; expected one of " + std::string(allowed));
    }
    return parsed;
  }

  // A secret: given inline as `key` or read from the environment variable named by `key_env`.
  std::optional<std::string> secret(const std::string& key, bool required) {
    const std::string env_key = key + "_env";
    const toml::node* inline_value = table_.get(key);
    const toml::node* env_value = table_.get(env_key);
    if (inline_value != nullptr && env_value != nullptr) {
      node(key);
      node(env_key);
      diag_.error(env_value->source(), "give either '" + key_path(key) + "' or '" + key_path(env_key) + "', not both");
      return std::nullopt;
    }
    if (env_value != nullptr) {
      auto name = string(env_key);
      node(key);
      if (!name) {
        return std::nullopt;
      }
      auto found = diag_.env(*name);
      if (!found || found->empty()) {
        invalid(env_key, *env_value, "environment variable " + *name + " is not set or empty");
        return std::nullopt;
      }
      return found;
    }
    node(env_key);
    auto value = string(key);
    if (!value) {
      if (required && inline_value == nullptr) {
        diag_.error(table_.source(), "missing required key '" + key_path(key) + "' (or '" + key_path(env_key) + "')");
      }
      return std::nullopt;
    }
    if (value->empty()) {
      invalid(key, *inline_value, "must not be empty");
      return std::nullopt;
    }
    return value;
  }

  const toml::table* subtable(std::string_view key) {
    const toml::node* value = node(key);
    if (value == nullptr) {
      return nullptr;
    }
    if (!value->is_table()) {
      wrong_type(key, *value, "a table");
      return nullptr;
    }
    return value->as_table();
  }

  const toml::array* tables(std::string_view key) {
    const toml::node* value = node(key);
    if (value == nullptr) {
      return nullptr;
    }
    if (!value->is_array_of_tables()) {
      wrong_type(key, *value, "an array of tables ([[" + std::string(key) + "]])");
      return nullptr;
    }
    return value->as_array();
  }

  void finish() {
    for (auto&& [key, value] : table_) {
      if (known_.count(std::string(key.str())) != 0) {
        continue;
      }
      std::string message = "unknown key '" + key_path(key.str()) + "'";
      std::string best;
      std::size_t best_distance = 3;
      for (const std::string& candidate : known_) {
        const std::size_t d = edit_distance(key.str(), candidate);
        if (d < best_distance) {
          best_distance = d;
          best = candidate;
        }
      }
      if (!best.empty()) {
        message += "; did you mean '" + best + "'?";
      }
      diag_.error(key.source(), std::move(message));
    }
  }

 private:
  Diagnostics& diag_;
  const toml::table& table_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

bool parse_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  std::string_view host_part = text.substr(0, colon);
  if (host_part.front() == '[') {
    if (host_part.size() < 3 || host_part.back() != ']') {
      return false;
    }
    host_part = host_part.substr(1, host_part.size() - 2);
  } else if (host_part.find(':') != std::string_view::npos) {
    return false;  // IPv6 needs brackets
  }
  const std::string_view port_part = text.substr(colon + 1);
  if (port_part.empty() || port_part.size() > 5) {
    return false;
  }
  unsigned value = 0;
  for (char c : port_part) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) {
    return false;
  }
  host = std::string(host_part);
  port = static_cast<std::uint16_t>(value);
  return true;
}

void read_server(TableReader& t, adapters::http::ServerOptions& out, Diagnostics& diag) {
  if (auto listen = t.string("listen")) {
    if (!parse_host_port(*listen, out.listen_host, out.listen_port)) {
      t.invalid("listen", *t.node("listen"), "expected \"host:port\" (IPv6 as \"[::1]:8080\"), not \"" + *listen + "\"");
    }
  }
  if (auto v = t.integer("max_body_bytes", 1024, 1LL << 30)) out.max_body_bytes = static_cast<std::size_t>(*v);
  if (auto v = t.integer("threads", 1, 256)) out.threads = static_cast<unsigned>(*v);
  if (auto v = t.integer("max_connections", 1, 1'000'000)) out.max_connections = static_cast<std::size_t>(*v);
  if (auto v = t.duration("header_timeout", 1)) out.header_timeout_ms = *v;
  if (auto v = t.duration("request_timeout", 1)) out.request_timeout_ms = *v;
  if (auto v = t.duration("idle_timeout", 1)) out.idle_timeout_ms = *v;
  if (auto v = t.duration("drain_timeout", 1)) out.drain_timeout_ms = *v;
  auto cert = t.string("tls_cert");
  auto key = t.string("tls_key");
  if (cert.has_value() != key.has_value()) {
    diag.error(t.pos(), "'server.tls_cert' and 'server.tls_key' go together: set both or neither");
  }
  for (auto [name, value] : {std::pair{"tls_cert", &cert}, std::pair{"tls_key", &key}}) {
    if (*value && !std::filesystem::is_regular_file(**value)) {
      t.invalid(name, *t.node(name), "no readable file at \"" + **value + "\"");
    }
  }
  if (cert && key) {
    out.tls_cert = *cert;
    out.tls_key = *key;
  }
}

void read_storage(TableReader& t, adapters::storage::StorageOptions& out) {
  using adapters::storage::FsyncMode;
  if (auto v = t.name("dir", false)) out.dir = *v;
  auto mode = t.choice<FsyncMode>(
      "fsync",
      [](std::string_view s) -> std::optional<FsyncMode> {
        if (s == "always") return FsyncMode::always;
        if (s == "batch") return FsyncMode::batch;
        if (s == "none") return FsyncMode::none;
        return std::nullopt;
      },
      "always, batch, none");
  if (mode) out.fsync = *mode;
  if (auto v = t.duration("fsync_interval", 1)) out.fsync_interval_ms = *v;
  if (auto v = t.integer("snapshot_every", 1, 1LL << 40)) out.snapshot_every = static_cast<std::uint64_t>(*v);
}

// redis://[[user]:password@]host[:port][/db]
bool parse_redis_url(std::string_view url, adapters::redis::RedisOptions& out, std::string& why) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) {
    why = "must start with redis:// (TLS is not supported by hiredis 0.14)";
    return false;
  }
  std::string_view rest = url.substr(scheme.size());
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    const std::size_t colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      out.password = std::string(credentials);
    } else {
      out.username = std::string(credentials.substr(0, colon));
      out.password = std::string(credentials.substr(colon + 1));
    }
    rest = rest.substr(at + 1);
  }
  std::string_view db;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (rest.empty()) {
    why = "has no host";
    return false;
  }
  if (rest.find(':') == std::string_view::npos || (rest.front() == '[' && rest.back() == ']')) {
    out.host = std::string(rest.front() == '[' ? rest.substr(1, rest.size() - 2) : rest);
    out.port = 6379;
  } else if (!parse_host_port(rest, out.host, out.port) || out.port == 0) {
    why = "has an invalid host:port";
    return false;
  }
  if (!db.empty()) {
    unsigned value = 0;
    for (char c : db) {
      if (c < '0' || c > '9' || value > 100000) {
        why = "has an invalid database number";
        return false;
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    out.database = value;
  }
  return true;
}

void read_redis(TableReader& t, adapters::redis::RedisOptions& out) {
  if (auto url = t.secret("url", false)) {
    std::string why;
    const toml::node* at = t.node("url") != nullptr ? t.node("url") : t.node("url_env");
    if (!parse_redis_url(*url, out, why)) {
      // The URL may carry a password: never echo it.
      t.invalid(at == t.node("url") ? "url" : "url_env", *at, "the Redis URL " + why);
    }
  }
  if (auto v = t.name("channel_prefix", false)) out.channel_prefix = *v;
  if (auto v = t.name("input_stream", false)) out.input_stream = *v;
  if (auto v = t.name("group", false)) out.group = *v;
  if (auto v = t.name("output_stream", false)) out.output_stream = *v;
  if (auto v = t.integer("output_stream_maxlen", 1, 1LL << 40)) out.output_stream_maxlen = static_cast<std::uint64_t>(*v);
  if (auto v = t.integer("max_buffered", 1, 10'000'000)) out.max_buffered = static_cast<std::size_t>(*v);
  if (auto v = t.duration("claim_idle", 100)) out.claim_idle_ms = *v;
  if (auto v = t.name("consumer", false)) out.consumer = *v;
}

void read_routing(TableReader& t, core::RoutingSettings& out) {
  if (auto v = t.duration("disconnect_grace")) out.disconnect_grace_ms = *v;
  if (auto v = t.duration("queue_update_interval")) out.queue_update_interval_ms = *v;
  if (auto v = t.duration("initial_wait_estimate", 1000)) out.initial_wait_estimate_ms = *v;
  if (auto v = t.integer("max_messages", 0, 100'000)) out.max_messages = static_cast<std::uint32_t>(*v);
}

void read_delivery(TableReader& t, adapters::delivery::DeliveryOptions& out) {
  if (auto v = t.integer("max_attempts", 1, 1000)) out.max_attempts = static_cast<std::uint32_t>(*v);
  if (auto v = t.duration("max_age", 1000)) out.max_age_ms = *v;
  if (auto v = t.duration("initial_backoff", 1)) out.initial_backoff_ms = *v;
  if (auto v = t.duration("max_backoff", 1)) out.max_backoff_ms = *v;
  if (auto v = t.integer("concurrency", 1, 10'000)) out.concurrency = static_cast<std::size_t>(*v);
  if (auto v = t.duration("connect_timeout", 1)) out.connect_timeout_ms = *v;
  if (auto v = t.duration("response_timeout", 1)) out.response_timeout_ms = *v;
  if (auto v = t.integer("max_dead", 1, 10'000'000)) out.max_dead = static_cast<std::size_t>(*v);
}

void read_log(TableReader& t, LogOptions& out) {
  auto level = t.choice<std::string>(
      "level",
      [](std::string_view s) -> std::optional<std::string> {
        for (std::string_view known : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
          if (s == known) return std::string(s);
        }
        return std::nullopt;
      },
      "trace, debug, info, warn, error, critical, off");
  if (level) out.level = *level;
  auto format = t.choice<LogFormat>(
      "format",
      [](std::string_view s) -> std::optional<LogFormat> {
        if (s == "text") return LogFormat::text;
        if (s == "json") return LogFormat::json;
        return std::nullopt;
      },
      "text, json");
  if (format) out.format = *format;
}

std::optional<adapters::http::TokenSpec> read_token(TableReader& t) {
  using adapters::http::Scope;
  adapters::http::TokenSpec out;
  auto name = t.name("name");
  auto secret = t.secret("token", true);
  auto scopes = t.strings("scopes", true);
  if (scopes) {
    for (const std::string& s : *scopes) {
      if (s == "ingest") out.scopes |= static_cast<std::uint8_t>(Scope::ingest);
      else if (s == "operate") out.scopes |= static_cast<std::uint8_t>(Scope::operate);
      else if (s == "admin") out.scopes |= static_cast<std::uint8_t>(Scope::admin);
      else t.invalid("scopes", *t.node("scopes"), "unknown scope \"" + s + "\"; expected ingest, operate, admin");
    }
    if (scopes->empty()) {
      t.invalid("scopes", *t.node("scopes"), "must name at least one scope");
    }
  }
  if (auto workspaces = t.strings("workspaces")) {
    out.all_workspaces = std::find(workspaces->begin(), workspaces->end(), "*") != workspaces->end();
    if (!out.all_workspaces) {
      out.workspaces = *workspaces;
    }
    if (workspaces->empty()) {
      t.invalid("workspaces", *t.node("workspaces"), "must name at least one workspace, or \"*\"");
    }
  }
  t.finish();
  if (!name || !secret || !scopes) {
    return std::nullopt;
  }
  out.name = *name;
  out.secret = *secret;
  return out;
}

bool valid_source_name(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

std::optional<adapters::platforms::SourceSpec> read_source(TableReader& t, Diagnostics& diag) {
  using adapters::platforms::AuthType;
  using adapters::platforms::Format;
  adapters::platforms::SourceSpec out;
  auto name = t.name("name");
  if (name && !valid_source_name(*name)) {
    t.invalid("name", *t.node("name"), "may hold only letters, digits, '-', '_' and '.' (it is part of a URL path)");
    name.reset();
  }
  auto format = t.choice<Format>("format", adapters::platforms::parse_format,
                                 "canonical, widget, conduit, chatbot-thread, invent", true);
  if (auto ws = t.name("workspace", false)) {
    out.workspace = *ws;
  } else if (format && (*format == Format::widget || *format == Format::chatbot_thread || *format == Format::invent)) {
    diag.error(t.pos(), "missing required key '" + t.key_path("workspace") + "': " +
                            adapters::platforms::format_name(*format) + " payloads carry no workspace");
  }
  bool auth_ok = false;
  if (const toml::table* auth = t.subtable("auth")) {
    TableReader a(diag, *auth, t.key_path("auth"));
    auto type = a.choice<AuthType>(
        "type",
        [](std::string_view s) -> std::optional<AuthType> {
          if (s == "bearer") return AuthType::bearer;
          if (s == "hmac") return AuthType::hmac;
          if (s == "widget") return AuthType::widget;
          return std::nullopt;
        },
        "bearer, hmac, widget", true);
    if (type) {
      out.auth.type = *type;
      std::optional<std::string> secret;
      if (*type == AuthType::hmac) {
        secret = a.secret("secret", true);
      } else {
        secret = a.secret("token", true);
      }
      if (*type == AuthType::widget) {
        if (auto bot = a.name("bot_id")) {
          out.auth.bot_id = *bot;
        } else {
          secret.reset();
        }
      }
      if (secret) {
        out.auth.secret = *secret;
        auth_ok = true;
      }
    }
    a.finish();
  } else if (t.node("auth") == nullptr) {
    t.missing("auth");
  }
  if (const toml::table* cb = t.subtable("callback")) {
    TableReader c(diag, *cb, t.key_path("callback"));
    adapters::platforms::Callback callback;
    if (auto url = c.name("url")) {
      if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
        c.invalid("url", *c.node("url"), "must start with http:// or https://");
      }
      while (!url->empty() && url->back() == '/') {
        url->pop_back();
      }
      callback.url = *url;
    }
    if (auto v = c.secret("token", false)) callback.token = *v;
    if (auto v = c.secret("secret", false)) callback.secret = *v;
    if (auto v = c.name("bot_id", false)) callback.bot_id = *v;
    if (auto v = c.name("ca_file", false)) {
      if (!std::filesystem::is_regular_file(*v)) {
        c.invalid("ca_file", *c.node("ca_file"), "no readable file at \"" + *v + "\"");
      }
      callback.ca_file = *v;
    }
    if (format && *format == Format::widget && callback.bot_id.empty() && c.node("bot_id") == nullptr) {
      c.missing("bot_id");
    }
    c.finish();
    out.callback = std::move(callback);
  }
  t.finish();
  if (!name || !format || !auth_ok) {
    return std::nullopt;
  }
  out.name = *name;
  out.format = *format;
  return out;
}

std::optional<core::Scalar> read_scalar(const toml::node& node) {
  if (node.is_string()) return core::Scalar{node.as_string()->get()};
  if (node.is_boolean()) return core::Scalar{node.as_boolean()->get()};
  if (node.is_integer()) return core::Scalar{static_cast<double>(node.as_integer()->get())};
  if (node.is_floating_point()) return core::Scalar{node.as_floating_point()->get()};
  return std::nullopt;
}

std::optional<core::AgentSpec> read_agent(TableReader& t, Diagnostics& diag, const std::set<std::string>& sources) {
  core::AgentSpec out;
  auto id = t.name("id");
  if (auto v = t.name("name", false)) out.name = *v;
  if (auto v = t.string("avatar")) out.avatar = *v;
  auto workspaces = t.strings("workspaces", true);
  if (workspaces && workspaces->empty()) {
    t.invalid("workspaces", *t.node("workspaces"), "must name at least one workspace");
    workspaces.reset();
  }
  if (auto v = t.strings("skills")) out.skills = *v;
  if (auto v = t.strings("languages")) out.languages = *v;
  if (auto v = t.integer("capacity", 1, 10'000)) out.capacity = static_cast<std::uint32_t>(*v);
  if (auto v = t.choice<core::AgentStatus>("status", core::parse_agent_status, "available, away, offline")) {
    out.status = *v;
  }
  if (const toml::table* attributes = t.subtable("attributes")) {
    for (auto&& [key, value] : *attributes) {
      if (auto scalar = read_scalar(value)) {
        std::visit([&](auto&& s) { out.attributes.emplace_back(std::string(key.str()), core::AttributeValue{s}); },
                   *scalar);
      } else if (value.is_array()) {
        std::vector<core::Scalar> items;
        bool ok = true;
        for (const toml::node& item : *value.as_array()) {
          if (auto scalar = read_scalar(item)) {
            items.push_back(*scalar);
          } else {
            ok = false;
          }
        }
        if (ok) {
          out.attributes.emplace_back(std::string(key.str()), core::AttributeValue{std::move(items)});
        } else {
          diag.error(value.source(), "'" + t.key_path("attributes") + "." + std::string(key.str()) +
                                         "' must be a scalar or a list of scalars");
        }
      } else {
        diag.error(value.source(), "'" + t.key_path("attributes") + "." + std::string(key.str()) +
                                       "' must be a scalar or a list of scalars, not " + type_name(value));
      }
    }
  }
  if (const toml::table* external = t.subtable("external_ids")) {
    for (auto&& [key, value] : *external) {
      const std::string source(key.str());
      if (sources.count(source) == 0) {
        diag.error(key.source(), "'" + t.key_path("external_ids") + "." + source + "' names no configured source");
      } else if (!value.is_string() || value.as_string()->get().empty()) {
        diag.error(value.source(), "'" + t.key_path("external_ids") + "." + source + "' must be a non-empty string");
      } else {
        out.external_ids.emplace_back(source, value.as_string()->get());
      }
    }
  }
  t.finish();
  if (!id || !workspaces) {
    return std::nullopt;
  }
  out.id = *id;
  if (out.name.empty()) {
    out.name = out.id;
  }
  out.workspaces = *workspaces;
  return out;
}

core::ExpressionSource read_expression(TableReader& t, std::string_view key, bool required) {
  core::ExpressionSource out;
  out.text = "true";
  if (auto text = t.string(key, required)) {
    out.text = *text;
    out.pos = pos_of(t.node(key)->source());
  }
  return out;
}

std::optional<core::RouteSpec> read_route(TableReader& t) {
  core::RouteSpec out;
  auto name = t.name("name");
  out.when = read_expression(t, "when", false);
  auto queue = t.name("queue");
  if (queue) {
    out.queue_pos = pos_of(t.node("queue")->source());
  }
  t.finish();
  if (!name || !queue) {
    return std::nullopt;
  }
  out.name = *name;
  out.queue = *queue;
  return out;
}

std::optional<core::QueueSpec> read_queue(TableReader& t, Diagnostics& diag) {
  core::QueueSpec out;
  auto name = t.name("name");
  out.agents = read_expression(t, "agents", false);
  if (auto v = t.choice<core::Strategy>("strategy", core::parse_strategy,
                                        "round_robin, least_loaded, longest_idle, manual")) {
    out.strategy = *v;
  }
  if (auto v = t.boolean("sticky")) out.sticky = *v;
  if (auto v = t.duration("offer_timeout")) out.offer_timeout_ms = *v;
  if (auto v = t.integer("max_missed_offers", 1, 1000)) out.max_missed_offers = static_cast<std::uint32_t>(*v);
  if (auto v = t.duration("reply_timeout")) out.reply_timeout_ms = *v;
  if (auto v = t.duration("fail_after")) out.fail_after_ms = *v;
  bool steps_ok = true;
  if (const toml::array* steps = t.tables("steps")) {
    std::size_t index = 0;
    for (const toml::node& item : *steps) {
      TableReader s(diag, *item.as_table(), t.key_path("steps") + "[" + std::to_string(index++) + "]");
      core::QueueStep step;
      auto after = s.duration("after", 1);
      if (!after && s.node("after") == nullptr) {
        s.missing("after");
      }
      step.agents = read_expression(s, "agents", true);
      if (after) {
        step.after_ms = *after;
        if (!out.steps.empty() && out.steps.back().after_ms >= *after) {
          s.invalid("after", *s.node("after"), "steps must be in increasing order of 'after'");
          steps_ok = false;
        }
      } else {
        steps_ok = false;
      }
      s.finish();
      out.steps.push_back(std::move(step));
    }
  }
  t.finish();
  if (!name || !steps_ok) {
    return std::nullopt;
  }
  out.name = *name;
  return out;
}

template <typename T, typename Read>
void read_tables(TableReader& root, std::string_view key, std::vector<T>& out, Diagnostics& diag, Read read) {
  const toml::array* array = root.tables(key);
  if (array == nullptr) {
    return;
  }
  std::set<std::string> names;
  std::size_t index = 0;
  for (const toml::node& item : *array) {
    TableReader t(diag, *item.as_table(), std::string(key) + "[" + std::to_string(index++) + "]");
    if (auto value = read(t)) {
      const std::string& unique = [&]() -> const std::string& {
        if constexpr (requires { value->id; }) {
          return value->id;
        } else {
          return value->name;
        }
      }();
      if (!names.insert(unique).second) {
        diag.error(t.pos(), "duplicate " + std::string(key) + " entry \"" + unique + "\"");
        continue;
      }
      out.push_back(std::move(*value));
    }
  }
}

Config read_document(const toml::table& doc, Diagnostics& diag) {
  Config config = default_config();
  TableReader root(diag, doc, "");
  if (const toml::table* t = root.subtable("server")) {
    TableReader r(diag, *t, "server");
    read_server(r, config.server, diag);
    r.finish();
  }
  if (const toml::table* t = root.subtable("storage")) {
    TableReader r(diag, *t, "storage");
    read_storage(r, config.storage);
    r.finish();
  }
  if (const toml::table* t = root.subtable("redis")) {
    TableReader r(diag, *t, "redis");
    config.redis.emplace();
    read_redis(r, *config.redis);
    r.finish();
  }
  if (const toml::table* t = root.subtable("routing")) {
    TableReader r(diag, *t, "routing");
    read_routing(r, config.rules.settings);
    r.finish();
  }
  if (const toml::table* t = root.subtable("delivery")) {
    TableReader r(diag, *t, "delivery");
    read_delivery(r, config.delivery);
    r.finish();
  }
  if (const toml::table* t = root.subtable("log")) {
    TableReader r(diag, *t, "log");
    read_log(r, config.log);
    r.finish();
  }
  read_tables(root, "tokens", config.tokens, diag, [](TableReader& t) { return read_token(t); });
  read_tables(root, "sources", config.sources, diag, [&](TableReader& t) { return read_source(t, diag); });
  std::set<std::string> source_names;
  for (const auto& source : config.sources) {
    source_names.insert(source.name);
  }
  config.rules.agents.clear();
  read_tables(root, "agents", config.rules.agents, diag,
              [&](TableReader& t) { return read_agent(t, diag, source_names); });

  const bool has_routes = root.node("routes") != nullptr;
  const bool has_queues = root.node("queues") != nullptr;
  if (has_routes || has_queues) {
    config.rules.routes.clear();
    config.rules.queues.clear();
    read_tables(root, "queues", config.rules.queues, diag, [&](TableReader& t) { return read_queue(t, diag); });
    read_tables(root, "routes", config.rules.routes, diag, [](TableReader& t) { return read_route(t); });
    if (!has_routes) {
      diag.error(core::SourcePos{1, 1}, "[[queues]] are defined but no [[routes]]: nothing would reach them");
    }
    if (!has_queues) {
      diag.error(core::SourcePos{1, 1}, "[[routes]] are defined but no [[queues]]");
    }
    std::set<std::string> queue_names;
    for (const auto& queue : config.rules.queues) {
      queue_names.insert(queue.name);
    }
    for (const auto& route : config.rules.routes) {
      if (has_queues && queue_names.count(route.queue) == 0) {
        diag.error(route.queue_pos, "route \"" + route.name + "\" names queue \"" + route.queue + "\", which is not defined");
      }
    }
  }
  root.finish();
  // Rule expressions: compiled now so a bad one is reported at its place in the file.
  if (!diag.has_errors()) {
    for (const core::RuleError& error : core::validate_rules(config.rules)) {
      diag.error(error.pos, error.message);
    }
  }
  return config;
}

ConfigResult finish(Config config, Diagnostics& diag, const std::string& path) {
  ConfigResult result;
  result.errors = diag.take_errors();
  if (result.errors.empty()) {
    config.path = path;
    result.config = std::move(config);
  }
  return result;
}

}  // namespace

std::string ConfigError::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::optional<std::string> process_env(const std::string& name) {
  if (const char* value = std::getenv(name.c_str())) {
    return std::string(value);
  }
  return std::nullopt;
}

Config default_config() {
  Config config;
  config.path = "<defaults>";
  config.rules = core::default_rule_set();
  return config;
}

ConfigResult load_config_text(std::string_view text, const std::string& path, EnvLookup env) {
  Diagnostics diag(path, std::move(env));
  toml::table doc;
  try {
    doc = toml::parse(text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    diag.error(e.source(), std::string(e.description()));
    return finish(Config{}, diag, path);
  }
  Config config = read_document(doc, diag);
  return finish(std::move(config), diag, path);
}

ConfigResult load_config_file(const std::string& path, EnvLookup env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigResult result;
    result.errors.push_back({path, 0, 0, "cannot open the file: " + std::string(std::strerror(errno))});
    return result;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return load_config_text(buffer.str(), path, std::move(env));
}

}  // namespace router::daemon
