#include "daemon/simulate.hpp"

#include <simdjson.h>

#include <istream>
#include <ostream>

#include "adapters/platforms/canonical.hpp"
#include "router/core/json_writer.hpp"
#include "router/core/router.hpp"

namespace router::daemon {
namespace {

constexpr core::TimestampMs default_start = 1'767'225'600'000;  // 2026-01-01T00:00:00.000Z

std::string line_report(std::size_t line, std::string_view kind, const core::Error& error) {
  core::JsonWriter w;
  w.begin_object().field("line", static_cast<std::uint64_t>(line)).key(kind).begin_object();
  w.field("code", core::error_code_name(error.code)).field("message", error.message).end_object().end_object();
  return std::move(w).str();
}

std::string ignored_report(std::size_t line, std::string_view why) {
  core::JsonWriter w;
  w.begin_object().field("line", static_cast<std::uint64_t>(line)).field("ignored", why).end_object();
  return std::move(w).str();
}

std::string get_string(simdjson::dom::object object, std::string_view key) {
  std::string_view value;
  if (object.at_key(key).get_string().get(value) == simdjson::SUCCESS) {
    return std::string(value);
  }
  return {};
}

// An operator command line: {"command": "accept", "escalationId"| "workspaceId"+"conversationId", ...}
core::Result<core::Command> decode_command(simdjson::dom::object object, const core::Router& router) {
  const std::string name = get_string(object, "command");
  std::string id = get_string(object, "escalationId");
  if (id.empty() && name != "tick") {
    const core::Escalation* open =
        router.find_open_escalation(get_string(object, "workspaceId"), get_string(object, "conversationId"));
    if (open == nullptr) {
      return core::not_found("no open escalation for workspaceId/conversationId, and no escalationId");
    }
    id = open->id;
  }
  const std::string agent = get_string(object, "agentId");
  if (name == "tick") return core::Command{core::TickCommand{}};
  if (name == "assign") return core::Command{core::AssignCommand{id, get_string(object, "assigneeId")}};
  if (name == "unassign") return core::Command{core::UnassignCommand{id}};
  if (name == "accept") return core::Command{core::AcceptCommand{id, agent}};
  if (name == "reject") return core::Command{core::RejectCommand{id, agent}};
  if (name == "takeover") return core::Command{core::TakeoverCommand{id, agent}};
  if (name == "send") return core::Command{core::SendCommand{id, agent, get_string(object, "content")}};
  if (name == "release") return core::Command{core::ReleaseCommand{id}};
  if (name == "resolve") return core::Command{core::ResolveCommand{id, get_string(object, "resolution")}};
  return core::invalid_argument("command: unknown command \"" + name +
                                "\"; expected tick, assign, unassign, accept, reject, takeover, send, release, resolve");
}

}  // namespace

int run_simulation(const Config& config, std::istream& events, std::ostream& out) {
  core::Router router(core::RouterOptions{});
  const auto errors = router.load_rules(config.rules);
  if (!errors.empty()) {
    out << line_report(0, "error", core::invalid_argument(errors.front().message)) << '\n';
    return 1;
  }
  adapters::platforms::DecodeOptions options;
  simdjson::dom::parser parser;
  core::TimestampMs now = default_start;
  int exit_code = 0;
  std::string text;
  std::size_t line = 0;
  while (std::getline(events, text)) {
    ++line;
    if (text.empty() || text.front() == '#') {
      continue;
    }
    simdjson::dom::element root;
    const simdjson::padded_string padded(text);
    if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
      out << line_report(line, "error", core::invalid_argument("not a JSON object")) << '\n';
      exit_code = 1;
      continue;
    }
    const simdjson::dom::object object = root.get_object().value();
    // Simulation time: the line's "at" or "occurredAt", else the previous line's.
    for (std::string_view key : {"at", "occurredAt"}) {
      const std::string at = get_string(object, key);
      if (!at.empty()) {
        if (auto parsed = core::parse_rfc3339(at)) {
          now = std::max(now, *parsed);
        }
      }
    }
    core::Command command;
    if (object.at_key("command").error() == simdjson::SUCCESS) {
      auto decoded = decode_command(object, router);
      if (!decoded) {
        out << line_report(line, decoded.error().code == core::ErrorCode::invalid_argument ? "error" : "refused",
                           decoded.error())
            << '\n';
        exit_code = decoded.error().code == core::ErrorCode::invalid_argument ? 1 : exit_code;
        continue;
      }
      command = std::move(decoded).value();
    } else {
      auto decoded = adapters::platforms::decode_canonical(text, options);
      if (!decoded) {
        out << line_report(line, "error", decoded.error()) << '\n';
        exit_code = 1;
        continue;
      }
      command = std::move(decoded->front());
    }
    const core::Outcome outcome = router.apply(core::Input{now, std::move(command)});
    for (const core::OutboundEvent& event : outcome.events) {
      out << core::outbound_event_json(event, true) << '\n';
    }
    if (outcome.error) {
      out << line_report(line, "refused", *outcome.error) << '\n';
    } else if (outcome.duplicate) {
      out << ignored_report(line, "duplicate eventId") << '\n';
    } else if (!outcome.ignored.empty()) {
      out << ignored_report(line, outcome.ignored) << '\n';
    }
  }
  return exit_code;
}

}  // namespace router::daemon
