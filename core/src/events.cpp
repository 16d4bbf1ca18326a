#include "router/core/events.hpp"

#include "router/core/json_writer.hpp"
#include "router_state.hpp"

namespace router::core {

const char* inbound_type_name(InboundType type) noexcept {
  switch (type) {
    case InboundType::escalation_requested: return "escalationRequested";
    case InboundType::message: return "message";
    case InboundType::escalation_success: return "escalationSuccess";
    case InboundType::agent_disconnect: return "agentDisconnect";
    case InboundType::agent_status: return "agentStatus";
    case InboundType::escalation_queue_update: return "escalationQueueUpdate";
    case InboundType::escalation_failed: return "escalationFailed";
    case InboundType::conversation_closed: return "conversationClosed";
  }
  return "?";
}

std::optional<InboundType> parse_inbound_type(std::string_view text) noexcept {
  for (auto t : {InboundType::escalation_requested, InboundType::message, InboundType::escalation_success,
                 InboundType::agent_disconnect, InboundType::agent_status, InboundType::escalation_queue_update,
                 InboundType::escalation_failed, InboundType::conversation_closed}) {
    if (text == inbound_type_name(t)) {
      return t;
    }
  }
  return std::nullopt;
}

const char* outbound_type_name(OutboundType type) noexcept {
  switch (type) {
    case OutboundType::escalation_created: return "escalationCreated";
    case OutboundType::escalation_queue_update: return "escalationQueueUpdate";
    case OutboundType::escalation_offered: return "escalationOffered";
    case OutboundType::escalation_success: return "escalationSuccess";
    case OutboundType::escalation_unassigned: return "escalationUnassigned";
    case OutboundType::escalation_taken_over: return "escalationTakenOver";
    case OutboundType::escalation_released: return "escalationReleased";
    case OutboundType::escalation_resolved: return "escalationResolved";
    case OutboundType::escalation_failed: return "escalationFailed";
    case OutboundType::escalation_cancelled: return "escalationCancelled";
    case OutboundType::message: return "message";
    case OutboundType::agent_disconnect: return "agentDisconnect";
    case OutboundType::agent_status_changed: return "agentStatusChanged";
  }
  return "?";
}

void write_decision_json(JsonWriter& w, const Decision& d) {
  w.begin_object();
  w.field("at", format_rfc3339_ms(d.at)).field("action", d.action);
  if (!d.route.empty()) w.field("route", d.route);
  if (!d.queue.empty()) w.field("queue", d.queue);
  if (d.step >= 0) w.field("step", d.step);
  if (!d.agent.empty()) w.field("agentId", d.agent);
  w.field("reason", d.reason());
  w.key("candidates").begin_array();
  for (const auto& c : d.candidates) {
    w.begin_object().field("agentId", c.agent).field("verdict", c.verdict()).end_object();
  }
  w.end_array();
  if (d.not_examined != 0) w.field("notExamined", d.not_examined);
  w.end_object();
}

std::string outbound_event_json(const OutboundEvent& e, bool with_decision) {
  JsonWriter w;
  w.begin_object();
  w.field("eventId", e.event_id).field("sequence", e.sequence).field("eventType", outbound_type_name(e.type));
  w.field("occurredAt", format_rfc3339_ms(e.at)).field("workspaceId", e.workspace_id);
  if (!e.escalation_id.empty()) w.field("escalationId", e.escalation_id);
  if (!e.conversation_id.empty()) w.field("conversationId", e.conversation_id);
  if (!e.source.empty()) w.field("source", e.source);
  if (!e.external_id.empty()) w.field("externalId", e.external_id);
  if (!e.agent_id.empty()) w.field("agentId", e.agent_id);
  if (!e.agent_external_id.empty()) w.field("agentExternalId", e.agent_external_id);
  if (!e.agent_name.empty()) w.field("agent", e.agent_name);
  if (!e.agent_avatar.empty()) w.field("agentAvatar", e.agent_avatar);
  if (!e.queue.empty()) w.field("queue", e.queue);
  if (e.queue_position >= 0) w.field("queuePosition", e.queue_position);
  if (e.waiting_time >= 0) w.field("waitingTime", e.waiting_time);
  if (!e.status.empty()) w.field("status", e.status);
  if (e.version != 0) w.field("version", e.version);
  if (!e.reason.empty()) w.field("reason", e.reason);
  if (!e.text.empty()) w.field("text", e.text);
  if (!e.role.empty()) w.field("role", e.role);
  if (!e.escalation_id.empty()) w.field("aiEnabled", e.ai_enabled);
  if (with_decision && e.decision) {
    w.key("decision");
    write_decision_json(w, *e.decision);
  }
  w.end_object();
  return std::move(w).str();
}

OutboundEvent& Router::State::emit(OutboundType type, const Escalation* esc) {
  if (quiet) {
    ulids.skip(now);
    ++sequence;
    quiet_event.decision.reset();
    return quiet_event;
  }
  OutboundEvent& e = out->events.emplace_back();
  ulids.next(now, e.event_id);
  e.sequence = ++sequence;
  e.type = type;
  e.at = now;
  if (esc != nullptr) {
    // Assigned in place (the fields are empty, short names fit their inline buffers): no temporaries.
    e.workspace_id.assign(symbols.text(esc->workspace));
    e.escalation_id = esc->id;
    e.conversation_id.assign(esc->conversation_id);
    if (esc->source != no_symbol) e.source.assign(symbols.text(esc->source));
    if (!esc->external_id.empty()) e.external_id.assign(esc->external_id);
    e.queue.assign(symbols.text(esc->queue));
    e.status.assign(escalation_status_text(esc->status));
    e.version = esc->version;
    e.ai_enabled = esc->ai_enabled;
    const AgentIndex holder = esc->taken_over_by != no_index ? esc->taken_over_by : esc->assignee;
    if (holder != no_index) {
      const Agent& agent = agents[holder];
      e.agent_id.assign(agent.id);
      e.agent_name.assign(agent.name);
      if (!agent.avatar.empty()) e.agent_avatar.assign(agent.avatar);
      for (const auto& [source, external] : agent.external_ids) {
        if (source == e.source) {
          e.agent_external_id = external;
        }
      }
    }
  }
  return e;
}

void Router::State::emit_agent_status(const Agent& agent) {
  // One event per workspace of the agent, so each workspace channel hears of it.
  for (Symbol ws : agent.workspaces) {
    OutboundEvent& e = emit(OutboundType::agent_status_changed, nullptr);
    e.workspace_id.assign(symbols.text(ws));
    e.agent_id = agent.id;
    e.agent_name = agent.name;
    e.agent_avatar = agent.avatar;
    e.status = agent_status_name(agent.status);
  }
}

}  // namespace router::core
