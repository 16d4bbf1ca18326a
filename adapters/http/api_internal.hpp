// Internal to the API's source files: the shared pieces of request handling.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/engine/engine.hpp"
#include "adapters/http/api.hpp"
#include "adapters/http/auth.hpp"

namespace router::adapters::http {

struct Api::Context {
  ApiConfig config;
  TokenAuthenticator tokens;
  std::map<std::string, platforms::SourceSpec, std::less<>> sources;

  explicit Context(ApiConfig c) : config(std::move(c)), tokens(config.tokens) {
    for (const auto& s : config.sources) sources.emplace(s.name, s);
  }
};

// Path segments, percent-decoded ("/v1/escalations/01J/assign" -> {"v1","escalations","01J","assign"}).
std::optional<std::vector<std::string>> split_path(std::string_view path);
// Query parameters, percent-decoded; nullopt when malformed.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

bool is_json(const Request& request);
Response method_not_allowed(const Request& request, std::string_view allow);
Response unavailable(std::string message);

// The engine refused (input queue full): 503 with Retry-After.
Response overloaded();

struct Call {
  engine::Engine& engine;
  const Api::Context& context;
  Request request;
  Respond respond;
  std::optional<Principal> principal;
};

void handle_events(Call call);
void handle_webhook(Call call, const std::string& source);
void handle_escalations(Call call, const std::vector<std::string>& segments);
void handle_agents(Call call, const std::vector<std::string>& segments);
void handle_queues(Call call);

}  // namespace router::adapters::http
