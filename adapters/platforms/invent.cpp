// Invent (seed 004): a chat state object (conversation = the chat's id). ai_enabled false, nobody
// assigned and state OPEN: the AI handed over, escalationRequested. state CLOSED: the conversation
// ended. Anything else (snoozed, AI still on, already assigned) means nothing to the router.
#include "adapters/platforms/decoders.hpp"
#include "adapters/platforms/json_reader.hpp"

namespace router::adapters::platforms {

core::Result<std::vector<core::InboundEvent>> decode_invent(std::string_view json, const DecodeOptions& options) {
  auto root = parse_object(thread_parser(), json);
  if (!root) return std::move(root).error();
  auto [object, path] = unwrap(root->get_object().value(), "data");
  ObjectReader r(object, path);
  core::InboundEvent e;
  e.conversation_id = r.string("id", max_id_bytes).value_or("");
  const std::string state = r.string("state", 32).value_or("");
  const auto ai_enabled = r.boolean("ai_enabled");
  const bool assigned = r.get("assigned_user").has_value();
  if (auto assistant = r.object("assistant_config")) {
    ObjectReader a(*assistant, r.field_path("assistant_config"));
    if (auto language = a.string("language", 35); language && *language != "auto") e.language = *language;
    if (!a.ok()) return a.error();
  }
  if (auto conversation = r.string("conversation_id", max_id_bytes)) {
    e.attributes = core::Attributes{{"inventConversationId", *conversation}};
  }
  if (!r.ok()) return r.error();
  if (e.conversation_id.empty()) {
    r.require("id", "the chat id");
    return r.error();
  }
  if (state != "OPEN" && state != "SNOOZED" && state != "CLOSED") {
    return core::invalid_argument(r.field_path("state") + ": must be OPEN, SNOOZED or CLOSED");
  }
  if (!ai_enabled) {
    r.require("ai_enabled", "true or false");
    return r.error();
  }
  if (options.default_workspace.empty()) {
    return core::invalid_argument("the source has no workspace: invent payloads carry none");
  }
  e.workspace_id = options.default_workspace;
  e.source = options.source;
  e.external_id = e.conversation_id;
  if (state == "CLOSED") {
    e.type = core::InboundType::conversation_closed;
  } else if (state == "OPEN" && !*ai_enabled && !assigned) {
    e.type = core::InboundType::escalation_requested;
  } else {
    return std::vector<core::InboundEvent>{};
  }
  return std::vector<core::InboundEvent>{std::move(e)};
}

}  // namespace router::adapters::platforms
