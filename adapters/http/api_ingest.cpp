// Ingest: POST /v1/events (canonical, one or a batch) and POST /v1/webhooks/{source} (platform formats).
#include <chrono>
#include <map>

#include "adapters/http/api_internal.hpp"
#include "adapters/metrics/registry.hpp"
#include "adapters/platforms/decoders.hpp"
#include "router/core/json_writer.hpp"

namespace router::adapters::http {
namespace {

core::TimestampMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Applies the decoded events in order and answers 202 {"accepted": N} once they are applied.
void apply_events(Call& call, std::vector<core::InboundEvent> events, const std::string& via) {
  std::vector<core::Command> commands;
  commands.reserve(events.size());
  thread_local std::map<std::string, metrics::Counter*, std::less<>> counters;
  for (auto& event : events) {
    const std::string key = via + ' ' + core::inbound_type_name(event.type);
    auto it = counters.find(key);
    if (it == counters.end()) {
      it = counters.emplace(key, &metrics::registry().counter("escalation_router_events_in_total",
                                                              "Inbound events accepted, by source and type",
                                                              {{"source", via}, {"type", core::inbound_type_name(event.type)}}))
               .first;
    }
    it->second->add();
    commands.emplace_back(std::move(event));
  }
  const std::size_t count = commands.size();
  if (count == 0) {
    return call.respond(json_response(202, R"({"accepted":0})"));
  }
  const bool queued = call.engine.submit_all(
      std::move(commands), [respond = call.respond, count](const std::vector<core::Outcome>& outcomes, const core::Router&) {
        core::JsonWriter w;
        w.begin_object().field("accepted", static_cast<std::uint64_t>(count));
        std::uint64_t duplicates = 0;
        for (const auto& o : outcomes) duplicates += o.duplicate ? 1 : 0;
        if (duplicates != 0) w.field("duplicates", duplicates);
        w.key("escalationIds").begin_array();
        for (const auto& o : outcomes) {
          o.escalation_id.empty() ? w.null() : w.value(o.escalation_id);
        }
        w.end_array().end_object();
        respond(json_response(202, std::move(w).str()));
      });
  if (!queued) call.respond(overloaded());
}

}  // namespace

void handle_events(Call call) {
  if (!is_json(call.request)) {
    return call.respond(error_response(core::ErrorCode::unsupported_media, "Content-Type must be application/json"));
  }
  platforms::DecodeOptions options;
  auto decoded = platforms::decode_canonical(call.request.body, options);
  if (!decoded) return call.respond(error_response(decoded.error()));
  std::vector<core::InboundEvent> events = std::move(decoded).value();
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!events[i].workspace_id.empty() && !call.principal->allows(events[i].workspace_id)) {
      const std::string where = events.size() > 1 ? "events[" + std::to_string(i) + "].workspaceId" : "workspaceId";
      return call.respond(error_response(core::ErrorCode::not_found, where + ": workspace \"" + events[i].workspace_id + "\" not found"));
    }
  }
  apply_events(call, std::move(events), "api");
}

void handle_webhook(Call call, const std::string& source_name) {
  auto it = call.context.sources.find(source_name);
  if (it == call.context.sources.end()) {
    return call.respond(error_response(core::ErrorCode::not_found, "unknown source \"" + source_name + "\""));
  }
  const platforms::SourceSpec& source = it->second;
  std::string idempotency_key;
  const std::string why = verify_source_auth(source, call.request, now_ms(), &idempotency_key);
  if (!why.empty()) {
    return call.respond(error_response(core::ErrorCode::unauthenticated, "source \"" + source.name + "\": " + why));
  }
  if (!is_json(call.request)) {
    return call.respond(error_response(core::ErrorCode::unsupported_media, "Content-Type must be application/json"));
  }
  platforms::DecodeOptions options;
  options.default_workspace = source.workspace;
  options.source = source.name;
  auto decoded = platforms::decode_webhook(source.format, call.request.body, options);
  if (!decoded) return call.respond(error_response(decoded.error()));
  std::vector<core::InboundEvent> events = std::move(decoded).value();
  for (std::size_t i = 0; i < events.size(); ++i) {
    core::InboundEvent& e = events[i];
    if (e.source.empty()) e.source = source.name;
    if (!idempotency_key.empty() && e.event_id.empty()) {
      e.event_id = events.size() == 1 ? idempotency_key : idempotency_key + "#" + std::to_string(i);
    }
  }
  apply_events(call, std::move(events), source.name);
}

}  // namespace router::adapters::http
