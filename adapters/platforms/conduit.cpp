// Conduit (seed 000): the escalation object, bare or under "data". id -> externalId, workspace_id,
// conversation_id, contact_id, disposition_reason -> reason, guest_message -> text. A pending
// escalation requests a human; a closed one (resolved, dismissed, closed) closes the conversation.
#include "adapters/platforms/decoders.hpp"
#include "adapters/platforms/json_reader.hpp"

namespace router::adapters::platforms {

core::Result<std::vector<core::InboundEvent>> decode_conduit(std::string_view json, const DecodeOptions& options) {
  auto root = parse_object(thread_parser(), json);
  if (!root) return std::move(root).error();
  auto [object, path] = unwrap(root->get_object().value(), "data");
  ObjectReader r(object, path);
  core::InboundEvent e;
  e.external_id = r.string("id", max_id_bytes).value_or("");
  e.workspace_id = r.string("workspace_id", max_id_bytes).value_or(options.default_workspace);
  e.conversation_id = r.string("conversation_id", max_id_bytes).value_or("");
  if (auto contact = r.string("contact_id", max_id_bytes)) e.contact = core::Contact{*contact, "", {}};
  e.reason = r.string("disposition_reason", 4096, true).value_or("");
  e.text = r.string("guest_message", max_text_bytes, true).value_or("");
  const std::string status = r.string("status", 64).value_or("pending");
  if (auto created = r.string("created_at", 64)) {
    if (auto at = core::parse_rfc3339(*created)) e.occurred_at = *at;
  }
  if (!r.ok()) return r.error();
  if (e.external_id.empty()) {
    r.require("id", "the Conduit escalation id");
    return r.error();
  }
  if (e.conversation_id.empty()) {
    r.require("conversation_id", "");
    return r.error();
  }
  if (e.workspace_id.empty()) {
    r.require("workspace_id", "or a workspace on the source");
    return r.error();
  }
  e.source = options.source;
  if (status == "resolved" || status == "dismissed" || status == "closed") {
    e.type = core::InboundType::conversation_closed;
  } else {
    e.type = core::InboundType::escalation_requested;
    e.attributes = core::Attributes{{"conduitStatus", status}};
  }
  return std::vector<core::InboundEvent>{std::move(e)};
}

}  // namespace router::adapters::platforms
