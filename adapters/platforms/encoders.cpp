#include "adapters/platforms/encoders.hpp"

#include <algorithm>

#include "router/core/json_writer.hpp"

namespace router::adapters::platforms {
namespace {

using core::OutboundType;

std::string path_segment(std::string_view text) {
  // Percent-encodes everything but unreserved characters (ids go into URL paths).
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string agent_platform_id(const core::OutboundEvent& e) { return e.agent_external_id.empty() ? e.agent_id : e.agent_external_id; }

std::optional<CallbackRequest> widget(const SourceSpec& s, const core::OutboundEvent& e) {
  core::JsonWriter w;
  w.begin_object().field("platformConversationId", e.conversation_id);
  switch (e.type) {
    case OutboundType::escalation_queue_update:
      w.field("eventType", "escalationQueueUpdate");
      if (e.queue_position >= 0) w.field("queuePosition", e.queue_position);
      if (e.waiting_time >= 0) w.field("waitingTime", e.waiting_time);
      break;
    case OutboundType::escalation_success:
      w.field("eventType", "escalationSuccess").field("agent", e.agent_name);
      if (!e.agent_avatar.empty()) w.field("agentAvatar", e.agent_avatar);
      break;
    case OutboundType::message:
      if (e.role != "agent") return std::nullopt;  // the customer's own words are not echoed back
      w.field("eventType", "message").field("text", e.text);
      if (!e.agent_name.empty()) w.field("agent", e.agent_name);
      break;
    case OutboundType::escalation_failed:
    case OutboundType::escalation_cancelled:
      w.field("eventType", "escalationFailed");
      break;
    case OutboundType::agent_disconnect:
      w.field("eventType", "agentDisconnect");
      break;
    default: return std::nullopt;
  }
  w.end_object();
  CallbackRequest r;
  r.method = "POST";
  r.url = s.callback->url + "/agent/converse/send-message-to-widget";
  r.headers = {{"Authorization", s.callback->token}, {"botid", s.callback->bot_id}};
  r.body = std::move(w).str();
  return r;
}

std::optional<CallbackRequest> conduit(const SourceSpec& s, const core::OutboundEvent& e) {
  if (e.type != OutboundType::escalation_success || e.external_id.empty()) return std::nullopt;
  core::JsonWriter w;
  w.begin_object().field("assignee_id", agent_platform_id(e)).end_object();
  CallbackRequest r;
  r.method = "POST";
  r.url = s.callback->url + "/v1/escalations/" + path_segment(e.external_id) + "/assign";
  r.headers = {{"Authorization", "Bearer " + s.callback->token}};
  r.body = std::move(w).str();
  return r;
}

std::optional<CallbackRequest> invent(const SourceSpec& s, const core::OutboundEvent& e) {
  core::JsonWriter w;
  w.begin_object().key("member_id");
  if (e.type == OutboundType::escalation_success || e.type == OutboundType::escalation_taken_over) {
    w.value(agent_platform_id(e));
  } else if (e.type == OutboundType::escalation_unassigned || e.type == OutboundType::escalation_released) {
    w.null();
  } else {
    return std::nullopt;
  }
  w.end_object();
  CallbackRequest r;
  r.method = "PATCH";
  r.url = s.callback->url + "/chats/" + path_segment(e.external_id.empty() ? e.conversation_id : e.external_id) + "/state/assign";
  if (!s.callback->token.empty()) r.headers = {{"Authorization", "Bearer " + s.callback->token}};
  r.body = std::move(w).str();
  return r;
}

std::optional<CallbackRequest> chatbot_thread(const SourceSpec& s, const core::OutboundEvent& e, ThreadFlags& threads) {
  if (e.type == OutboundType::escalation_created) {
    threads.set(e.conversation_id, true);
    return std::nullopt;
  }
  if (e.type == OutboundType::escalation_cancelled) {
    threads.set(e.conversation_id, false);  // the thread de-escalated itself
    return std::nullopt;
  }
  if (e.type != OutboundType::escalation_released && e.type != OutboundType::escalation_resolved) return std::nullopt;
  if (!threads.escalated(e.conversation_id)) return std::nullopt;  // a toggle is not idempotent
  threads.set(e.conversation_id, false);
  CallbackRequest r;
  r.method = "PATCH";
  r.url = s.callback->url + "/v1/chatting/" + path_segment(e.external_id) + "/thread/" + path_segment(e.conversation_id) + "/escalate";
  if (!s.callback->token.empty()) r.headers = {{"Authorization", "Bearer " + s.callback->token}};
  return r;
}

}  // namespace

bool ThreadFlags::escalated(const std::string& conversation) const {
  auto it = flags_.find(conversation);
  return it == flags_.end() ? unknown_is_escalated_ : it->second;
}

void ThreadFlags::set(const std::string& conversation, bool escalated) {
  if (escalated) {
    flags_[conversation] = true;
  } else {
    flags_[conversation] = false;
  }
}

std::vector<std::pair<std::string, std::string>> callback_headers(const SourceSpec& source) {
  if (!source.callback) return {};
  const Callback& c = *source.callback;
  if (source.format == Format::widget) return {{"Authorization", c.token}, {"botid", c.bot_id}};
  if (c.token.empty()) return {};
  return {{"Authorization", "Bearer " + c.token}};
}

std::optional<CallbackRequest> encode_callback(const SourceSpec& source, const core::OutboundEvent& event, ThreadFlags& threads) {
  if (!source.callback || event.conversation_id.empty()) return std::nullopt;
  switch (source.format) {
    case Format::canonical: {
      CallbackRequest r;
      r.method = "POST";
      r.url = source.callback->url;
      r.body = core::outbound_event_json(event);
      r.sign_standard_webhook = !source.callback->secret.empty();
      if (!source.callback->token.empty()) r.headers = {{"Authorization", "Bearer " + source.callback->token}};
      return r;
    }
    case Format::widget: return widget(source, event);
    case Format::conduit: return conduit(source, event);
    case Format::invent: return invent(source, event);
    case Format::chatbot_thread: return chatbot_thread(source, event, threads);
  }
  return std::nullopt;
}

}  // namespace router::adapters::platforms
