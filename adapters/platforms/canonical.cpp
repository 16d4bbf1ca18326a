#include "adapters/platforms/canonical.hpp"

#include "adapters/platforms/json_reader.hpp"
#include "router/core/time.hpp"

namespace router::adapters::platforms {
namespace {

using core::InboundType;

core::Result<core::InboundEvent> decode_event(simdjson::dom::object object, const std::string& path,
                                              const DecodeOptions& options) {
  ObjectReader r(object, path);
  core::InboundEvent e;
  const auto type_name = r.string("eventType", 64);
  if (!r.ok()) return r.error();
  if (!type_name) {
    r.require("eventType", "");
    return r.error();
  }
  const auto type = core::parse_inbound_type(*type_name);
  if (!type) {
    return core::invalid_argument(r.field_path("eventType") + ": unknown event type \"" + *type_name +
                                  "\"; expected escalationRequested, message, escalationSuccess, agentDisconnect, "
                                  "agentStatus, escalationQueueUpdate, escalationFailed or conversationClosed");
  }
  e.type = *type;
  e.event_id = r.string("eventId", max_id_bytes).value_or("");
  e.workspace_id = r.string("workspaceId", max_id_bytes).value_or(options.default_workspace);
  auto conversation = r.string("conversationId", max_id_bytes);
  if (!conversation) conversation = r.string("platformConversationId", max_id_bytes);
  e.conversation_id = conversation.value_or("");
  e.source = r.string("source", max_id_bytes).value_or(options.source);
  e.external_id = r.string("externalId", max_id_bytes).value_or("");
  if (auto contact = r.object("contact")) {
    ObjectReader c(*contact, r.field_path("contact"));
    core::Contact out;
    out.id = c.string("id", max_id_bytes).value_or("");
    out.name = c.string("name", 512, true).value_or("");
    if (auto attributes = c.attributes("attributes")) out.attributes = std::move(*attributes);
    if (!c.ok()) return c.error();
    e.contact = std::move(out);
  }
  e.reason = r.string("reason", 4096, true).value_or("");
  if (auto priority = r.integer("priority", -1000, 1000)) e.priority = static_cast<std::int32_t>(*priority);
  e.language = r.string("language", 35).value_or("");
  e.skills = r.strings("skills", max_skills, 100);
  e.attributes = r.attributes("attributes");
  e.text = r.string("text", max_text_bytes, true).value_or("");
  e.agent_id = r.string("agentId", max_id_bytes).value_or("");
  e.agent_name = r.string("agent", 512).value_or("");
  e.agent_avatar = r.string("agentAvatar", 2048, true).value_or("");
  if (auto status = r.string("status", 32)) {
    e.status = core::parse_agent_status(*status);
    if (!e.status) {
      return core::invalid_argument(r.field_path("status") + ": unknown status \"" + *status +
                                    "\"; expected available, away or offline");
    }
  }
  if (auto position = r.integer("queuePosition", 0, 1'000'000, true)) e.queue_position = static_cast<std::int32_t>(*position);
  if (auto wait = r.integer("waitingTime", 0, 1'000'000, true)) e.waiting_time = static_cast<std::int32_t>(*wait);
  if (auto occurred = r.string("occurredAt", 64)) {
    auto at = core::parse_rfc3339(*occurred);
    if (!at) {
      return core::invalid_argument(r.field_path("occurredAt") + ": must be an RFC 3339 date-time, like 2026-03-12T10:05:00.000Z");
    }
    e.occurred_at = *at;
  }
  if (!r.ok()) return r.error();

  // What each event type needs.
  const bool about_agent = e.type == InboundType::agent_status || e.type == InboundType::agent_disconnect;
  if (!about_agent && e.workspace_id.empty()) {
    r.require("workspaceId", "or a source with a default workspace");
    return r.error();
  }
  if (!about_agent && e.conversation_id.empty()) {
    r.require("conversationId", "or platformConversationId");
    return r.error();
  }
  if ((about_agent || e.type == InboundType::escalation_success) && e.agent_id.empty() && e.agent_name.empty()) {
    r.require("agentId", "or agent, naming the agent");
    return r.error();
  }
  if (e.type == InboundType::agent_status && !e.status) {
    r.require("status", "available, away or offline");
    return r.error();
  }
  if (e.type == InboundType::message && e.text.empty()) {
    r.require("text", "a message needs text");
    return r.error();
  }
  return e;
}

}  // namespace

core::Result<std::vector<core::InboundEvent>> decode_canonical(std::string_view json, const DecodeOptions& options) {
  auto root = parse_object(thread_parser(), json);
  if (!root) return std::move(root).error();
  simdjson::dom::object object = root->get_object().value();
  std::vector<core::InboundEvent> out;
  simdjson::dom::element events;
  if (object.at_key("events").get(events) == simdjson::SUCCESS) {
    simdjson::dom::array array;
    if (events.get_array().get(array) != simdjson::SUCCESS) {
      return core::invalid_argument("events: must be an array of event objects");
    }
    if (array.size() == 0) return core::invalid_argument("events: must hold at least one event");
    if (array.size() > options.max_batch) {
      return core::invalid_argument("events: at most " + std::to_string(options.max_batch) + " events per request");
    }
    std::size_t index = 0;
    for (simdjson::dom::element item : array) {
      const std::string path = "events[" + std::to_string(index++) + "]";
      simdjson::dom::object event_object;
      if (item.get_object().get(event_object) != simdjson::SUCCESS) {
        return core::invalid_argument(path + ": must be an object");
      }
      auto event = decode_event(event_object, path, options);
      if (!event) return std::move(event).error();
      out.push_back(std::move(event).value());
    }
    return out;
  }
  auto event = decode_event(object, "", options);
  if (!event) return std::move(event).error();
  out.push_back(std::move(event).value());
  return out;
}

}  // namespace router::adapters::platforms
