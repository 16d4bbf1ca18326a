// The whole Router state as bytes and back: little-endian fixed-width fields, strings with a
// length. Indexes that follow from the state (lookups, ready sets, queue trees) are rebuilt.
#include <algorithm>
#include <cstring>

#include "bytes.hpp"
#include "router_state.hpp"

namespace router::core {
namespace {

constexpr std::string_view magic = "ERSNAP01";
constexpr std::size_t contact_ids_written = 20;  // per contact: its newest escalations kept

void write_decision(ByteWriter& w, const Decision& d) {
  w.i64(d.at);
  w.str(d.action);
  w.str(d.route);
  w.str(d.queue);
  w.i32(d.step);
  w.str(d.agent);
  w.str(d.reason());  // as words: a restored decision keeps them as words
  w.u32(static_cast<std::uint32_t>(d.candidates.size()));
  for (const auto& c : d.candidates) {
    w.str(c.agent);
    w.str(c.verdict());  // as words: a restored candidate keeps them as text
  }
  w.u32(d.not_examined);
}

Decision read_decision(ByteReader& r) {
  Decision d;
  d.at = r.i64();
  d.action = r.str();
  d.route = r.str();
  d.queue = r.str();
  d.step = r.i32();
  d.agent = r.str();
  d.words = r.str();
  d.candidates.resize(r.count(8));
  for (auto& c : d.candidates) {
    c.agent = r.str();
    c.text = r.str();
  }
  d.not_examined = r.u32();
  return d;
}

void write_escalation(ByteWriter& w, const Escalation& e) {
  w.str(e.id);
  w.u32(e.workspace);
  w.str(e.conversation_id);
  w.u32(e.source);
  w.str(e.external_id);
  w.str(e.contact.id);
  w.str(e.contact.name);
  w.attrs(e.contact.attributes);
  w.str(e.reason);
  w.i32(e.priority);
  w.u32(e.language);
  w.syms(e.skills);
  w.attrs(e.attributes);
  w.u8(static_cast<std::uint8_t>(e.status));
  w.u32(e.queue);
  w.i32(e.route);
  w.u32(e.assignee);
  w.u32(e.taken_over_by);
  w.b(e.ai_enabled);
  w.u64(e.version);
  w.i64(e.created_at);
  w.i64(e.queued_at);
  w.i64(e.waiting_since);
  w.i64(e.offered_at);
  w.i64(e.assigned_at);
  w.i64(e.closed_at);
  w.str(e.resolution);
  w.b(e.front_of_line);
  w.i32(e.step);
  w.syms(e.excluded);
  w.b(e.agent_replied);
  w.u32(static_cast<std::uint32_t>(e.messages.size()));
  for (const Message& m : e.messages) {
    w.u8(static_cast<std::uint8_t>(m.role));
    w.str(m.agent_id);
    w.str(m.text);
    w.i64(m.at);
  }
  w.u32(static_cast<std::uint32_t>(e.trail.size()));
  for (const auto& d : e.trail) write_decision(w, d);
  w.i32(e.sent_position);
  w.i32(e.sent_wait_minutes);
  w.i64(e.sent_update_at);
  w.i32(e.external_position);
  w.i32(e.external_wait_minutes);
  w.u64(e.queue_seq);
  w.b(e.announce_pending);
}

void read_escalation(ByteReader& r, Escalation& e) {
  e.id = r.id();
  e.workspace = r.u32();
  e.conversation_id = r.str();
  e.source = r.u32();
  e.external_id = r.str();
  e.contact.id = r.str();
  e.contact.name = r.str();
  e.contact.attributes = r.attrs();
  e.reason = r.str();
  e.priority = r.i32();
  e.language = r.u32();
  e.skills = r.syms();
  e.attributes = r.attrs();
  e.status = static_cast<EscalationStatus>(std::min<std::uint8_t>(r.u8(), 7));
  e.queue = r.u32();
  e.route = r.i32();
  e.assignee = r.u32();
  e.taken_over_by = r.u32();
  e.ai_enabled = r.b();
  e.version = r.u64();
  e.created_at = r.i64();
  e.queued_at = r.i64();
  e.waiting_since = r.i64();
  e.offered_at = r.i64();
  e.assigned_at = r.i64();
  e.closed_at = r.i64();
  e.resolution = r.str();
  e.front_of_line = r.b();
  e.step = r.i32();
  e.excluded = r.syms();
  e.agent_replied = r.b();
  const std::uint32_t messages = r.count(17);
  for (std::uint32_t i = 0; i < messages; ++i) {
    Message m;
    m.role = static_cast<MessageRole>(std::min<std::uint8_t>(r.u8(), 2));
    m.agent_id = r.str();
    m.text = r.str();
    m.at = r.i64();
    e.messages.push_back(m);
  }
  for (std::size_t i = r.count(8); i > 0; --i) e.trail.push_back(read_decision(r));
  e.sent_position = r.i32();
  e.sent_wait_minutes = r.i32();
  e.sent_update_at = r.i64();
  e.external_position = r.i32();
  e.external_wait_minutes = r.i32();
  e.queue_seq = r.u64();
  e.announce_pending = r.b();
}

}  // namespace

std::string Router::snapshot() const {
  const State& s = *state_;
  ByteWriter w;
  w.str(magic);
  w.u64(s.options.id_seed);
  w.u32(s.options.max_trail);
  w.u32(s.options.max_closed);
  w.i64(s.options.dedupe_window_ms);
  w.u32(s.options.max_dedupe_entries);
  w.i64(s.now);
  w.u64(s.sequence);
  w.u64(s.next_queue_seq);
  w.u64(s.next_deadline_seq);
  w.u64(s.ulids.state());
  w.i64(s.ulids.last_time());
  w.u64(s.ulids.last_high());
  w.u64(s.ulids.last_low());

  w.u32(static_cast<std::uint32_t>(s.symbols.size()));
  for (Symbol i = 0; i < s.symbols.size(); ++i) w.str(s.symbols.name(i));
  write_rules(w, s.rules.spec);

  w.u32(static_cast<std::uint32_t>(s.agents.size()));
  for (const Agent& a : s.agents) {
    w.str(a.id);
    w.str(a.name);
    w.str(a.avatar);
    w.syms(a.workspaces);
    w.syms(a.skills);
    w.syms(a.languages);
    w.u32(a.capacity);
    w.u8(static_cast<std::uint8_t>(a.status));
    w.attrs(a.attributes);
    w.pairs(a.external_ids);
    w.b(a.from_config);
    w.b(a.removed);
    w.u32(a.load);
    w.u32(a.excess_load);
    w.i64(a.last_assigned_at);
    w.u32(a.missed_offers);
    w.u64(a.disconnect_generation);
    w.i64(a.disconnected_at);
    w.syms(a.held);
  }

  w.u32(static_cast<std::uint32_t>(s.escalations.size()));
  for (EscalationIndex i = 0; i < s.escalations.size(); ++i) {
    const Escalation* e = s.escalations[i];
    w.b(e != nullptr);
    if (e) write_escalation(w, *e);
  }
  w.syms(s.free_slots);
  std::vector<EscalationIndex> closed(s.closed_order.size());
  for (std::size_t i = 0; i < closed.size(); ++i) closed[i] = s.closed_order[i];
  w.syms(closed);

  std::vector<const ContactHistory*> contacts;
  for (const ContactHistory& history : s.contacts) {
    if (!history.key.empty()) contacts.push_back(&history);
  }
  std::sort(contacts.begin(), contacts.end(), [](auto* a, auto* b) { return a->key < b->key; });
  w.u32(static_cast<std::uint32_t>(contacts.size()));
  for (const ContactHistory* history : contacts) {
    w.str(history->key);
    w.u32(history->last_agent);
    // Its newest escalations kept, oldest first (at most contact_ids_written). Restore rebuilds the
    // chain from the escalations themselves; the list is kept in the format for older readers.
    std::vector<Id> ids;
    for (std::uint32_t e = history->newest; e != no_index && ids.size() < contact_ids_written; e = s.links[e].contact_prev) {
      ids.push_back(s.escalations[e]->id);
    }
    std::reverse(ids.begin(), ids.end());
    w.ids(ids);
  }

  w.u32(static_cast<std::uint32_t>(s.queues.size()));
  for (const QueueState& q : s.queues) {
    w.u32(q.workspace);
    w.u32(q.name);
    w.u32(q.offered);
    w.i64(q.mean_interval_ms);
    w.i64(q.last_assignment_at);
    w.u32(q.round_robin_cursor);
    w.b(q.dirty);
    w.i64(q.next_walk_at);
  }
  w.syms(std::vector<std::uint32_t>(s.dirty_queues.begin(), s.dirty_queues.end()));

  w.u32(static_cast<std::uint32_t>(s.deadlines.size()));
  for (const Deadline& d : s.deadlines) {
    w.i64(d.at);
    w.u64(d.seq);
    w.u8(static_cast<std::uint8_t>(d.kind));
    w.u32(d.target);
    w.u64(d.stamp);
  }
  w.u32(static_cast<std::uint32_t>(s.dedupe_order.size()));
  for (const auto& [at, id] : s.dedupe_order) {
    w.i64(at);
    w.str(id);
  }
  return w.take();
}

Result<Router> Router::restore(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.str() != magic || !r.ok()) {
    return invalid_argument("not a router snapshot (bad magic)");
  }
  auto state = std::make_unique<State>();
  State& s = *state;
  s.options.id_seed = r.u64();
  s.options.max_trail = r.u32();
  s.options.max_closed = r.u32();
  s.options.dedupe_window_ms = r.i64();
  s.options.max_dedupe_entries = r.u32();
  s.now = r.i64();
  s.sequence = r.u64();
  s.next_queue_seq = r.u64();
  s.next_deadline_seq = r.u64();
  {
    const std::uint64_t ulid_state = r.u64();
    const TimestampMs last = r.i64();
    const std::uint64_t high = r.u64();
    const std::uint64_t low = r.u64();
    s.ulids.restore(ulid_state, last, high, low);
  }
  const std::uint32_t symbol_count = r.count(4);
  for (std::uint32_t i = 0; i < symbol_count; ++i) s.symbols.intern(r.str());
  const RuleSet rules = read_rules(r);
  if (!r.ok()) return invalid_argument("snapshot truncated in its header or rules");
  const std::size_t symbols_before = s.symbols.size();
  if (!compile_rules(rules, s.symbols, s.rules).empty() || s.symbols.size() != symbols_before) {
    return invalid_argument("snapshot rules do not compile");
  }
  auto valid_symbol = [&](Symbol sym) { return sym == no_symbol || sym < s.symbols.size(); };

