// The operator API (SPEC §5): escalations (list, get, assign, unassign, accept, reject, takeover,
// send, release, resolve), agents (list, get, put, status) and queues. A token restricted to some
// workspaces gets 404 for anything of another.
#include "adapters/http/api_internal.hpp"
#include "adapters/platforms/canonical.hpp"
#include "adapters/platforms/json_reader.hpp"
#include "router/core/json_writer.hpp"

namespace router::adapters::http {
namespace {

Response not_found_route(const Request& r) {
  return error_response(core::ErrorCode::not_found, "no route for " + r.method + " " + r.path);
}

bool workspace_visible(const Call& call, std::string_view workspace) { return call.principal->allows(workspace); }

// Parses an optional JSON object body; an empty body is an empty object.
struct Body {
  simdjson::dom::parser parser;
  std::optional<platforms::ObjectReader> reader;
};

std::optional<core::Error> parse_body(const Request& request, Body& body) {
  std::string_view text = request.body;
  if (text.empty()) text = "{}";
  else if (!is_json(request)) return core::Error{core::ErrorCode::unsupported_media, "Content-Type must be application/json"};
  auto root = platforms::parse_object(body.parser, text);
  if (!root) return root.error();
  body.reader.emplace(root->get_object().value(), "");
  return std::nullopt;
}

// Checks the escalation's workspace against the token, then applies `command` and answers with
// the escalation as it is afterwards.
void escalation_command(Call call, const std::string& id, core::Command command, int success_status = 200) {
  auto shared = std::make_shared<Call>(std::move(call));
  // One hop: the check runs on the core thread right before the command.
  auto check = [shared, id](const core::Router& router) -> std::optional<core::Error> {
    const core::Escalation* esc = router.find_escalation(id);
    if (esc == nullptr || !workspace_visible(*shared, router.symbol_name(esc->workspace))) {
      return core::Error{core::ErrorCode::not_found, "escalation " + id + " not found"};
    }
    return std::nullopt;
  };
  const bool submitted = shared->engine.submit_checked(std::move(check), std::move(command),
                                                       [shared, id, success_status](const core::Outcome& outcome, const core::Router& r) {
    if (outcome.error) return shared->respond(error_response(*outcome.error));
    const core::Escalation* after = r.find_escalation(id);
    shared->respond(json_response(success_status, after ? r.escalation_json(*after, false) : "{}"));
  });
  if (!submitted) shared->respond(overloaded());
}

std::optional<std::vector<core::EscalationStatus>> parse_statuses(const std::string& text, std::string& bad) {
  std::vector<core::EscalationStatus> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    if (item == "open") {
      for (auto s : {core::EscalationStatus::queued, core::EscalationStatus::offered, core::EscalationStatus::assigned,
                     core::EscalationStatus::taken_over}) {
        out.push_back(s);
      }
    } else if (item == "closed") {
      for (auto s : {core::EscalationStatus::released, core::EscalationStatus::resolved, core::EscalationStatus::failed,
                     core::EscalationStatus::cancelled}) {
        out.push_back(s);
      }
    } else if (auto s = core::parse_escalation_status(item)) {
      out.push_back(*s);
    } else {
      bad = item;
      return std::nullopt;
    }
    start = end + 1;
  }
  return out;
}

void list_escalations(Call call) {
  auto query = parse_query(call.request.query);
  if (!query) return call.respond(error_response(core::ErrorCode::invalid_argument, "malformed query string"));
  core::EscalationFilter filter;
  auto get = [&](const char* key) -> std::string {
    auto it = query->find(key);
    return it == query->end() ? std::string() : it->second;
  };
  if (auto status = get("status"); !status.empty() && status != "all") {
    std::string bad;
    filter.statuses = parse_statuses(status, bad);
    if (!filter.statuses) {
      return call.respond(error_response(core::ErrorCode::invalid_argument,
                                         "status: unknown status \"" + bad + "\"; expected open, closed, queued, offered, "
                                         "assigned, taken_over, released, resolved, failed, cancelled or all"));
    }
  }
  filter.workspace_id = get("workspaceId");
  filter.conversation_id = get("conversationId");
  filter.agent_id = get("agentId");
  filter.queue = get("queue");
  filter.cursor = get("cursor");
  if (auto limit = get("limit"); !limit.empty()) {
    char* end = nullptr;
    const long value = std::strtol(limit.c_str(), &end, 10);
    if (*end != '\0' || value < 1 || value > 200) {
      return call.respond(error_response(core::ErrorCode::invalid_argument, "limit: must be an integer from 1 to 200"));
    }
    filter.limit = static_cast<std::uint32_t>(value);
  }
  if (!filter.workspace_id.empty() && !call.principal->allows(filter.workspace_id)) {
    return call.respond(error_response(core::ErrorCode::not_found, "workspace \"" + filter.workspace_id + "\" not found"));
  }
  if (!call.principal->all_workspaces) filter.allowed_workspaces = call.principal->workspaces;
  Respond respond = call.respond;
  const bool queued = call.engine.read([respond, filter](const core::Router& router) {
    const core::EscalationPage page = router.list_escalations(filter);
    std::string body = "{\"data\":[";
    for (std::size_t i = 0; i < page.items.size(); ++i) {
      if (i != 0) body += ',';
      body += router.escalation_json(*page.items[i], false);
    }
    body += "],\"nextCursor\":";
    if (page.next_cursor.empty()) {
      body += "null";
    } else {
      core::append_json_string(body, page.next_cursor);
    }
    body += '}';
    respond(json_response(200, std::move(body)));
  });
  if (!queued) call.respond(overloaded());
}

void get_escalation(Call call, const std::string& id) {
  auto shared = std::make_shared<Call>(std::move(call));
  const bool queued = shared->engine.read([shared, id](const core::Router& router) {
    const core::Escalation* esc = router.find_escalation(id);
    if (esc == nullptr || !workspace_visible(*shared, router.symbol_name(esc->workspace))) {
      return shared->respond(error_response(core::ErrorCode::not_found, "escalation " + id + " not found"));
    }
    shared->respond(json_response(200, router.escalation_json(*esc, true)));
  });
  if (!queued) shared->respond(overloaded());
}

}  // namespace

