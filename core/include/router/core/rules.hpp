// The routing configuration as the core receives it: agents, routes, queues and routing settings.
// Expressions are kept as source text with their position in the file; the core compiles them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "router/core/time.hpp"

namespace router::core {

// Where a piece of configuration came from, for error messages ("file:line:col").
struct SourcePos {
  std::uint32_t line = 0;    // 1-based; 0 when unknown (e.g. defined through the API)
  std::uint32_t column = 0;  // 1-based
};

// An attribute value: a JSON scalar or a list of scalars.
using Scalar = std::variant<std::monostate, bool, double, std::string>;
using AttributeValue = std::variant<std::monostate, bool, double, std::string, std::vector<Scalar>>;
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;

enum class AgentStatus : std::uint8_t { available, away, offline };
const char* agent_status_name(AgentStatus status) noexcept;
std::optional<AgentStatus> parse_agent_status(std::string_view text) noexcept;

struct AgentSpec {
  std::string id;
  std::string name;
  std::string avatar;
  std::vector<std::string> workspaces;
  std::vector<std::string> skills;
  std::vector<std::string> languages;
  std::uint32_t capacity = 1;
  AgentStatus status = AgentStatus::available;
  Attributes attributes;
  std::vector<std::pair<std::string, std::string>> external_ids;  // source name -> platform id
};

// A rule expression as written, and where its text starts in the file.
struct ExpressionSource {
  std::string text;
  SourcePos pos;
};

struct RouteSpec {
  std::string name;
  ExpressionSource when;
  std::string queue;
  SourcePos queue_pos;
};

enum class Strategy : std::uint8_t { round_robin, least_loaded, longest_idle, manual };
const char* strategy_name(Strategy strategy) noexcept;
std::optional<Strategy> parse_strategy(std::string_view text) noexcept;

struct QueueStep {
  DurationMs after_ms = 0;
  ExpressionSource agents;
};

struct QueueSpec {
  std::string name;
  ExpressionSource agents;
  Strategy strategy = Strategy::least_loaded;
  bool sticky = false;
  DurationMs offer_timeout_ms = 0;  // 0: assign directly, no offer
  std::uint32_t max_missed_offers = 3;
  DurationMs reply_timeout_ms = 0;  // 0: never requeue for silence
  DurationMs fail_after_ms = 0;     // 0: wait forever
  std::vector<QueueStep> steps;     // ascending by after_ms
};

struct RoutingSettings {
  DurationMs disconnect_grace_ms = 60'000;
  DurationMs queue_update_interval_ms = 10'000;
  DurationMs initial_wait_estimate_ms = 120'000;
  std::uint32_t max_messages = 200;  // message history kept per escalation
};

struct RuleSet {
  RoutingSettings settings;
  std::vector<AgentSpec> agents;
  std::vector<RouteSpec> routes;
  std::vector<QueueSpec> queues;
};

// The rules the daemon runs with when the configuration names none: one queue, one route.
RuleSet default_rule_set();

}  // namespace router::core
