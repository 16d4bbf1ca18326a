#include "router/core/input_codec.hpp"

#include "bytes.hpp"

namespace router::core {
namespace {

constexpr std::uint8_t codec_version = 1;

template <typename T>
void write_optional_attrs(ByteWriter& w, const std::optional<T>& value) {
  w.b(value.has_value());
  if (value) w.attrs(*value);
}

void write_event(ByteWriter& w, const InboundEvent& e) {
  w.u8(static_cast<std::uint8_t>(e.type));
  w.str(e.event_id);
  w.str(e.workspace_id);
  w.str(e.conversation_id);
  w.str(e.source);
  w.str(e.external_id);
  w.b(e.contact.has_value());
  if (e.contact) {
    w.str(e.contact->id);
    w.str(e.contact->name);
    w.attrs(e.contact->attributes);
  }
  w.str(e.reason);
  w.b(e.priority.has_value());
  if (e.priority) w.i32(*e.priority);
  w.str(e.language);
  w.b(e.skills.has_value());
  if (e.skills) w.strs(*e.skills);
  write_optional_attrs(w, e.attributes);
  w.str(e.text);
  w.str(e.agent_id);
  w.str(e.agent_name);
  w.str(e.agent_avatar);
  w.u8(e.status ? static_cast<std::uint8_t>(*e.status) + 1 : 0);
  w.i32(e.queue_position);
  w.i32(e.waiting_time);
  w.i64(e.occurred_at);
}

InboundEvent read_event(ByteReader& r) {
  InboundEvent e;
  e.type = static_cast<InboundType>(std::min<std::uint8_t>(r.u8(), 7));
  e.event_id = r.str();
  e.workspace_id = r.str();
  e.conversation_id = r.str();
  e.source = r.str();
  e.external_id = r.str();
  if (r.b()) {
    Contact c;
    c.id = r.str();
    c.name = r.str();
    c.attributes = r.attrs();
    e.contact = std::move(c);
  }
  e.reason = r.str();
  if (r.b()) e.priority = r.i32();
  e.language = r.str();
  if (r.b()) e.skills = r.strs();
  if (r.b()) e.attributes = r.attrs();
  e.text = r.str();
  e.agent_id = r.str();
  e.agent_name = r.str();
  e.agent_avatar = r.str();
  if (const std::uint8_t status = r.u8(); status != 0) e.status = static_cast<AgentStatus>(std::min<std::uint8_t>(status - 1, 2));
  e.queue_position = r.i32();
  e.waiting_time = r.i32();
  e.occurred_at = r.i64();
  return e;
}

}  // namespace

std::string encode_input(const Input& input) {
  ByteWriter w;
  w.u8(codec_version);
  w.i64(input.at);
  w.u8(static_cast<std::uint8_t>(input.command.index()));
  std::visit(
      [&w](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, InboundEvent>) {
          write_event(w, c);
        } else if constexpr (std::is_same_v<T, AssignCommand>) {
          w.str(c.escalation_id);
          w.str(c.assignee_id);
        } else if constexpr (std::is_same_v<T, UnassignCommand> || std::is_same_v<T, ReleaseCommand>) {
          w.str(c.escalation_id);
        } else if constexpr (std::is_same_v<T, AcceptCommand> || std::is_same_v<T, RejectCommand> ||
                             std::is_same_v<T, TakeoverCommand>) {
          w.str(c.escalation_id);
          w.str(c.agent_id);
        } else if constexpr (std::is_same_v<T, SendCommand>) {
          w.str(c.escalation_id);
          w.str(c.agent_id);
          w.str(c.content);
        } else if constexpr (std::is_same_v<T, ResolveCommand>) {
          w.str(c.escalation_id);
          w.str(c.resolution);
        } else if constexpr (std::is_same_v<T, UpsertAgentCommand>) {
          write_agent_spec(w, c.agent);
        } else if constexpr (std::is_same_v<T, SetAgentStatusCommand>) {
          w.str(c.agent_id);
          w.u8(static_cast<std::uint8_t>(c.status));
        } else if constexpr (std::is_same_v<T, ReloadRulesCommand>) {
          write_rules(w, c.rules);
        }
      },
      input.command);
  return w.take();
}

Result<Input> decode_input(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.u8() != codec_version) {
    return invalid_argument("journal record: unknown codec version");
  }
  Input input;
  input.at = r.i64();
  const std::uint8_t kind = r.u8();
  switch (kind) {
    case 0: input.command = read_event(r); break;
    case 1: { AssignCommand c; c.escalation_id = r.str(); c.assignee_id = r.str(); input.command = c; break; }
    case 2: input.command = UnassignCommand{r.str()}; break;
    case 3: { AcceptCommand c; c.escalation_id = r.str(); c.agent_id = r.str(); input.command = c; break; }
    case 4: { RejectCommand c; c.escalation_id = r.str(); c.agent_id = r.str(); input.command = c; break; }
    case 5: { TakeoverCommand c; c.escalation_id = r.str(); c.agent_id = r.str(); input.command = c; break; }
    case 6: { SendCommand c; c.escalation_id = r.str(); c.agent_id = r.str(); c.content = r.str(); input.command = c; break; }
    case 7: input.command = ReleaseCommand{r.str()}; break;
    case 8: { ResolveCommand c; c.escalation_id = r.str(); c.resolution = r.str(); input.command = c; break; }
    case 9: input.command = UpsertAgentCommand{read_agent_spec(r)}; break;
    case 10: {
      SetAgentStatusCommand c;
      c.agent_id = r.str();
      c.status = static_cast<AgentStatus>(std::min<std::uint8_t>(r.u8(), 2));
      input.command = c;
      break;
    }
    case 11: input.command = ReloadRulesCommand{read_rules(r)}; break;
    case 12: input.command = TickCommand{}; break;
    default: return invalid_argument("journal record: unknown command kind " + std::to_string(kind));
  }
  if (!r.ok() || !r.at_end()) {
    return invalid_argument("journal record: truncated or with trailing bytes");
  }
  return input;
}

}  // namespace router::core
