#include "router/core/rules.hpp"

namespace router::core {

const char* agent_status_name(AgentStatus status) noexcept {
  switch (status) {
    case AgentStatus::available: return "available";
    case AgentStatus::away: return "away";
    case AgentStatus::offline: return "offline";
  }
  return "offline";
}

std::optional<AgentStatus> parse_agent_status(std::string_view text) noexcept {
  if (text == "available") return AgentStatus::available;
  if (text == "away") return AgentStatus::away;
  if (text == "offline") return AgentStatus::offline;
  return std::nullopt;
}

const char* strategy_name(Strategy strategy) noexcept {
  switch (strategy) {
    case Strategy::round_robin: return "round_robin";
    case Strategy::least_loaded: return "least_loaded";
    case Strategy::longest_idle: return "longest_idle";
    case Strategy::manual: return "manual";
  }
  return "manual";
}

std::optional<Strategy> parse_strategy(std::string_view text) noexcept {
  if (text == "round_robin") return Strategy::round_robin;
  if (text == "least_loaded") return Strategy::least_loaded;
  if (text == "longest_idle") return Strategy::longest_idle;
  if (text == "manual") return Strategy::manual;
  return std::nullopt;
}

RuleSet default_rule_set() {
  RuleSet rules;
  QueueSpec general;
  general.name = "general";
  general.agents.text = "true";
  rules.queues.push_back(std::move(general));
  RouteSpec route;
  route.name = "default";
  route.when.text = "true";
  route.queue = "general";
  rules.routes.push_back(std::move(route));
  return rules;
}

}  // namespace router::core
