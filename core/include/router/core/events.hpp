// The core's inputs and outputs (SPEC §3): inbound events and operator commands, each carrying its
// time; outbound events. Same inputs in the same order always give the same outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "router/core/model.hpp"
#include "router/core/result.hpp"
#include "router/core/rules.hpp"
#include "router/core/text.hpp"
#include "router/core/time.hpp"

namespace router::core {

enum class InboundType : std::uint8_t {
  escalation_requested, message, escalation_success, agent_disconnect, agent_status,
  escalation_queue_update, escalation_failed, conversation_closed,
};
const char* inbound_type_name(InboundType type) noexcept;
std::optional<InboundType> parse_inbound_type(std::string_view text) noexcept;

// A canonical inbound event, already validated by its decoder.
struct InboundEvent {
  InboundType type = InboundType::escalation_requested;
  std::string event_id;  // idempotency key; empty: none
  std::string workspace_id;
  std::string conversation_id;
  std::string source;
  std::string external_id;  // the platform's own id of the escalation (Conduit)
  std::optional<Contact> contact;
  std::string reason;
  std::optional<std::int32_t> priority;
  std::string language;
  std::optional<std::vector<std::string>> skills;
  std::optional<Attributes> attributes;
  std::string text;
  std::string agent_id;
  std::string agent_name;
  std::string agent_avatar;
  std::optional<AgentStatus> status;
  std::int32_t queue_position = -1;
  std::int32_t waiting_time = -1;
  TimestampMs occurred_at = -1;
};

// Operator commands (SPEC §5). Errors: NOT_FOUND, CONFLICT, INVALID_ARGUMENT naming the field.
struct AssignCommand { std::string escalation_id; std::string assignee_id; };
struct UnassignCommand { std::string escalation_id; };
struct AcceptCommand { std::string escalation_id; std::string agent_id; };
struct RejectCommand { std::string escalation_id; std::string agent_id; };
struct TakeoverCommand { std::string escalation_id; std::string agent_id; };
struct SendCommand { std::string escalation_id; std::string agent_id; std::string content; };
struct ReleaseCommand { std::string escalation_id; };
struct ResolveCommand { std::string escalation_id; std::string resolution; };
struct UpsertAgentCommand { AgentSpec agent; };
struct SetAgentStatusCommand { std::string agent_id; AgentStatus status = AgentStatus::available; };
struct ReloadRulesCommand { RuleSet rules; };
// Time passes: timers due by then fire (offer timeouts, steps, grace periods, queue updates).
struct TickCommand {};

using Command = std::variant<InboundEvent, AssignCommand, UnassignCommand, AcceptCommand, RejectCommand,
                             TakeoverCommand, SendCommand, ReleaseCommand, ResolveCommand, UpsertAgentCommand,
                             SetAgentStatusCommand, ReloadRulesCommand, TickCommand>;

struct Input {
  TimestampMs at = 0;  // receipt time, stamped by the caller (the core reads no clock)
  Command command;
};

enum class OutboundType : std::uint8_t {
  escalation_created, escalation_queue_update, escalation_offered, escalation_success, escalation_unassigned,
  escalation_taken_over, escalation_released, escalation_resolved, escalation_failed, escalation_cancelled,
  message, agent_disconnect, agent_status_changed,
};
const char* outbound_type_name(OutboundType type) noexcept;

// Its text fields are Text (24 bytes, up to 23 inline; set and cleared cheaply): an input emits a
// few events of a dozen fields each, most of them short names or empty.
struct OutboundEvent {
  // Each member starts from its own initialiser; a user-provided constructor keeps `events.emplace_back()`
  // from zeroing all ~620 bytes first (value-initialisation), for every event of every input.
  OutboundEvent() noexcept {}

  Id event_id;  // ULID
  std::uint64_t sequence = 0;
  OutboundType type = OutboundType::escalation_created;
  TimestampMs at = 0;
  Text workspace_id;
  Id escalation_id;
  Text conversation_id;
  Text source;
  Text external_id;
  Text agent_id;
  Text agent_external_id;  // the agent's id on the escalation's source platform, if configured
  Text agent_name;
  Text agent_avatar;
  Text queue;
  std::int32_t queue_position = -1;
  std::int32_t waiting_time = -1;  // whole minutes
  Text status;                     // escalation status, or agent status for agentStatusChanged
  std::uint64_t version = 0;
  Text reason;
  Text text;
  Text role;  // message: "customer" or "agent"
  bool ai_enabled = true;
  std::optional<Decision> decision;  // the routing decision behind it, if any
};

// {"eventId": ..., "sequence": ..., ...}: the outbound event as published. with_decision adds the
// routing explanation (simulate, audit).
std::string outbound_event_json(const OutboundEvent& event, bool with_decision = false);
void write_decision_json(class JsonWriter& w, const Decision& decision);

struct Outcome {
  std::optional<Error> error;  // the command was refused; nothing changed
  std::vector<OutboundEvent> events;
  Id escalation_id;  // the escalation the input concerned, if any
  bool duplicate = false;     // its eventId was seen within the dedupe window: no effect
  std::string ignored;        // why it had no effect (no open escalation, ...); empty otherwise
  TimestampMs next_deadline = -1;  // timer request: send a TickCommand at this time (-1: none)
};

}  // namespace router::core