void handle_escalations(Call call, const std::vector<std::string>& s) {
  const std::string method = call.request.method;
  if (s.size() == 2) {
    if (method != "GET") return call.respond(method_not_allowed(call.request, "GET"));
    return list_escalations(std::move(call));
  }
  const std::string& id = s[2];
  if (s.size() == 3) {
    if (method != "GET") return call.respond(method_not_allowed(call.request, "GET"));
    return get_escalation(std::move(call), id);
  }
  if (s.size() != 4) return call.respond(not_found_route(call.request));
  const std::string& action = s[3];
  static const char* const actions[] = {"assign", "unassign", "accept", "reject", "takeover", "send", "release", "resolve"};
  if (std::find(std::begin(actions), std::end(actions), action) == std::end(actions)) {
    return call.respond(not_found_route(call.request));
  }
  if (method != "POST") return call.respond(method_not_allowed(call.request, "POST"));
  Body body;
  if (auto error = parse_body(call.request, body)) return call.respond(error_response(*error));
  platforms::ObjectReader& r = *body.reader;
  auto required = [&](const char* key, std::size_t max) -> std::string {
    auto value = r.string(key, max);
    if (r.ok() && !value) r.require(key, "");
    return value.value_or("");
  };
  core::Command command;
  if (action == "assign") {
    command = core::AssignCommand{id, required("assigneeId", platforms::max_id_bytes)};
  } else if (action == "unassign") {
    command = core::UnassignCommand{id};
  } else if (action == "accept") {
    command = core::AcceptCommand{id, required("agentId", platforms::max_id_bytes)};
  } else if (action == "reject") {
    command = core::RejectCommand{id, required("agentId", platforms::max_id_bytes)};
  } else if (action == "takeover") {
    command = core::TakeoverCommand{id, required("agentId", platforms::max_id_bytes)};
  } else if (action == "send") {
    const std::string agent = required("agentId", platforms::max_id_bytes);
    const std::string content = required("content", platforms::max_text_bytes);
    command = core::SendCommand{id, agent, content};
  } else if (action == "release") {
    command = core::ReleaseCommand{id};
  } else {
    command = core::ResolveCommand{id, r.string("resolution", 4096, true).value_or("")};
  }
  if (!r.ok()) return call.respond(error_response(r.error()));
  escalation_command(std::move(call), id, std::move(command));
}

