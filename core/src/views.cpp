// Reads of the Router's state for the API: lookups, filtered listing, queue statistics, JSON views.
#include <algorithm>

#include "router/core/json_writer.hpp"
#include "router_state.hpp"

namespace router::core {
namespace {

void write_attributes(JsonWriter& w, const Attributes& attributes) {
  w.begin_object();
  for (const auto& [key, value] : attributes) {
    w.key(key);
    auto scalar = [&w](const Scalar& s) {
      switch (s.index()) {
        case 1: w.value(std::get<bool>(s)); break;
        case 2: w.value(std::get<double>(s)); break;
        case 3: w.value(std::get<std::string>(s)); break;
        default: w.null();
      }
    };
    switch (value.index()) {
      case 1: w.value(std::get<bool>(value)); break;
      case 2: w.value(std::get<double>(value)); break;
      case 3: w.value(std::get<std::string>(value)); break;
      case 4:
        w.begin_array();
        for (const Scalar& s : std::get<std::vector<Scalar>>(value)) scalar(s);
        w.end_array();
        break;
      default: w.null();
    }
  }
  w.end_object();
}

void write_symbols(JsonWriter& w, const SymbolTable& symbols, std::span<const Symbol> list) {
  w.begin_array();
  for (Symbol s : list) w.value(symbols.name(s));
  w.end_array();
}

void write_time_or_null(JsonWriter& w, std::string_view key, TimestampMs at) {
  w.key(key);
  if (at < 0) {
    w.null();
  } else {
    w.value(format_rfc3339_ms(at));
  }
}

}  // namespace

const Escalation* Router::find_escalation(std::string_view id) const {
  const EscalationIndex index = state_->index_of_id(id);
  return index == no_index ? nullptr : state_->escalations[index];
}

const Escalation* Router::find_open_escalation(std::string_view workspace_id, std::string_view conversation_id) const {
  const Symbol ws = state_->symbols.find(workspace_id);
  if (ws == no_symbol) return nullptr;
  const EscalationIndex index = state_->open_index_of(ws, conversation_id);
  return index == no_index ? nullptr : state_->escalations[index];
}

const Agent* Router::find_agent(std::string_view id) const {
  auto it = state_->agent_by_id.find(id);
  return it == state_->agent_by_id.end() ? nullptr : &state_->agents[it->second];
}

const Agent* Router::agent_at(AgentIndex index) const {
  return index < state_->agents.size() ? &state_->agents[index] : nullptr;
}

std::vector<const Agent*> Router::agents() const {
  std::vector<const Agent*> out;
  for (const auto& [id, index] : state_->agent_by_id) out.push_back(&state_->agents[index]);
  return out;
}

std::int32_t Router::queue_position(const Escalation& escalation) const { return state_->position(escalation); }

EscalationPage Router::list_escalations(const EscalationFilter& f) const {
  const State& s = *state_;
  EscalationPage page;
  const Symbol ws = f.workspace_id.empty() ? no_symbol : s.symbols.find(f.workspace_id);
  const Symbol queue = f.queue.empty() ? no_symbol : s.symbols.find(f.queue);
  if ((!f.workspace_id.empty() && ws == no_symbol) || (!f.queue.empty() && queue == no_symbol)) {
    return page;
  }
  std::vector<Symbol> allowed;
  for (const std::string& name : f.allowed_workspaces) {
    if (Symbol sym = s.symbols.find(name); sym != no_symbol) allowed.push_back(sym);
  }
  AgentIndex agent = no_index;
  if (!f.agent_id.empty()) {
    auto it = s.agent_by_id.find(f.agent_id);
    if (it == s.agent_by_id.end()) return page;
    agent = it->second;
  }
  const std::uint32_t limit = std::clamp<std::uint32_t>(f.limit, 1, 200);
  // Newest first: ULIDs sort by creation time.
  s.by_creation.walk_back(f.cursor, [&](EscalationIndex index) {
    const Escalation& esc = *s.escalations[index];
    if (ws != no_symbol && esc.workspace != ws) return true;
    if (!f.allowed_workspaces.empty() && std::find(allowed.begin(), allowed.end(), esc.workspace) == allowed.end()) return true;
    if (!f.conversation_id.empty() && esc.conversation_id != f.conversation_id) return true;
    if (queue != no_symbol && esc.queue != queue) return true;
    if (agent != no_index && esc.assignee != agent && esc.taken_over_by != agent) return true;
    if (f.statuses && std::find(f.statuses->begin(), f.statuses->end(), esc.status) == f.statuses->end()) return true;
    if (page.items.size() == limit) {
      page.next_cursor = page.items.back()->id;
      return false;
    }
    page.items.push_back(&esc);
    return true;
  });
  return page;
}

std::vector<QueueStats> Router::queue_stats() const {
  const State& s = *state_;
  std::vector<QueueStats> out;
  // By workspace, then queue name (their symbols), as they have always been listed.
  std::vector<std::uint32_t> order(s.queues.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::pair{s.queues[a].workspace, s.queues[a].name} < std::pair{s.queues[b].workspace, s.queues[b].name};
  });
  for (std::uint32_t index : order) {
    const QueueState& q = s.queues[index];
    QueueStats stats;
    stats.workspace_id = std::string(s.symbols.name(q.workspace));
    stats.name = std::string(s.symbols.name(q.name));
    stats.waiting = static_cast<std::uint32_t>(q.waiting.size());
    stats.offered = q.offered;
    for (const auto& [qkey, esc_index] : q.waiting) {
      stats.longest_wait_seconds = std::max(stats.longest_wait_seconds, (s.now - s.escalations[esc_index]->queued_at) / 1000);
    }
    const CompiledQueue* spec = s.queue_spec(q.name);
    const WorkspaceAgents* wa = s.find_workspace_agents(q.workspace);
    if (spec != nullptr && wa != nullptr) {
      for (const AgentClass& c : wa->classes) {
        for (const auto& [last_assigned, agent] : c.agents.by_idle) {
          // Eligible ignoring the escalation-specific parts: the base rule with no escalation.
          if (spec->agents.evaluate(EvalContext{nullptr, &s.agents[agent], s.now, &s.symbols})) ++stats.eligible_agents_available;
        }
      }
    }
    stats.estimated_wait_minutes = s.wait_minutes(q, static_cast<std::int32_t>(q.waiting.size()) + 1);
    out.push_back(std::move(stats));
  }
  return out;
}

