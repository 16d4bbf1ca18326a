#include "router/core/model.hpp"

#include <algorithm>

namespace router::core {

std::string Decision::Candidate::verdict() const {
  switch (kind) {
    case Verdict::rule: return "does not match the queue's agents rule";
    case Verdict::step_rule: return "does not match step " + std::to_string(step) + "'s agents rule";
    case Verdict::excluded: return "rejected or missed this escalation before";
    case Verdict::text: break;
  }
  return text;
}

const char* escalation_status_name(EscalationStatus status) noexcept {
  switch (status) {
    case EscalationStatus::queued: return "queued";
    case EscalationStatus::offered: return "offered";
    case EscalationStatus::assigned: return "assigned";
    case EscalationStatus::taken_over: return "taken_over";
    case EscalationStatus::released: return "released";
    case EscalationStatus::resolved: return "resolved";
    case EscalationStatus::failed: return "failed";
    case EscalationStatus::cancelled: return "cancelled";
  }
  return "queued";
}

std::optional<EscalationStatus> parse_escalation_status(std::string_view text) noexcept {
  for (auto s : {EscalationStatus::queued, EscalationStatus::offered, EscalationStatus::assigned,
                 EscalationStatus::taken_over, EscalationStatus::released, EscalationStatus::resolved,
                 EscalationStatus::failed, EscalationStatus::cancelled}) {
    if (text == escalation_status_name(s)) {
      return s;
    }
  }
  return std::nullopt;
}

const char* message_role_name(MessageRole role) noexcept {
  switch (role) {
    case MessageRole::customer: return "customer";
    case MessageRole::agent: return "agent";
    case MessageRole::system: return "system";
  }
  return "system";
}

bool Agent::member_of(Symbol workspace) const {
  return std::binary_search(workspaces.begin(), workspaces.end(), workspace);
}

}  // namespace router::core
