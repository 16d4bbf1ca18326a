// Widget escalation API (seed 003): {platformConversationId, eventType, text, agent, agentAvatar,
// queuePosition, waitingTime}. Every canonical event type is accepted in this shape; `agent` names
// the agent where no agentId is given; queuePosition/waitingTime may be strings, as in the seed.
#include "adapters/platforms/decoders.hpp"

namespace router::adapters::platforms {

core::Result<std::vector<core::InboundEvent>> decode_widget(std::string_view json, const DecodeOptions& options) {
  // The canonical decoder already reads this shape (platformConversationId, agent, string numbers);
  // the source's workspace fills in what the widget never sends.
  DecodeOptions widget = options;
  widget.max_batch = 1;
  return decode_canonical(json, widget);
}

core::Result<std::vector<core::InboundEvent>> decode_webhook(Format format, std::string_view json, const DecodeOptions& options) {
  switch (format) {
    case Format::canonical: return decode_canonical(json, options);
    case Format::widget: return decode_widget(json, options);
    case Format::conduit: return decode_conduit(json, options);
    case Format::chatbot_thread: return decode_chatbot_thread(json, options);
    case Format::invent: return decode_invent(json, options);
  }
  return core::invalid_argument("unsupported format");
}

}  // namespace router::adapters::platforms
