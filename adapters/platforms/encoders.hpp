// One encoder per platform format: an outbound event -> the HTTP call the platform expects, or none.
//   canonical       POST callback.url, the event as JSON, signed per Standard Webhooks
//   widget          POST {url}/agent/converse/send-message-to-widget (Authorization: <apiKey>, botid)
//   conduit         POST {url}/v1/escalations/{externalId}/assign {"assignee_id"} on assignment
//   invent          PATCH {url}/chats/{chat_id}/state/assign {"member_id": id | null}
//   chatbot-thread  PATCH {url}/v1/chatting/{chatbotId}/thread/{threadId}/escalate to flip the thread
//                   back when the router releases or resolves it (only while it is known escalated)
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <string>
#include <utility>
#include <vector>

#include "adapters/platforms/source_options.hpp"
#include "router/core/events.hpp"

namespace router::adapters::platforms {

struct CallbackRequest {
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool sign_standard_webhook = false;  // canonical: sign at send time (the timestamp must be fresh)
};

// What the chatbot-thread encoder needs to remember: whether the platform's thread is escalated.
class ThreadFlags {
 public:
  bool escalated(const std::string& conversation) const;  // unknown: true (it escalated itself)
  void set(const std::string& conversation, bool escalated);

 private:
  std::unordered_map<std::string, bool> flags_;
  bool unknown_is_escalated_ = true;
};

std::optional<CallbackRequest> encode_callback(const SourceSpec& source, const core::OutboundEvent& event,
                                               ThreadFlags& threads);

// The credentials a source's callbacks carry (taken from the configuration at send time, never stored).
std::vector<std::pair<std::string, std::string>> callback_headers(const SourceSpec& source);

}  // namespace router::adapters::platforms
