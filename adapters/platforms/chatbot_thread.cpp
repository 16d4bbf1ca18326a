// Chatbot threads (seed 001): a thread object, bare or under data.thread. escalated: true requests
// a human for the thread (conversation = thread id, contact = the visitor); escalated: false cancels.
// The chatbotId is kept as the external id: the callback path needs it.
#include "adapters/platforms/decoders.hpp"
#include "adapters/platforms/json_reader.hpp"

namespace router::adapters::platforms {

core::Result<std::vector<core::InboundEvent>> decode_chatbot_thread(std::string_view json, const DecodeOptions& options) {
  auto root = parse_object(thread_parser(), json);
  if (!root) return std::move(root).error();
  simdjson::dom::object object = root->get_object().value();
  std::string path;
  simdjson::dom::object thread;
  if (object.at_key("data").at_key("thread").get_object().get(thread) == simdjson::SUCCESS) {
    object = thread;
    path = "data.thread";
  }
  ObjectReader r(object, path);
  core::InboundEvent e;
  e.conversation_id = r.string("id", max_id_bytes).value_or("");
  e.external_id = r.string("chatbotId", max_id_bytes).value_or("");
  const auto escalated = r.boolean("escalated");
  core::Contact contact;
  contact.id = r.string("visitorId", max_id_bytes).value_or("");
  contact.name = r.string("visitorName", 512, true).value_or("");
  if (auto email = r.string("visitorEmail", 512, true); email && !email->empty()) {
    contact.attributes.emplace_back("email", *email);
  }
  if (auto platform = r.string("platformSource", 128, true); platform && !platform->empty()) {
    contact.attributes.emplace_back("platformSource", *platform);
  }
  if (auto tags = r.strings("tags", 64, 128)) {
    std::vector<core::Scalar> list(tags->begin(), tags->end());
    e.attributes = core::Attributes{{"tags", std::move(list)}};
  }
  if (!r.ok()) return r.error();
  if (e.conversation_id.empty()) {
    r.require("id", "the thread id");
    return r.error();
  }
  if (!escalated) {
    r.require("escalated", "true or false");
    return r.error();
  }
  if (options.default_workspace.empty()) {
    return core::invalid_argument("the source has no workspace: chatbot-thread payloads carry none");
  }
  e.workspace_id = options.default_workspace;
  e.source = options.source;
  e.contact = std::move(contact);
  e.type = *escalated ? core::InboundType::escalation_requested : core::InboundType::escalation_failed;
  if (!*escalated) e.reason = "the thread was de-escalated on the platform";
  return std::vector<core::InboundEvent>{std::move(e)};
}

}  // namespace router::adapters::platforms