std::vector<const Escalation*> Router::previous_escalations(const Escalation& escalation, std::size_t limit) const {
  std::vector<const Escalation*> out;
  const std::uint32_t slot = state_->find_contact(state_->contact_key(escalation));
  if (slot == no_index) return out;
  // Its contact's escalations kept, newest first, through their chain.
  for (std::uint32_t e = state_->contacts[slot].newest; e != no_index && out.size() < limit;
       e = state_->links[e].contact_prev) {
    const Escalation* previous = state_->escalations[e];
    if (previous != nullptr && previous->id != escalation.id) out.push_back(previous);
  }
  return out;
}

std::string Router::escalation_json(const Escalation& esc, bool detail) const {
  const State& s = *state_;
  JsonWriter w;
  w.begin_object();
  w.field("id", esc.id).field("workspaceId", s.symbols.name(esc.workspace)).field("conversationId", esc.conversation_id);
  w.key("source");
  esc.source == no_symbol ? w.null() : w.value(s.symbols.name(esc.source));
  w.key("externalId");
  esc.external_id.empty() ? w.null() : w.value(esc.external_id);
  w.key("contact").begin_object().field("id", esc.contact.id).field("name", esc.contact.name);
  w.key("attributes");
  write_attributes(w, esc.contact.attributes);
  w.end_object();
  w.field("reason", esc.reason).field("priority", esc.priority);
  w.key("language");
  esc.language == no_symbol ? w.null() : w.value(s.symbols.name(esc.language));
  w.key("skills");
  write_symbols(w, s.symbols, esc.skills);
  w.key("attributes");
  write_attributes(w, esc.attributes);
  w.field("status", escalation_status_name(esc.status));
  w.key("queue");
  s.symbols.name(esc.queue).empty() ? w.null() : w.value(s.symbols.name(esc.queue));
  const std::int32_t pos = s.position(esc);
  if (pos > 0) w.field("queuePosition", pos);
  w.key("assigneeId");
  esc.assignee == no_index ? w.null() : w.value(s.agents[esc.assignee].id);
  w.key("takenOverBy");
  esc.taken_over_by == no_index ? w.null() : w.value(s.agents[esc.taken_over_by].id);
  w.field("aiEnabled", esc.ai_enabled).field("version", esc.version);
  write_time_or_null(w, "createdAt", esc.created_at);
  write_time_or_null(w, "assignedAt", esc.assigned_at);
  write_time_or_null(w, "closedAt", esc.closed_at);
  w.key("resolution");
  esc.resolution.empty() ? w.null() : w.value(esc.resolution);
  if (detail) {
    w.key("messages").begin_array();
    for (const Message& m : esc.messages) {
      w.begin_object().field("role", message_role_name(m.role));
      if (!m.agent_id.empty()) w.field("agentId", m.agent_id);
      w.field("content", m.text).field("timestamp", format_rfc3339_ms(m.at)).end_object();
    }
    w.end_array();
    w.key("trail").begin_array();
    for (const Decision& d : esc.trail) write_decision_json(w, d);
    w.end_array();
    w.key("previousEscalations").begin_array();
    for (const Escalation* previous : previous_escalations(esc)) {
      w.begin_object().field("id", previous->id).field("status", escalation_status_name(previous->status));
      write_time_or_null(w, "createdAt", previous->created_at);
      w.key("assigneeId");
      previous->assignee == no_index ? w.null() : w.value(s.agents[previous->assignee].id);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  return std::move(w).str();
}

std::string Router::agent_json(const Agent& agent, const std::vector<std::string>* visible_workspaces) const {
  const State& s = *state_;
  JsonWriter w;
  w.begin_object().field("id", agent.id).field("name", agent.name).field("avatar", agent.avatar);
  w.key("workspaces").begin_array();
  for (Symbol ws : agent.workspaces) {
    const std::string_view name = s.symbols.name(ws);
    if (visible_workspaces == nullptr ||
        std::find(visible_workspaces->begin(), visible_workspaces->end(), name) != visible_workspaces->end()) {
      w.value(name);
    }
  }
  w.end_array();
  w.key("skills");
  write_symbols(w, s.symbols, agent.skills);
  w.key("languages");
  write_symbols(w, s.symbols, agent.languages);
  w.field("capacity", agent.capacity).field("load", agent.load).field("status", agent_status_name(agent.status));
  w.key("attributes");
  write_attributes(w, agent.attributes);
  w.key("externalIds").begin_object();
  for (const auto& [source, id] : agent.external_ids) w.field(source, id);
  w.end_object();
  write_time_or_null(w, "lastAssignedAt", agent.last_assigned_at > 0 ? agent.last_assigned_at : -1);
  w.field("missedOffers", agent.missed_offers).field("removed", agent.removed);
  w.end_object();
  return std::move(w).str();
}

}  // namespace router::core