  const std::uint32_t agent_count = r.count(8);
  s.agents.resize(agent_count);
  s.agent_index.resize(agent_count);
  for (AgentIndex i = 0; i < agent_count && r.ok(); ++i) {
    Agent& a = s.agents[i];
    a.id = r.str();
    a.name = r.str();
    a.avatar = r.str();
    a.workspaces = r.syms();
    a.skills = r.syms();
    a.languages = r.syms();
    a.capacity = std::max<std::uint32_t>(1, r.u32());
    a.status = static_cast<AgentStatus>(std::min<std::uint8_t>(r.u8(), 2));
    a.attributes = r.attrs();
    a.external_ids = r.pairs();
    a.from_config = r.b();
    a.removed = r.b();
    a.load = r.u32();
    a.excess_load = r.u32();
    a.last_assigned_at = r.i64();
    a.missed_offers = r.u32();
    a.disconnect_generation = r.u64();
    a.disconnected_at = r.i64();
    a.held = r.syms();
    for (Symbol sym : a.workspaces) {
      if (!valid_symbol(sym)) return invalid_argument("snapshot: agent " + a.id + " names an unknown workspace");
    }
    s.agent_by_id.emplace(a.id, i);
  }
  const std::uint32_t slots = r.count(1);
  s.escalations.resize(slots);
  std::vector<IdOrder::Entry> in_order;  // the kept escalations, sorted by id below
  for (EscalationIndex i = 0; i < slots && r.ok(); ++i) {
    if (!r.b()) continue;
    Escalation read;
    read_escalation(r, read);
    if (!valid_symbol(read.workspace) || !valid_symbol(read.queue) ||
        (read.assignee != no_index && read.assignee >= agent_count)) {
      return invalid_argument("snapshot: escalation " + read.id + " is inconsistent");
    }
    const bool open = is_open(read.status);
    if (s.index_of_id(read.id) != no_index) {  // before it is in its slot: its id may name that slot
      return invalid_argument("snapshot: escalation " + read.id + " appears twice");
    }
    s.escalations.emplace(i, std::move(read));
    // An id names its slot, except one made before ids did: those are indexed (foreign_ids).
    if (UlidGenerator::tag_of(s.escalations[i]->id) != i) s.foreign_ids.insert(hash_text(s.escalations[i]->id), i);
    in_order.push_back(IdOrder::Entry{s.escalations[i]->id, i});
    if (open) {
      if (s.open_index_of(s.escalations[i]->workspace, s.escalations[i]->conversation_id) != no_index) {
        return invalid_argument("snapshot: two open escalations for conversation " + s.escalations[i]->conversation_id);
      }
      s.index_open(i);
      ++s.open_count;
    }
  }
  std::sort(in_order.begin(), in_order.end(), [](const IdOrder::Entry& a, const IdOrder::Entry& b) { return a.id < b.id; });
  s.links.assign(s.escalations.size(), {});
  s.by_creation.assign(in_order, [&](EscalationIndex e, std::uint32_t place) { s.links[e].id_order = place; });
  s.free_slots = r.syms();
  const std::vector<EscalationIndex> closed = r.syms();
  for (EscalationIndex index : closed) s.closed_order.push_back(index);
  const std::uint32_t contact_count = r.count(12);
  for (std::uint32_t i = 0; i < contact_count && r.ok(); ++i) {
    std::string key = r.str();
    if (key.empty() || s.find_contact(key) != no_index) return invalid_argument("snapshot: a contact is empty or appears twice");
    ContactHistory& history = s.contacts[s.contact_slot(std::move(key))];
    history.last_agent = r.u32();
    r.ids();  // its escalations: the chain is rebuilt from the escalations below
  }
  // Each kept escalation joins its contact's chain, in creation (id) order.
  for (const IdOrder::Entry& entry : in_order) {
    s.link_to_contact(entry.slot, s.contact_slot(s.contact_key(*s.escalations[entry.slot])));
  }
  for (std::uint32_t slot = 0; slot < s.contacts.size(); ++slot) {
    if (!s.contacts[slot].key.empty() && s.contacts[slot].kept == 0) s.drop_contact(slot);  // none of theirs kept
  }
  const std::uint32_t queue_count = r.count(16);
  s.queues.resize(queue_count);
  for (std::uint32_t i = 0; i < queue_count && r.ok(); ++i) {
    QueueState& q = s.queues[i];
    q.workspace = r.u32();
    q.name = r.u32();
    q.offered = r.u32();
    q.mean_interval_ms = r.i64();
    q.last_assignment_at = r.i64();
    q.round_robin_cursor = r.u32();
    q.dirty = r.b();
    q.next_walk_at = r.i64();
    if (s.find_queue(q.workspace, q.name) != no_index) return invalid_argument("snapshot: a queue appears twice");
    s.queue_by_key.insert(Router::State::queue_hash(q.workspace, q.name), i);
  }
  for (std::uint32_t q : r.syms()) s.dirty_queues.insert(q);
  const std::uint32_t deadline_count = r.count(29);
  for (std::uint32_t i = 0; i < deadline_count && r.ok(); ++i) {
    Deadline d;
    d.at = r.i64();
    d.seq = r.u64();
    d.kind = static_cast<DeadlineKind>(std::min<std::uint8_t>(r.u8(), 5));
    d.target = r.u32();
    d.stamp = r.u64();
    s.deadlines.insert(d);
  }
  const std::uint32_t dedupe_count = r.count(12);
  for (std::uint32_t i = 0; i < dedupe_count && r.ok(); ++i) {
    const TimestampMs at = r.i64();
    std::string id = r.str();
    s.dedupe[id] = at;
    s.dedupe_order.emplace_back(at, std::move(id));
  }
  if (!r.ok() || !r.at_end()) {
    return invalid_argument("snapshot truncated or with trailing bytes");
  }
  // Rebuild the indexes.
  for (AgentIndex i = 0; i < agent_count; ++i) {
    for (Symbol ws : s.agents[i].workspaces) s.agents_of_workspace(ws).members.push_back(i);
    s.index_agent(i);
  }
  for (EscalationIndex i = 0; i < s.escalations.size(); ++i) {
    const Escalation* e = s.escalations[i];
    if (e != nullptr && e->status == EscalationStatus::queued) {
      const std::uint32_t qi = s.find_queue(e->workspace, e->queue);
      if (qi == no_index) return invalid_argument("snapshot: queued escalation without its queue");
      s.waiting_insert(qi, i);
    }
  }
  return Router(std::move(state));
}

}  // namespace router::core
