#include "router/core/model.hpp"

#include <algorithm>

#include "router/core/time.hpp"

namespace router::core {

std::string Decision::reason() const {
  const auto idle = [this] {
    return last_assigned_at > 0 ? "last assigned " + format_rfc3339_ms(last_assigned_at) : std::string("never assigned");
  };
  switch (why) {
    case Why::least_loaded:
      return "least loaded: load " + std::to_string(load) + "/" + std::to_string(capacity) + ", " + idle();
    case Why::longest_idle: return "longest idle: " + idle();
    case Why::round_robin: return "round robin: next in turn in queue " + queue;
    case Why::pulled: return agent + " can take work: the oldest highest-priority escalation it is eligible for";
    case Why::nobody_free: return "no agent of the workspace is available with free capacity";
    case Why::none_eligible: return "none of the " + std::to_string(load) + " available agents is eligible";
    case Why::words: break;
  }
  return words;
}

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