namespace {

std::optional<core::AgentSpec> agent_spec_from(platforms::ObjectReader& r, const std::string& id) {
  core::AgentSpec a;
  a.id = id;
  a.name = r.string("name", 512).value_or(id);
  a.avatar = r.string("avatar", 2048, true).value_or("");
  auto workspaces = r.strings("workspaces", 256, platforms::max_id_bytes);
  if (r.ok() && (!workspaces || workspaces->empty())) {
    r.fail("workspaces: required, at least one workspace");
  }
  a.workspaces = workspaces.value_or(std::vector<std::string>{});
  a.skills = r.strings("skills", 64, 100).value_or(std::vector<std::string>{});
  a.languages = r.strings("languages", 32, 35).value_or(std::vector<std::string>{});
  a.capacity = static_cast<std::uint32_t>(r.integer("capacity", 1, 10'000).value_or(1));
  a.attributes = r.attributes("attributes").value_or(core::Attributes{});
  if (auto external = r.object("externalIds")) {
    for (auto [source, value] : *external) {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
        r.fail("externalIds." + std::string(source) + ": must be a non-empty string");
        break;
      }
      a.external_ids.emplace_back(std::string(source), std::string(text));
    }
  }
  if (!r.ok()) return std::nullopt;
  return a;
}

bool agent_visible(const Call& call, const core::Agent& agent, const core::Router& router) {
  if (call.principal->all_workspaces) return true;
  for (core::Symbol ws : agent.workspaces) {
    if (call.principal->allows(router.symbol_name(ws))) return true;
  }
  return false;
}

}  // namespace

void handle_agents(Call call, const std::vector<std::string>& s) {
  const std::string method = call.request.method;  // a copy: `call` moves below
  auto shared = std::make_shared<Call>(std::move(call));
  const std::vector<std::string>* visible = shared->principal->all_workspaces ? nullptr : &shared->principal->workspaces;
  if (s.size() == 2) {
    if (method != "GET") return shared->respond(method_not_allowed(shared->request, "GET"));
    const bool queued = shared->engine.read([shared, visible](const core::Router& router) {
      std::string body = "{\"data\":[";
      bool first = true;
      for (const core::Agent* agent : router.agents()) {
        if (agent->removed || !agent_visible(*shared, *agent, router)) continue;
        if (!first) body += ',';
        first = false;
        body += router.agent_json(*agent, visible);
      }
      body += "]}";
      shared->respond(json_response(200, std::move(body)));
    });
    if (!queued) shared->respond(overloaded());
    return;
  }
  const std::string id = s[2];
  if (s.size() == 3 && method == "GET") {
    const bool queued = shared->engine.read([shared, id, visible](const core::Router& router) {
      const core::Agent* agent = router.find_agent(id);
      if (agent == nullptr || agent->removed || !agent_visible(*shared, *agent, router)) {
        return shared->respond(error_response(core::ErrorCode::not_found, "agent " + id + " not found"));
      }
      shared->respond(json_response(200, router.agent_json(*agent, visible)));
    });
    if (!queued) shared->respond(overloaded());
    return;
  }
  const bool is_put = s.size() == 3 && method == "PUT";
  const bool is_status = s.size() == 4 && s[3] == "status" && method == "POST";
  if (s.size() == 3 && !is_put) return shared->respond(method_not_allowed(shared->request, "GET, PUT"));
  if (s.size() == 4 && s[3] == "status" && !is_status) return shared->respond(method_not_allowed(shared->request, "POST"));
  if (!is_put && !is_status) return shared->respond(not_found_route(shared->request));
  if (id.empty() || id.size() > platforms::max_id_bytes) {
    return shared->respond(error_response(core::ErrorCode::invalid_argument, "id: must have 1 to 256 bytes"));
  }
  Body body;
  if (auto error = parse_body(shared->request, body)) return shared->respond(error_response(*error));
  platforms::ObjectReader& r = *body.reader;
  std::optional<core::AgentStatus> status;
  if (auto text = r.string("status", 32)) {
    status = core::parse_agent_status(*text);
    if (!status) r.fail("status: unknown status \"" + *text + "\"; expected available, away or offline");
  }
  if (is_status && r.ok() && !status) r.require("status", "available, away or offline");
  std::optional<core::AgentSpec> spec;
  if (is_put && r.ok()) spec = agent_spec_from(r, id);
  if (!r.ok()) return shared->respond(error_response(r.error()));
  if (spec) {
    for (const std::string& ws : spec->workspaces) {
      if (!shared->principal->allows(ws)) {
        return shared->respond(error_response(core::ErrorCode::not_found, "workspaces: workspace \"" + ws + "\" not found"));
      }
    }
  }
  const bool queued = shared->engine.read([shared, id, status, spec, visible](const core::Router& router) mutable {
    const core::Agent* existing = router.find_agent(id);
    if (existing != nullptr && !existing->removed && !agent_visible(*shared, *existing, router)) {
      return shared->respond(error_response(core::ErrorCode::not_found, "agent " + id + " not found"));
    }
    core::Command command;
    if (spec) {
      spec->status = status.value_or(existing != nullptr ? existing->status : core::AgentStatus::available);
      command = core::UpsertAgentCommand{*spec};
    } else {
      if (existing == nullptr || existing->removed) {
        return shared->respond(error_response(core::ErrorCode::not_found, "agent " + id + " not found"));
      }
      command = core::SetAgentStatusCommand{id, *status};
    }
    const bool created = existing == nullptr;
    const bool submitted = shared->engine.submit(std::move(command), [shared, id, visible, created](const core::Outcome& outcome, const core::Router& r) {
      if (outcome.error) return shared->respond(error_response(*outcome.error));
      const core::Agent* agent = r.find_agent(id);
      shared->respond(json_response(created ? 201 : 200, agent ? r.agent_json(*agent, visible) : "{}"));
    });
    if (!submitted) shared->respond(overloaded());
  });
  if (!queued) shared->respond(overloaded());
}

void handle_queues(Call call) {
  auto shared = std::make_shared<Call>(std::move(call));
  const bool queued = shared->engine.read([shared](const core::Router& router) {
    core::JsonWriter w;
    w.begin_object().key("data").begin_array();
    for (const core::QueueStats& q : router.queue_stats()) {
      if (!shared->principal->allows(q.workspace_id)) continue;
      w.begin_object().field("workspaceId", q.workspace_id);
      w.key("name");
      q.name.empty() ? w.null() : w.value(q.name);
      w.field("waiting", q.waiting).field("offered", q.offered).field("longestWaitSeconds", q.longest_wait_seconds);
      w.field("eligibleAgentsAvailable", q.eligible_agents_available).field("estimatedWaitMinutes", q.estimated_wait_minutes);
      w.end_object();
    }
    w.end_array().end_object();
    shared->respond(json_response(200, std::move(w).str()));
  });
  if (!queued) shared->respond(overloaded());
}

}  // namespace router::adapters::http
