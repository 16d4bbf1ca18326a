#include "adapters/http/api.hpp"

#include "adapters/delivery/delivery_service.hpp"
#include "adapters/http/api_internal.hpp"
#include "adapters/metrics/registry.hpp"

#include <chrono>

namespace router::adapters::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (in[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto segment = percent_decode(path.substr(start, end - start), false);
    if (!segment) return std::nullopt;
    out.push_back(std::move(*segment));
    start = end;
  }
  return out;
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    if (!key->empty()) out[*key] = *value;
    start = end + 1;
  }
  return out;
}

bool is_json(const Request& request) {
  std::string_view type = request.header("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return iequals(type, "application/json");
}

Response method_not_allowed(const Request& request, std::string_view allow) {
  Response response = error_response(core::ErrorCode::invalid_argument,
                                     "method " + request.method + " is not allowed on " + request.path);
  response.status = 405;
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

Response unavailable(std::string message) { return error_response(core::ErrorCode::unavailable, std::move(message)); }

Response overloaded() { return unavailable("the router is at capacity; retry shortly"); }

void Api::metrics_response(Respond respond) {
  auto render = [respond](const metrics::GaugeWriter* core_gauges) {
    Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics::registry().render(core_gauges);
    respond(std::move(response));
  };
  const bool ready_now = ready();
  if (engine_ == nullptr || !ready_now) return render(nullptr);
  const bool queued = engine_->read([render](const core::Router& router) {
    metrics::GaugeWriter g;
    for (const core::QueueStats& q : router.queue_stats()) {
      const metrics::Labels labels{{"workspace", q.workspace_id}, {"queue", q.name.empty() ? "(unrouted)" : q.name}};
      g.set("escalation_router_queue_waiting", labels, q.waiting);
      g.set("escalation_router_queue_offered", labels, q.offered);
      g.set("escalation_router_queue_longest_wait_seconds", labels, static_cast<double>(q.longest_wait_seconds));
      g.set("escalation_router_queue_estimated_wait_seconds", labels, q.estimated_wait_minutes * 60.0);
    }
    std::map<std::string, int> by_status{{"available", 0}, {"away", 0}, {"offline", 0}};
    for (const core::Agent* agent : router.agents()) {
      if (!agent->removed) ++by_status[core::agent_status_name(agent->status)];
    }
    for (const auto& [status, count] : by_status) g.set("escalation_router_agents", {{"status", status}}, count);
    g.set("escalation_router_open_escalations", {}, static_cast<double>(router.open_escalation_count()));
    g.set("escalation_router_outbound_sequence", {}, static_cast<double>(router.sequence()));
    render(&g);
  });
  if (!queued) render(nullptr);
}

const std::vector<RouteInfo>& api_routes() {
  static const std::vector<RouteInfo> routes = {
      {"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/metrics"},
      {"POST", "/v1/events"}, {"POST", "/v1/webhooks/{source}"},
      {"GET", "/v1/escalations"}, {"GET", "/v1/escalations/{id}"},
      {"POST", "/v1/escalations/{id}/assign"}, {"POST", "/v1/escalations/{id}/unassign"},
      {"POST", "/v1/escalations/{id}/accept"}, {"POST", "/v1/escalations/{id}/reject"},
      {"POST", "/v1/escalations/{id}/takeover"}, {"POST", "/v1/escalations/{id}/send"},
      {"POST", "/v1/escalations/{id}/release"}, {"POST", "/v1/escalations/{id}/resolve"},
      {"GET", "/v1/agents"}, {"GET", "/v1/agents/{id}"}, {"PUT", "/v1/agents/{id}"}, {"POST", "/v1/agents/{id}/status"},
      {"GET", "/v1/queues"}, {"GET", "/v1/deliveries"}, {"POST", "/v1/deliveries/{id}/retry"},
      {"POST", "/v1/admin/reload"},
  };
  return routes;
}

Api::Api(engine::Engine* engine, ApiConfig config)
    : engine_(engine), context_(std::make_shared<const Context>(std::move(config))) {
  auto& r = metrics::registry();
  r.gauge("escalation_router_queue_waiting", "Escalations waiting in a queue");
  r.gauge("escalation_router_queue_offered", "Escalations offered to an agent, not yet accepted");
  r.gauge("escalation_router_queue_longest_wait_seconds", "How long the longest-waiting escalation of a queue has waited");
  r.gauge("escalation_router_queue_estimated_wait_seconds", "Estimated wait for a newcomer at the back of a queue (whole minutes, as customers are told)");
  r.gauge("escalation_router_agents", "Agents by status");
  r.gauge("escalation_router_open_escalations", "Open escalations (queued, offered, assigned, taken over)");
  r.gauge("escalation_router_outbound_sequence", "Sequence number of the last outbound event");
}

Api::~Api() = default;

void Api::reconfigure(ApiConfig config) {
  auto next = std::make_shared<const Context>(std::move(config));
  std::lock_guard lock(mutex_);
  context_ = std::move(next);
}

std::shared_ptr<const Api::Context> Api::context() const {
  std::lock_guard lock(mutex_);
  return context_;
}

namespace {

// A route template for metrics labels: ids replaced, so the label set stays small.
std::string route_template(const std::vector<std::string>& s) {
  if (s.size() < 2 || s[0] != "v1") return "other";
  std::string out = "/v1/" + s[1];
  if (s.size() >= 3) out += s[1] == "admin" ? "/" + s[2] : s[1] == "webhooks" ? "/{source}" : "/{id}";
  if (s.size() >= 4) out += "/" + s[3];
  if (s.size() > 4) return "other";
  return out;
}

}  // namespace

void Api::handle(Request request, Respond respond) {
  const auto started = std::chrono::steady_clock::now();
  std::string route = request.path == "/healthz" || request.path == "/readyz" || request.path == "/metrics" ? request.path : "";
  if (route.empty()) {
    auto segments = split_path(request.path);
    route = segments ? route_template(*segments) : "other";
  }
  respond = [respond = std::move(respond), started, route, method = request.method](Response response) {
    // The series of this route/method/status, looked up in the registry once per thread.
    struct Series {
      metrics::Counter* requests;
      metrics::Histogram* latency;
    };
    thread_local std::map<std::string, Series, std::less<>> cache;
    const std::string key = route + ' ' + method + ' ' + std::to_string(response.status);
    auto it = cache.find(key);
    if (it == cache.end()) {
      auto& registry = metrics::registry();
      Series series{&registry.counter("escalation_router_http_requests_total", "HTTP requests by route, method and status",
                                      {{"route", route}, {"method", method}, {"status", std::to_string(response.status)}}),
                    &registry.histogram("escalation_router_http_request_duration_seconds", "Time to answer an HTTP request",
                                        {{"route", route}})};
      it = cache.emplace(key, series).first;
    }
    it->second.requests->add();
    it->second.latency->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    respond(std::move(response));
  };
  handle_routes(std::move(request), std::move(respond));
}

void Api::handle_routes(Request request, Respond respond) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/healthz") {
    if (method != "GET" && method != "HEAD") return respond(method_not_allowed(request, "GET, HEAD"));
    return respond(json_response(200, R"({"status":"ok"})"));
  }
  if (path == "/metrics") {
    if (method != "GET" && method != "HEAD") return respond(method_not_allowed(request, "GET, HEAD"));
    return metrics_response(std::move(respond));
  }
  if (path == "/readyz") {
    if (method != "GET" && method != "HEAD") return respond(method_not_allowed(request, "GET, HEAD"));
    if (!ready()) return respond(unavailable("not ready: the journal is being replayed"));
    return respond(json_response(200, R"({"status":"ready"})"));
  }
  auto segments = split_path(path);
  if (!segments) {
    return respond(error_response(core::ErrorCode::invalid_argument, "malformed percent-encoding in the path"));
  }
  const auto& s = *segments;
  if (s.empty() || s[0] != "v1" || s.size() < 2 || engine_ == nullptr) {
    return respond(error_response(core::ErrorCode::not_found, "no route for " + method + " " + path));
  }
  const std::shared_ptr<const Context> ctx = context();
  const std::string& area = s[1];
  const bool known = area == "events" || area == "webhooks" || area == "escalations" || area == "agents" ||
                     area == "queues" || area == "admin" || area == "deliveries";
  if (!known) {
    return respond(error_response(core::ErrorCode::not_found, "no route for " + method + " " + path));
  }
  if (!ready()) {
    return respond(unavailable("not ready: the journal is being replayed"));
  }
  // Webhooks authenticate with the source's own scheme.
  if (area == "webhooks") {
    if (s.size() != 3) return respond(error_response(core::ErrorCode::not_found, "no route for " + method + " " + path));
    if (method != "POST") return respond(method_not_allowed(request, "POST"));
    return handle_webhook(Call{*engine_, *ctx, std::move(request), std::move(respond), std::nullopt}, s[2]);
  }
  std::optional<Principal> principal = ctx->tokens.authenticate(request);
  if (!principal) {
    return respond(error_response(core::ErrorCode::unauthenticated, "missing or invalid bearer token"));
  }
  const Scope needed = area == "events" ? Scope::ingest : area == "admin" ? Scope::admin : Scope::operate;
  if (!principal->has(needed)) {
    const char* name = needed == Scope::ingest ? "ingest" : needed == Scope::admin ? "admin" : "operate";
    return respond(error_response(core::ErrorCode::permission_denied,
                                  "token \"" + principal->name + "\" lacks the " + name + " scope"));
  }
  Call call{*engine_, *ctx, std::move(request), std::move(respond), std::move(principal)};
  if (area == "events") {
    if (s.size() != 2) return call.respond(error_response(core::ErrorCode::not_found, "no route for " + path));
    if (call.request.method != "POST") return call.respond(method_not_allowed(call.request, "POST"));
    return handle_events(std::move(call));
  }
  if (area == "escalations") return handle_escalations(std::move(call), s);
  if (area == "agents") return handle_agents(std::move(call), s);
  if (area == "deliveries") {
    std::vector<std::string> workspaces = call.principal->all_workspaces ? std::vector<std::string>{} : call.principal->workspaces;
    if (!call.principal->all_workspaces && workspaces.empty()) workspaces.push_back("\x1f");  // sees none
    if (s.size() == 2) {
      if (call.request.method != "GET") return call.respond(method_not_allowed(call.request, "GET"));
      auto query = parse_query(call.request.query);
      std::string state = query && query->count("state") ? query->at("state") : "pending";
      if (state != "pending" && state != "dead" && state != "all") {
        return call.respond(error_response(core::ErrorCode::invalid_argument, "state: expected pending, dead or all"));
      }
      if (deliveries_ == nullptr) return call.respond(json_response(200, R"({"data":[]})"));
      return deliveries_->list(state, workspaces, [respond = call.respond](std::string json) { respond(json_response(200, std::move(json))); });
    }
    if (s.size() == 4 && s[3] == "retry") {
      if (call.request.method != "POST") return call.respond(method_not_allowed(call.request, "POST"));
      if (deliveries_ == nullptr) return call.respond(error_response(core::ErrorCode::not_found, "delivery " + s[2] + " not found"));
      return deliveries_->retry(s[2], workspaces, [respond = call.respond](core::Status status, std::string json) {
        if (!status) return respond(error_response(status.error()));
        respond(json_response(200, std::move(json)));
      });
    }
    return call.respond(error_response(core::ErrorCode::not_found, "no route for " + call.request.method + " " + call.request.path));
  }
  if (area == "queues") {
    if (s.size() != 2) return call.respond(error_response(core::ErrorCode::not_found, "no route for " + path));
    if (call.request.method != "GET") return call.respond(method_not_allowed(call.request, "GET"));
    return handle_queues(std::move(call));
  }
  // admin
  if (s.size() != 3 || s[2] != "reload") return call.respond(error_response(core::ErrorCode::not_found, "no route for " + path));
  if (call.request.method != "POST") return call.respond(method_not_allowed(call.request, "POST"));
  if (!reload_hook_) return call.respond(unavailable("reload is not available"));
  reload_hook_([respond = std::move(call.respond)](std::string error) {
    if (error.empty()) {
      respond(json_response(200, R"({"reloaded":true})"));
    } else {
      respond(error_response(core::ErrorCode::invalid_argument, "configuration rejected, the running one is kept: " + error));
    }
  });
}

}  // namespace router::adapters::http
