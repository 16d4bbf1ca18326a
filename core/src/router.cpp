// The Router's inputs: inbound events and operator commands, with the error semantics of SPEC §5.
#include "router/core/router.hpp"

#include <algorithm>
#include <charconv>

#include "router_state.hpp"

namespace router::core {

namespace {

std::vector<Symbol> intern_all(SymbolTable& symbols, const std::vector<std::string>& names, bool sorted) {
  std::vector<Symbol> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    out.push_back(symbols.intern(name));
  }
  if (sorted) {
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
  return out;
}

// An escalation's skills, interned into its own list (no list built on the heap on the way).
void intern_into(SymbolList& out, SymbolTable& symbols, const std::vector<std::string>& names) {
  std::array<Symbol, SymbolList::inline_count> few;
  if (names.size() > few.size()) {
    out = intern_all(symbols, names, false);
    return;
  }
  for (std::size_t i = 0; i < names.size(); ++i) few[i] = symbols.intern(names[i]);
  out.assign(few.data(), names.size());
}


}  // namespace

// ---------------------------------------------------------------------------------------------
// Rules

std::vector<RuleError> compile_rules(const RuleSet& rules, SymbolTable& symbols, CompiledRules& out) {
  std::vector<RuleError> errors;
  out = CompiledRules{};
  out.spec = rules;
  auto compile = [&](const ExpressionSource& source, ExpressionScope scope, Expression& target) {
    ExpressionError error;
    auto compiled = Expression::compile(source.text, scope, symbols, &error);
    if (!compiled) {
      // Position in the file: the expression starts one column after its opening quote.
      SourcePos pos = source.pos;
      if (pos.line != 0) {
        if (error.line == 1) {
          pos.column += error.column;
        } else {
          pos.line += error.line - 1;
          pos.column = error.column;
        }
      } else {
        pos = SourcePos{error.line, error.column};
      }
      errors.push_back({pos, error.message});
      return;
    }
    target = std::move(compiled).value();
  };
  for (const QueueSpec& q : rules.queues) {
    CompiledQueue& cq = out.queues.emplace_back();
    cq.spec = q;
    cq.name = symbols.intern(q.name);
    compile(q.agents, ExpressionScope::escalation_and_agent, cq.agents);
    for (const QueueStep& step : q.steps) {
      CompiledStep& cs = cq.steps.emplace_back();
      cs.after_ms = step.after_ms;
      compile(step.agents, ExpressionScope::escalation_and_agent, cs.agents);
    }
    cq.agents.add_reads(cq.reads, out.agent_reads);
    for (const CompiledStep& cs : cq.steps) {
      cs.agents.add_reads(cq.reads, out.agent_reads);
    }
    cq.reads_time = cq.reads.reads(Expression::Field::esc_wait_seconds);
    out.uses_least_loaded = out.uses_least_loaded || q.strategy == Strategy::least_loaded;
    out.uses_round_robin = out.uses_round_robin || q.strategy == Strategy::round_robin;
    out.agent_key_reads_load = out.agent_reads.reads(Expression::Field::agent_load);
    out.queue_by_name.emplace(cq.name, static_cast<std::uint32_t>(out.queues.size() - 1));
  }
  for (const auto& [name, index] : out.queue_by_name) {
    if (out.queue_by_symbol.size() <= name) out.queue_by_symbol.resize(name + 1, no_index);
    out.queue_by_symbol[name] = index;
  }
  for (const RouteSpec& r : rules.routes) {
    CompiledRoute& cr = out.routes.emplace_back();
    cr.spec = r;
    cr.queue = symbols.intern(r.queue);
    compile(r.when, ExpressionScope::escalation_only, cr.when);
    cr.because = "first matching route: " + cr.when.text();
    if (out.queue_by_name.count(cr.queue) == 0) {
      errors.push_back({r.queue_pos, "route \"" + r.name + "\" names queue \"" + r.queue + "\", which is not defined"});
    }
  }
  return errors;
}

std::vector<RuleError> validate_rules(const RuleSet& rules) {
  SymbolTable scratch;
  CompiledRules compiled;
  return compile_rules(rules, scratch, compiled);
}

std::vector<RuleError> Router::State::install(const RuleSet& rules_in) {
  CompiledRules compiled;
  std::vector<RuleError> errors = compile_rules(rules_in, symbols, compiled);
  if (!errors.empty()) {
    return errors;
  }
  rules = std::move(compiled);
  ++rules_generation;
  // Agents of the configuration: added or updated; those no longer in it take no new work.
  std::vector<AgentIndex> configured;
  for (const AgentSpec& spec : rules.spec.agents) {
    upsert_agent(spec, true);
    configured.push_back(agent_by_id.find(spec.id)->second);
  }
  std::vector<bool> still_configured(agents.size(), false);
  for (AgentIndex i : configured) {
    still_configured[i] = true;
  }
  for (AgentIndex i = 0; i < agents.size(); ++i) {
    if (agents[i].from_config && !still_configured[i] && !agents[i].removed) {
      unindex_agent(i);
      agents[i].removed = true;
      for (EscalationIndex held : std::vector<EscalationIndex>(agents[i].held)) {
        if (escalation(held)->status == EscalationStatus::offered) {
          requeue(held, false, "the agent it was offered to was removed from the configuration");
        }
      }
    }
  }
  // Agent classes are keyed by what the new rules read of an agent.
  for (AgentIndex i = 0; i < agents.size(); ++i) {
    reindex_agent(i);
  }
  // Queued escalations are routed again under the new rules, in queue order.
  std::vector<EscalationIndex> waiting;
  for (const QueueState& q : queues) {
    for (const auto& [key, index] : q.waiting) {
      waiting.push_back(index);
    }
  }
  for (EscalationIndex index : waiting) {
    Escalation& esc = *escalation(index);
    const Symbol before = esc.queue;
    dequeue(index);
    route(index);
    enqueue(index, false, "");
    if (esc.queue == before) {
      esc.announce_pending = false;  // same queue: the rate-limited walk tells what changed
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Helpers

std::string Router::State::contact_key(const Escalation& esc) const {
  return contact_key(esc.workspace, esc.contact.id, esc.conversation_id);
}

std::string Router::State::contact_key(Symbol workspace, std::string_view contact_id, std::string_view conversation_id) {
  char digits[16];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, workspace);
  std::string key(digits, end);
  key += '\x1f';
  if (contact_id.empty()) key += "conversation:";
  key += contact_id.empty() ? conversation_id : contact_id;
  return key;
}

void Router::State::fail(Error error) {
  if (!out->error) {
    out->error = std::move(error);
  }
}

Escalation* Router::State::open_escalation_for(std::string_view workspace, std::string_view conversation,
                                               EscalationIndex& index) {
  const Symbol ws = symbols.find(workspace);
  if (ws == no_symbol) {
    return nullptr;
  }
  const EscalationIndex found = open_index_of(ws, conversation);
  if (found == no_index) {
    return nullptr;
  }
  index = found;
  return escalation(index);
}

namespace {

std::uint64_t conversation_hash(Symbol workspace, std::string_view conversation) {
  return hash_text(conversation, workspace);
}

}  // namespace

EscalationIndex Router::State::index_of_id(std::string_view id) const {
  const std::uint32_t slot = UlidGenerator::tag_of(id);
  if (slot < escalations.size()) {
    // Whoever finds an escalation by id reads on (a close, an event): its next two lines are asked
    // for now, so they arrive with the first (the id compared below) instead of after it.
    const char* bytes = static_cast<const char*>(escalations.address(slot));
    __builtin_prefetch(bytes + 64);
    __builtin_prefetch(bytes + 128);
    if (const Escalation* esc = escalations[slot]; esc != nullptr && esc->id == id) return slot;
  }
  if (foreign_ids.size() == 0) return no_index;
  return foreign_ids.find(hash_text(id), [&](EscalationIndex e) { return escalations[e]->id == id; });
}

void Router::State::index_id(EscalationIndex index) {
  // Its id was made naming its slot (next_tagged): nothing to index by id (the invariants check it).
  Escalation& esc = *escalations[index];
  // Ids are made in increasing order; one that is not (never, but cheap to keep right) goes in its place.
  if (links.size() < escalations.size()) links.resize(escalations.size());
  links[index].id_order = by_creation.add(esc.id, index, [this](EscalationIndex e, std::uint32_t place) {
    links[e].id_order = place;
  });
}

void Router::State::unindex_id(EscalationIndex index) {
  if (foreign_ids.size() != 0) {
    const Escalation& esc = *escalations[index];
    if (UlidGenerator::tag_of(esc.id) != index) foreign_ids.erase(hash_text(esc.id), [&](EscalationIndex e) { return e == index; });
  }
  by_creation.erase(links[index].id_order, [this](EscalationIndex e, std::uint32_t place) { links[e].id_order = place; });
  links[index].id_order = no_index;
}

std::uint32_t Router::State::find_contact(std::string_view key) const { return find_contact(key, hash_text(key)); }

std::uint32_t Router::State::find_contact(std::string_view key, std::uint64_t hash) const {
  return contact_by_key.find(hash, [&](std::uint32_t slot) { return contacts[slot].key == key; });
}

std::uint32_t Router::State::contact_slot(std::string key) {
  const std::uint64_t hash = hash_text(key);
  return contact_slot(std::move(key), hash);
}

std::uint32_t Router::State::contact_slot(std::string key, std::uint64_t hash) {
  if (const std::uint32_t found = find_contact(key, hash); found != no_index) return found;
  const std::uint32_t slot = take_slot(contacts, free_contacts);
  contact_by_key.insert(hash, slot);
  contacts[slot] = ContactHistory{};
  contacts[slot].key = std::move(key);
  return slot;
}

void Router::State::link_to_contact(EscalationIndex index, std::uint32_t contact) {
  ContactHistory& history = contacts[contact];
  SlotLinks& l = links[index];
  l.contact = contact;
  l.contact_prev = history.newest;
  l.contact_next = no_index;
  if (history.newest != no_index) links[history.newest].contact_next = index;
  history.newest = index;
  ++history.kept;
}

void Router::State::unlink_from_contact(EscalationIndex index) {
  SlotLinks& l = links[index];
  if (l.contact_prev != no_index) links[l.contact_prev].contact_next = l.contact_next;
  if (l.contact_next != no_index) {
    links[l.contact_next].contact_prev = l.contact_prev;
  } else {
    contacts[l.contact].newest = l.contact_prev;
  }
  l.contact_prev = l.contact_next = no_index;
  if (--contacts[l.contact].kept == 0) drop_contact(l.contact);
  l.contact = no_index;
}

void Router::State::drop_contact(std::uint32_t slot) {
  contact_by_key.erase(hash_text(contacts[slot].key), [&](std::uint32_t s) { return s == slot; });
  contacts[slot] = ContactHistory{};
  free_contacts.push_back(slot);
}

EscalationIndex Router::State::open_index_of(Symbol workspace, std::string_view conversation) const {
  return open_by_conversation.find(conversation_hash(workspace, conversation), [&](EscalationIndex e) {
    const Escalation& esc = *escalations[e];
    return esc.workspace == workspace && esc.conversation_id == conversation;
  });
}

void Router::State::index_open(EscalationIndex index) {
  const Escalation& esc = *escalations[index];
  open_by_conversation.insert(conversation_hash(esc.workspace, esc.conversation_id), index);
}

void Router::State::unindex_open(EscalationIndex index) {
  const Escalation& esc = *escalations[index];
  open_by_conversation.erase(conversation_hash(esc.workspace, esc.conversation_id),
                             [&](EscalationIndex e) { return e == index; });
}

Escalation* Router::State::escalation_for_command(const std::string& id, EscalationIndex& index) {
  index = index_of_id(id);
  if (index == no_index) {
    fail(not_found("escalation " + id + " not found"));
    return nullptr;
  }
  Escalation* esc = escalation(index);
  out->escalation_id = esc->id;
  return esc;
}

AgentIndex Router::State::agent_for_command(const std::string& id, const char* field) {
  if (id.empty()) {
    fail(invalid_argument(std::string(field) + ": required"));
    return no_index;
  }
  auto it = agent_by_id.find(id);
  if (it == agent_by_id.end() || agents[it->second].removed) {
    fail(invalid_argument(std::string(field) + ": unknown agent \"" + id + "\""));
    return no_index;
  }
  return it->second;
}

AgentIndex Router::State::resolve_agent(const std::string& id, const std::string& name, Symbol workspace) const {
  if (!id.empty()) {
    if (auto it = agent_by_id.find(id); it != agent_by_id.end()) {
      return it->second;
    }
    for (const auto& [agent_id, index] : agent_by_id) {
      for (const auto& [source, external] : agents[index].external_ids) {
        if (external == id) {
          return index;
        }
      }
    }
    return no_index;
  }
  if (!name.empty()) {
    for (const auto& [agent_id, index] : agent_by_id) {
      if (agents[index].name == name && (workspace == no_symbol || agents[index].member_of(workspace))) {
        return index;
      }
    }
  }
  return no_index;
}

void Router::State::add_message(Escalation& esc, MessageRole role, const std::string& agent_id, const std::string& text) {
  const std::uint32_t limit = rules.spec.settings.max_messages;
  if (limit == 0) {
    return;
  }
  esc.messages.push_back(role, agent_id, text, now);
  if (esc.messages.size() > limit) esc.messages.erase_front(esc.messages.size() - limit);
}

void Router::State::add_decision(Escalation& esc, const Decision& decision) {
  esc.trail.push_back(decision);
  trim_trail(esc);
}

void Router::State::add_decision(Escalation& esc, const DecisionParts& decision) {
  esc.trail.push_back(decision);
  trim_trail(esc);
}

void Router::State::trim_trail(Escalation& esc) {
  if (esc.trail.size() > options.max_trail) {
    // Keep the first decision (the route) and the most recent ones.
    esc.trail.erase(1);
  }
}

void Router::State::close(EscalationIndex index, EscalationStatus status, OutboundType type, const std::string& why) {
  const bool drops = closed_order.size() >= options.max_closed && closed_order.size() > 0;
  if (drops) {  // this close drops the oldest: asked for now, it arrives meanwhile
    prefetch_drop(closed_order[0]);
    prefetch_drop_links(closed_order[0]);  // its links were asked for by the close before
    if (closed_order.size() > 1) __builtin_prefetch(&links[closed_order[1]]);  // the next close's
  }
  Escalation& esc = *escalation(index);
  if (esc.assignee != no_index) {  // the agent it frees: read next (release), and by the pull after
    const char* a = reinterpret_cast<const char*>(&agents[esc.assignee]);
    for (std::size_t line = 0; line < sizeof(Agent); line += 64) __builtin_prefetch(a + line);
    __builtin_prefetch(&agent_index[esc.assignee]);
  }
  if (esc.status == EscalationStatus::queued) {
    dequeue(index);
  }
  const AgentIndex holder = esc.assignee;
  release_agent(index);
  esc.status = status;
  esc.closed_at = now;
  esc.announce_pending = false;
  if (status == EscalationStatus::released) {
    esc.ai_enabled = true;
  }
  ++esc.version;
  unindex_open(index);
  --open_count;
  OutboundEvent& e = emit(type, &esc);
  e.reason = why;
  if (holder != no_index) {  // who held it until now
    e.agent_id = agents[holder].id;
    e.agent_name = agents[holder].name;
    e.agent_avatar = agents[holder].avatar;
  }
  closed_order.push_back(index);
  while (closed_order.size() > options.max_closed) {
    const EscalationIndex old = closed_order.front();
    closed_order.pop_front();
    unindex_id(old);
    unlink_from_contact(old);
    escalations.reset(old);
    free_slots.push_back(old);
  }
}

// The escalation a close drops from the retention window is known when the close starts: the oldest
// closed one, closed max_closed closes ago, so nothing of it is in the cache. Dropping it reads its
// object (the destructor reads every member that owns memory), its links, its id-order entry and its
// contact, and the arrival that follows builds the next escalation in its slot, writing every line.
// So the close asks for the object's lines and links as it starts, and for what the links point to
// once they are in, a few hundred nanoseconds before the drop reads them. Asked for earlier (one to
// three closes ahead, as the fifth to seventh rounds did), the drop still waited for them: timed
// per section, its reads took as long as with no hint at all, and asking as the close starts made
// the routing cycle 15-18% faster in-process (BENCHMARKS.md). Hints only: nothing changes.
void Router::State::prefetch_drop(EscalationIndex index) const {
  const char* bytes = static_cast<const char*>(escalations.address(index));
  for (std::size_t line = 0; line < sizeof(Escalation); line += 64) __builtin_prefetch(bytes + line);
  __builtin_prefetch(&links[index]);
}

void Router::State::prefetch_drop_links(EscalationIndex index) const {
  const SlotLinks& l = links[index];
  if (const IdOrder::Entry* entry = by_creation.find(l.id_order)) __builtin_prefetch(entry, 1);
  if (l.contact < contacts.size()) __builtin_prefetch(&contacts[l.contact], 1);
  if (l.contact_prev < links.size()) __builtin_prefetch(&links[l.contact_prev], 1);
  if (l.contact_next < links.size()) __builtin_prefetch(&links[l.contact_next], 1);
}

void Router::State::upsert_agent(const AgentSpec& spec, bool from_config) {
  auto [it, inserted] = agent_by_id.try_emplace(spec.id, static_cast<AgentIndex>(agents.size()));
  const AgentIndex index = it->second;
  if (inserted) {
    agents.emplace_back();
    agent_index.emplace_back();
  }
  Agent& agent = agents[index];
  unindex_agent(index);
  agent_index[index].key_valid = false;  // its definition may change
  agent_index[index].serves.clear();
  for (Symbol ws : agent.workspaces) {
    auto& members = agents_of_workspace(ws).members;
    members.erase(std::remove(members.begin(), members.end(), index), members.end());
  }
  agent.id = spec.id;
  agent.name = spec.name.empty() ? spec.id : spec.name;
  agent.avatar = spec.avatar;
  agent.workspaces = intern_all(symbols, spec.workspaces, true);
  agent.skills = intern_all(symbols, spec.skills, false);
  agent.languages = intern_all(symbols, spec.languages, false);
  agent.capacity = std::max<std::uint32_t>(1, spec.capacity);
  // A lower capacity takes no conversation away from the agent: it just gets nothing new for a while.
  agent.excess_load = agent.load > agent.capacity ? agent.load - agent.capacity : 0;
  agent.attributes = spec.attributes;
  agent.external_ids = spec.external_ids;
  agent.from_config = agent.from_config || from_config;
  agent.removed = false;
  for (Symbol ws : agent.workspaces) {
    auto& members = agents_of_workspace(ws).members;
    members.insert(std::lower_bound(members.begin(), members.end(), index), index);
  }
  if (inserted || !from_config) {
    // A new agent starts in its configured status; an API update sets it; a reload keeps the live one.
    if (inserted) {
      agent.status = spec.status;
    } else if (agent.status != spec.status) {
      on_agent_status(index, spec.status, false);
    }
  }
  index_agent(index);
  // Escalations of workspaces it left go back to their queue: only members may hold them.
  for (EscalationIndex held : std::vector<EscalationIndex>(agent.held)) {
    Escalation& esc = *escalation(held);
    if (!agent.member_of(esc.workspace)) {
      OutboundEvent& e = emit(OutboundType::escalation_unassigned, &esc);
      e.reason = "agent_left_workspace";
      requeue(held, esc.status == EscalationStatus::taken_over, "its agent is no longer a member of the workspace");
    }
  }
  work.push_back({Work::Kind::pull, index});
}

// ---------------------------------------------------------------------------------------------
// Inbound events

void Router::State::on_inbound(const InboundEvent& event) {
  if (!event.event_id.empty()) {
    while (!dedupe_order.empty() && (dedupe_order.front().first + options.dedupe_window_ms <= now ||
                                     dedupe_order.size() > options.max_dedupe_entries)) {
      auto found = dedupe.find(dedupe_order.front().second);
      if (found != dedupe.end() && found->second == dedupe_order.front().first) {
        dedupe.erase(found);
      }
      dedupe_order.pop_front();
    }
    if (dedupe.count(event.event_id) != 0) {
      out->duplicate = true;
      return;
    }
  }
  switch (event.type) {
    case InboundType::escalation_requested: on_escalation_requested(event); break;
    case InboundType::message: on_message(event); break;
    case InboundType::agent_disconnect:
    case InboundType::agent_status: {
      const Symbol ws = event.workspace_id.empty() ? no_symbol : symbols.find(event.workspace_id);
      const AgentIndex agent = resolve_agent(event.agent_id, event.agent_name, ws);
      if (agent == no_index) {
        out->ignored = "unknown agent";
        break;
      }
      if (event.type == InboundType::agent_disconnect) {
        on_agent_status(agent, AgentStatus::offline, true);
      } else if (event.status) {
        on_agent_status(agent, *event.status, false);
      } else {
        fail(invalid_argument("status: required for agentStatus"));
      }
      break;
    }
    default: {
      EscalationIndex index = no_index;
      Escalation* esc = open_escalation_for(event.workspace_id, event.conversation_id, index);
      if (esc == nullptr) {
        out->ignored = "no open escalation for this conversation";
        break;
      }
      out->escalation_id = esc->id;
      if (event.type == InboundType::escalation_success) {
        const AgentIndex agent = resolve_agent(event.agent_id, event.agent_name, esc->workspace);
        if (agent == no_index) {
          out->ignored = "unknown agent";
        } else if (esc->status == EscalationStatus::offered && esc->assignee == agent) {
          command(AcceptCommand{esc->id.str(), agents[agent].id});
        } else if (esc->status == EscalationStatus::queued) {
          command(AssignCommand{esc->id.str(), agents[agent].id});
        } else {
          out->ignored = "not offered to that agent";
        }
        if (out->error) {
          out->ignored = out->error->message;  // an event is acknowledged, not refused
          out->error.reset();
        }
      } else if (event.type == InboundType::escalation_queue_update) {
        esc->external_position = event.queue_position;
        esc->external_wait_minutes = event.waiting_time;
        OutboundEvent& e = emit(OutboundType::escalation_queue_update, esc);
        e.queue_position = event.queue_position;
        e.waiting_time = event.waiting_time;
        e.reason = "external";
      } else if (event.type == InboundType::escalation_failed) {
        close(index, EscalationStatus::cancelled, OutboundType::escalation_cancelled,
              event.reason.empty() ? "the platform gave up" : event.reason);
      } else if (event.type == InboundType::conversation_closed) {
        close(index, EscalationStatus::resolved, OutboundType::escalation_resolved,
              event.reason.empty() ? "conversation closed" : event.reason);
      }
      break;
    }
  }
  if (!event.event_id.empty() && !out->error) {
    dedupe.emplace(event.event_id, now);
    dedupe_order.emplace_back(now, event.event_id);
  }
}

void Router::State::on_escalation_requested(const InboundEvent& event) {
  if (event.workspace_id.empty() || event.conversation_id.empty()) {
    fail(invalid_argument(event.workspace_id.empty() ? "workspaceId: required" : "conversationId: required"));
    return;
  }
  // A new escalation's contact is looked up in a large table whose line is not in the cache: asked
  // for first, it arrives while the open-conversation lookup below waits for its own.
  const Symbol workspace = symbols.intern(event.workspace_id);
  std::string contact = contact_key(workspace, event.contact ? std::string_view(event.contact->id) : std::string_view(),
                                    event.conversation_id);
  const std::uint64_t contact_hash = hash_text(contact);
  contact_by_key.prefetch(contact_hash);
  EscalationIndex index = open_index_of(workspace, event.conversation_id);
  if (index != no_index) {
    // Idempotent per open conversation: a second request updates, it does not duplicate.
    Escalation* esc = escalation(index);
    out->escalation_id = esc->id;
    const bool waiting = esc->status == EscalationStatus::queued;
    if (waiting) {
      dequeue(index);
    }
    if (event.priority) esc->priority = *event.priority;
    if (event.skills) intern_into(esc->skills, symbols, *event.skills);
    if (event.attributes) esc->attributes = *event.attributes;
    if (!event.language.empty()) esc->language = symbols.intern(event.language);
    if (!event.reason.empty()) esc->reason = event.reason;
    if (!event.text.empty()) add_message(*esc, MessageRole::customer, "", event.text);
    if (waiting) {
      const Symbol before = esc->queue;
      route(index);
      enqueue(index, false, "");
      if (esc->queue != before) {
        esc->announce_pending = true;
      }
    }
    return;
  }
  index = take_slot(escalations, free_slots);
  Escalation& esc = escalations.emplace(index);
  ulids.next_tagged(now, index, esc.id);  // names its slot: found by id without an index
  esc.workspace = workspace;
  esc.conversation_id = event.conversation_id;
  esc.source = event.source.empty() ? no_symbol : symbols.intern(event.source);
  esc.external_id = event.external_id;
  if (event.contact) esc.contact = *event.contact;
  esc.reason = event.reason;
  esc.priority = event.priority.value_or(0);
  esc.language = event.language.empty() ? no_symbol : symbols.intern(event.language);
  if (event.skills) intern_into(esc.skills, symbols, *event.skills);
  if (event.attributes) esc.attributes = *event.attributes;
  esc.created_at = now;
  esc.queued_at = now;
  if (!event.text.empty()) {
    add_message(esc, MessageRole::customer, "", event.text);
  }
  index_id(index);  // sizes links for this slot
  index_open(index);
  link_to_contact(index, contact_slot(std::move(contact), contact_hash));
  ++open_count;
  out->escalation_id = esc.id;
  route(index);
  emit(OutboundType::escalation_created, &esc).reason = esc.reason;
  enqueue(index, false, "");
}

void Router::State::on_message(const InboundEvent& event) {
  EscalationIndex index = no_index;
  Escalation* esc = open_escalation_for(event.workspace_id, event.conversation_id, index);
  if (esc == nullptr) {
    out->ignored = "no open escalation for this conversation";
    return;
  }
  out->escalation_id = esc->id;
  if (!event.agent_id.empty() || !event.agent_name.empty()) {
    const AgentIndex agent = resolve_agent(event.agent_id, event.agent_name, esc->workspace);
    if (agent == no_index || esc->assignee != agent || esc->status == EscalationStatus::offered) {
      out->ignored = "the sending agent does not hold this escalation";
      return;
    }
    add_message(*esc, MessageRole::agent, agents[agent].id, event.text);
    esc->agent_replied = true;
    OutboundEvent& e = emit(OutboundType::message, esc);
    e.text = event.text;
    e.role = "agent";
    return;
  }
  add_message(*esc, MessageRole::customer, "", event.text);
  OutboundEvent& e = emit(OutboundType::message, esc);
  e.text = event.text;
  e.role = "customer";
}

void Router::State::on_agent_status(AgentIndex index, AgentStatus status, bool disconnect_event) {
  Agent& agent = agents[index];
  const AgentStatus before = agent.status;
  agent.status = status;
  if (before != status) {
    emit_agent_status(agent);
  }
  if (status == AgentStatus::available) {
    agent.missed_offers = 0;
    if (agent.disconnected_at >= 0) {
      agent.disconnected_at = -1;
      ++agent.disconnect_generation;  // back within the grace period: nothing is requeued
    }
    reindex_agent(index);
    work.push_back({Work::Kind::pull, index});
    return;
  }
  reindex_agent(index);
  // Offers to an agent who is away or gone are routed again at once.
  for (EscalationIndex held : std::vector<EscalationIndex>(agent.held)) {
    if (escalation(held)->status == EscalationStatus::offered) {
      escalation(held)->excluded.push_back(index);
      requeue(held, false, status == AgentStatus::away ? "the agent it was offered to went away"
                                                       : "the agent it was offered to disconnected");
    }
  }
  if (status != AgentStatus::offline && !disconnect_event) {
    return;
  }
  bool any = false;
  for (EscalationIndex held : agent.held) {
    Escalation& esc = *escalation(held);
    if (esc.status == EscalationStatus::assigned || esc.status == EscalationStatus::taken_over) {
      emit(OutboundType::agent_disconnect, &esc).reason = "agent_disconnected";
      any = true;
    }
  }
  if (any && agent.disconnected_at < 0) {
    agent.disconnected_at = now;
    ++agent.disconnect_generation;
    schedule(DeadlineKind::disconnect_grace, now + rules.spec.settings.disconnect_grace_ms, index,
             agent.disconnect_generation);
  }
}

// ---------------------------------------------------------------------------------------------
// Operator commands

namespace {
Error closed_conflict(const Escalation& esc) {
  return conflict("escalation " + esc.id + " is " + escalation_status_name(esc.status));
}
}  // namespace

void Router::State::command(const AssignCommand& c) {
  EscalationIndex index = no_index;
  Escalation* esc = escalation_for_command(c.escalation_id, index);
  if (esc == nullptr) return;
  const AgentIndex agent = agent_for_command(c.assignee_id, "assigneeId");
  if (agent == no_index) return;
  if (!is_open(esc->status)) return fail(closed_conflict(*esc));
  Agent& a = agents[agent];
  if (!a.member_of(esc->workspace)) {
    return fail(invalid_argument("assigneeId: agent \"" + a.id + "\" is not a member of workspace \"" +
                                 std::string(symbols.name(esc->workspace)) + "\""));
  }
  if (esc->taken_over_by != no_index && esc->taken_over_by != agent) {
    return fail(conflict("escalation " + esc->id + " is taken over by " + agents[esc->taken_over_by].id));
  }
  if (esc->assignee == agent && esc->status != EscalationStatus::offered) {
    return;  // already assigned to that agent: nothing to do
  }
  if (esc->assignee != agent && a.load >= a.capacity) {
    return fail(conflict("agent " + a.id + " is at capacity (" + std::to_string(a.load) + "/" + std::to_string(a.capacity) + ")"));
  }
  if (esc->status == EscalationStatus::queued) {
    dequeue(index);
  } else if (esc->assignee != agent) {
    release_agent(index);
  }
  esc->excluded.clear();
  if (esc->assignee != agent) {
    esc->assignee = agent;
    take_agent(index, agent);
  }
  esc->announce_pending = false;
  assigned(index, agent);
  Decision d;
  d.at = now;
  d.action = "assigned";
  d.agent = a.id;
  d.queue.assign(symbols.text(esc->queue));
  d.words = "assigned by an operator";
  add_decision(*esc, d);
  emit(OutboundType::escalation_success, esc).decision = std::move(d);
}

void Router::State::command(const UnassignCommand& c) {
  EscalationIndex index = no_index;
  Escalation* esc = escalation_for_command(c.escalation_id, index);
  if (esc == nullptr) return;
  if (!is_open(esc->status)) return fail(closed_conflict(*esc));
  if (esc->status == EscalationStatus::queued) {
    return fail(conflict("escalation " + esc->id + " is not assigned"));
  }
  const AgentIndex previous = esc->assignee;
  OutboundEvent& e = emit(OutboundType::escalation_unassigned, esc);
  e.reason = "unassigned by an operator";
  esc->excluded.push_back(previous);  // back to the queue means: someone else
  esc->ai_enabled = true;
  requeue(index, false, "unassigned by an operator");
}

// The escalation offered to that agent, for accept and reject; refused (404/400/409) otherwise.
Escalation* Router::State::offer_for_command(const std::string& escalation_id, const std::string& agent_id,
                                             EscalationIndex& index, AgentIndex& agent) {
  Escalation* esc = escalation_for_command(escalation_id, index);
  if (esc == nullptr) return nullptr;
  agent = agent_for_command(agent_id, "agentId");
  if (agent == no_index) return nullptr;
  if (esc->status != EscalationStatus::offered || esc->assignee != agent) {
    fail(conflict("escalation " + esc->id + " is not offered to agent " + agent_id));
    return nullptr;
  }
  return esc;
}

void Router::State::command(const AcceptCommand& c) {
  EscalationIndex index = no_index;
  AgentIndex agent = no_index;
  Escalation* esc = offer_for_command(c.escalation_id, c.agent_id, index, agent);
  if (esc == nullptr) return;
  assigned(index, agent);
  Decision d;
  d.at = now;
  d.action = "accepted";
  d.agent = c.agent_id;
  d.queue.assign(symbols.text(esc->queue));
  d.words = "the agent accepted the offer";
  add_decision(*esc, d);
  emit(OutboundType::escalation_success, esc).decision = std::move(d);
}

void Router::State::command(const RejectCommand& c) {
  EscalationIndex index = no_index;
  AgentIndex agent = no_index;
  Escalation* esc = offer_for_command(c.escalation_id, c.agent_id, index, agent);
  if (esc == nullptr) return;
  esc->excluded.push_back(agent);
  requeue(index, false, "the agent rejected the offer");
  esc->trail.set_back_agent(c.agent_id);
}

void Router::State::command(const TakeoverCommand& c) {
  EscalationIndex index = no_index;
  Escalation* esc = escalation_for_command(c.escalation_id, index);
  if (esc == nullptr) return;
  const AgentIndex agent = agent_for_command(c.agent_id, "agentId");
  if (agent == no_index) return;
  if (!is_open(esc->status)) return fail(closed_conflict(*esc));
  Agent& a = agents[agent];
  if (!a.member_of(esc->workspace)) {
    return fail(invalid_argument("agentId: agent \"" + a.id + "\" is not a member of workspace \"" +
                                 std::string(symbols.name(esc->workspace)) + "\""));
  }
  if (esc->taken_over_by != no_index) {
    if (esc->taken_over_by == agent) return;  // already taken over by this agent
    return fail(conflict("escalation " + esc->id + " is already taken over by " + agents[esc->taken_over_by].id));
  }
  if (esc->assignee != agent && a.load >= a.capacity) {
    return fail(conflict("agent " + a.id + " is at capacity (" + std::to_string(a.load) + "/" + std::to_string(a.capacity) + ")"));
  }
  const bool from_queue = esc->status == EscalationStatus::queued || esc->status == EscalationStatus::offered;
  if (esc->status == EscalationStatus::queued) {
    dequeue(index);
  } else if (esc->assignee != agent) {
    release_agent(index);
  }
  if (esc->assignee != agent) {
    esc->assignee = agent;
    take_agent(index, agent);
  }
  if (esc->status == EscalationStatus::offered) {
    const std::uint32_t qi = find_queue(esc->workspace, esc->queue);
    if (qi != no_index && queues[qi].offered > 0) --queues[qi].offered;
  }
  esc->status = EscalationStatus::taken_over;
  esc->taken_over_by = agent;
  esc->ai_enabled = false;
  esc->announce_pending = false;
  if (esc->assigned_at < 0 || from_queue) esc->assigned_at = now;
  ++esc->version;
  a.last_assigned_at = now;
  reindex_agent(agent);
  history_of(index).last_agent = agent;
  if (from_queue) record_assignment(queue_of(esc->workspace, esc->queue));
  Decision d;
  d.at = now;
  d.action = "taken_over";
  d.agent = a.id;
  d.words = "taken over by the agent: the AI is paused";
  add_decision(*esc, d);
  emit(OutboundType::escalation_taken_over, esc).decision = std::move(d);
}

void Router::State::command(const SendCommand& c) {
  EscalationIndex index = no_index;
  Escalation* esc = escalation_for_command(c.escalation_id, index);
  if (esc == nullptr) return;
  const AgentIndex agent = agent_for_command(c.agent_id, "agentId");
  if (agent == no_index) return;
  if (c.content.empty()) return fail(invalid_argument("content: must not be empty"));
  if (!is_open(esc->status)) return fail(closed_conflict(*esc));
  if (esc->assignee != agent || esc->status == EscalationStatus::offered) {
    return fail(conflict("agent " + c.agent_id + " does not hold escalation " + esc->id));
  }
  add_message(*esc, MessageRole::agent, c.agent_id, c.content);
  esc->agent_replied = true;
  OutboundEvent& e = emit(OutboundType::message, esc);
  e.text = c.content;
  e.role = "agent";
}

void Router::State::command(const ReleaseCommand& c) {
  EscalationIndex index = no_index;
  Escalation* esc = escalation_for_command(c.escalation_id, index);
  if (esc == nullptr) return;
  if (!is_open(esc->status)) return fail(closed_conflict(*esc));
  close(index, EscalationStatus::released, OutboundType::escalation_released, "released to the AI");
}

void Router::State::command(const ResolveCommand& c) {
  EscalationIndex index = no_index;
  Escalation* esc = escalation_for_command(c.escalation_id, index);
  if (esc == nullptr) return;
  if (!is_open(esc->status)) return fail(closed_conflict(*esc));
  // An open escalation has no resolution yet (only this sets it): without one to write, its line
  // (not otherwise read by the close) is not fetched.
  if (!c.resolution.empty()) esc->resolution = c.resolution;
  close(index, EscalationStatus::resolved, OutboundType::escalation_resolved, c.resolution);
}

void Router::State::command(const UpsertAgentCommand& c) {
  if (c.agent.id.empty()) return fail(invalid_argument("id: required"));
  if (c.agent.workspaces.empty()) return fail(invalid_argument("workspaces: must name at least one workspace"));
  if (c.agent.capacity == 0) return fail(invalid_argument("capacity: must be at least 1"));
  upsert_agent(c.agent, false);
}

void Router::State::command(const SetAgentStatusCommand& c) {
  const AgentIndex agent = agent_for_command(c.agent_id, "agentId");
  if (agent == no_index) return;
  on_agent_status(agent, c.status, false);
}

void Router::State::command(const ReloadRulesCommand& c) {
  std::vector<RuleError> errors = install(c.rules);
  if (!errors.empty()) {
    std::string message = "rules rejected:";
    for (const RuleError& e : errors) {
      message += " " + std::to_string(e.pos.line) + ":" + std::to_string(e.pos.column) + ": " + e.message + ";";
    }
    fail(invalid_argument(message));
  }
}

void Router::State::command(const TickCommand&) {}

void Router::State::apply(const Input& input, Outcome& outcome) {
  outcome.error.reset();
  outcome.events.clear();  // its capacity is kept: a reused outcome costs no allocation
  outcome.escalation_id = Id();
  outcome.duplicate = false;
  outcome.ignored.clear();
  // Most inputs emit one to three events: one allocation, no regrowth.
  if (!quiet && outcome.events.capacity() < 4) outcome.events.reserve(4);
  out = &outcome;
  const TimestampMs at = std::max(now, input.at);
  fire_due(at);
  now = at;
  run_work();
  std::visit([this](const auto& c) { command(c); }, input.command);
  run_work();
  fire_due(now);
  walk_dirty_queues();
  flush_stale_agents();  // between inputs the ready sets are exact (API views, snapshots, invariants)
  outcome.next_deadline = deadlines.empty() ? -1 : deadlines.begin()->at;
  out = nullptr;
}

// ---------------------------------------------------------------------------------------------
// Router

Router::Router(RouterOptions options) : state_(std::make_unique<State>()) {
  state_->options = options;
  state_->ulids = UlidGenerator(options.id_seed);
  CompiledRules empty;
  compile_rules(RuleSet{}, state_->symbols, empty);
  state_->rules = std::move(empty);
}

Router::Router(std::unique_ptr<State> state) : state_(std::move(state)) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

std::vector<RuleError> Router::load_rules(const RuleSet& rules) {
  Outcome scratch;
  state_->out = &scratch;
  auto errors = state_->install(rules);
  state_->run_work();
  state_->flush_stale_agents();
  state_->out = nullptr;
  return errors;
}

Outcome Router::apply(const Input& input) {
  Outcome outcome;
  state_->apply(input, outcome);
  return outcome;
}

void Router::apply(const Input& input, Outcome& into) { state_->apply(input, into); }

void Router::apply_quietly(const Input& input) {
  Outcome outcome;
  state_->quiet = true;
  state_->apply(input, outcome);
  state_->quiet = false;
}

TimestampMs Router::now() const { return state_->now; }
TimestampMs Router::next_deadline() const {
  return state_->deadlines.empty() ? -1 : state_->deadlines.begin()->at;
}
std::uint64_t Router::sequence() const { return state_->sequence; }
std::size_t Router::open_escalation_count() const { return state_->open_count; }
const RuleSet& Router::rules() const { return state_->rules.spec; }
std::string_view Router::symbol_name(Symbol symbol) const { return state_->symbols.name(symbol); }
const SymbolTable& Router::symbols() const { return state_->symbols; }

}  // namespace router::core
