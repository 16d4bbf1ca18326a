// Queues and routing decisions: which queue an escalation waits in, which agent gets it, and the
// order in which waiting work is served (priority, then time queued; a newer one never jumps).
#include <algorithm>
#include <array>
#include <limits>

#include "router_state.hpp"

namespace router::core {
namespace {

QueueKey key_of(const Escalation& esc) {
  return QueueKey{QueueKey::lane_of(esc.front_of_line, esc.priority), esc.queued_at, esc.queue_seq};
}

constexpr std::size_t max_listed_candidates = Passed::max_listed;

void note_candidate(Decision& d, const Agent& agent, Decision::Candidate::Verdict kind, std::int32_t step = -1,
                    std::string_view text = {}) {
  if (d.candidates.size() < max_listed_candidates) {
    if (d.candidates.empty()) d.candidates.reserve(max_listed_candidates);  // one allocation, not four
    Decision::Candidate& c = d.candidates.emplace_back();
    c.agent = agent.id;
    c.kind = kind;
    c.step = step;
    c.text = text;
  }
}

}  // namespace

std::uint32_t Router::State::queue_of(Symbol workspace, Symbol name) {
  if (const std::uint32_t found = find_queue(workspace, name); found != no_index) return found;
  const auto slot = static_cast<std::uint32_t>(queues.size());
  QueueState& q = queues.emplace_back();
  q.workspace = workspace;
  q.name = name;
  queue_by_key.insert(queue_hash(workspace, name), slot);
  return slot;
}

const CompiledQueue* Router::State::queue_spec(Symbol name) const {
  const std::vector<std::uint32_t>& by_symbol = rules.queue_by_symbol;  // symbols are small dense integers
  return name < by_symbol.size() && by_symbol[name] != no_index ? &rules.queues[by_symbol[name]] : nullptr;
}

const Expression& Router::State::agents_rule(const CompiledQueue& spec, std::int32_t step) const {
  if (step >= 0 && static_cast<std::size_t>(step) < spec.steps.size()) {
    return spec.steps[static_cast<std::size_t>(step)].agents;
  }
  return spec.agents;
}

bool Router::State::eligible(const Escalation& esc, AgentIndex index, const CompiledQueue& spec, std::string* why) const {
  const Agent& agent = agents[index];
  auto no = [&](std::string reason) {
    if (why != nullptr) {
      *why = std::move(reason);
    }
    return false;
  };
  if (agent.removed) return no("removed from the configuration");
  if (!agent.member_of(esc.workspace)) return no("not a member of workspace " + std::string(symbols.name(esc.workspace)));
  if (agent.status != AgentStatus::available) return no(std::string("status ") + agent_status_name(agent.status));
  if (agent.load >= agent.capacity) {
    return no("at capacity (" + std::to_string(agent.load) + "/" + std::to_string(agent.capacity) + ")");
  }
  if (std::find(esc.excluded.begin(), esc.excluded.end(), index) != esc.excluded.end()) {
    return no("rejected or missed this escalation before");
  }
  const Expression& rule = agents_rule(spec, esc.step);
  if (!rule.evaluate(EvalContext{&esc, &agent, now, &symbols})) {
    return no(esc.step >= 0 ? "does not match step " + std::to_string(esc.step) + "'s agents rule"
                            : "does not match the queue's agents rule");
  }
  return true;
}

void Router::State::route(EscalationIndex index) {
  Escalation& esc = *escalation(index);
  const EvalContext context{&esc, nullptr, now, &symbols};
  esc.route = -1;
  if (unrouted_queue == no_symbol) unrouted_queue = symbols.intern("");
  esc.queue = unrouted_queue;
  for (std::size_t i = 0; i < rules.routes.size(); ++i) {
    const CompiledRoute& route = rules.routes[i];
    if (route.when.evaluate(context)) {
      esc.route = static_cast<std::int32_t>(i);
      esc.queue = route.queue;
      add_decision(esc, DecisionParts{.at = now, .action = "routed", .route = route.spec.name, .queue = route.spec.queue,
                                      .words = route.because});
      return;
    }
  }
  add_decision(esc, DecisionParts{.at = now, .action = "unrouted", .words = "no route matched; it waits until the rules change"});
}

void Router::State::enqueue(EscalationIndex index, bool requeue, const char* why) {
  Escalation& esc = *escalation(index);
  esc.status = EscalationStatus::queued;
  esc.assignee = no_index;
  esc.taken_over_by = no_index;
  esc.queue_seq = next_queue_seq++;
  esc.waiting_since = now;
  esc.step = -1;
  if (const CompiledQueue* spec = queue_spec(esc.queue)) {
    for (std::size_t i = 0; i < spec->steps.size(); ++i) {
      if (now - esc.queued_at >= spec->steps[i].after_ms) {
        esc.step = static_cast<std::int32_t>(i);
      }
    }
  }
  const std::uint32_t qi = queue_of(esc.workspace, esc.queue);
  waiting_insert(qi, index);
  mark_dirty(qi);
  if (requeue) add_decision(esc, DecisionParts{.at = now, .action = "requeued", .queue = symbols.name(esc.queue), .words = why});
  esc.announce_pending = true;
  schedule_waiting_deadlines(index);
  work.push_back({Work::Kind::place, index});
}

void Router::State::dequeue(EscalationIndex index) {
  Escalation& esc = *escalation(index);
  const std::uint32_t qi = find_queue(esc.workspace, esc.queue);
  if (qi == no_index) {
    return;
  }
  waiting_erase(qi, index);
  mark_dirty(qi);
}

namespace {

template <typename T>
void append_raw(std::string& key, const T& value) {
  key.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void append_text(std::string& key, std::string_view text) {
  append_raw(key, static_cast<std::uint32_t>(text.size()));
  key.append(text);
}

void append_scalar(std::string& key, const Scalar& value) {
  key.push_back(static_cast<char>(value.index()));
  if (const bool* b = std::get_if<bool>(&value)) key.push_back(*b ? '1' : '0');
  if (const double* d = std::get_if<double>(&value)) append_raw(key, *d);
  if (const std::string* t = std::get_if<std::string>(&value)) append_text(key, *t);
}

// Classes (of escalations or of agents) live in reusable slots found by their key: the slot of
// `key`, made empty with that key when there is none; and giving an emptied one back.
template <typename Class>
std::uint32_t acquire_class(std::vector<Class>& classes, std::vector<std::uint32_t>& free_slots, FlatIndex& by_key,
                            const std::string& key) {
  const std::uint64_t hash = hash_text(key);
  if (const std::uint32_t found = by_key.find(hash, [&](std::uint32_t slot) { return classes[slot].key == key; });
      found != FlatIndex::none) {
    return found;
  }
  const std::uint32_t slot = take_slot(classes, free_slots);
  classes[slot].key = key;
  by_key.insert(hash, slot);
  return slot;
}

template <typename Class>
void release_class(std::vector<Class>& classes, std::vector<std::uint32_t>& free_slots, FlatIndex& by_key,
                   std::uint32_t slot) {
  by_key.erase(hash_text(classes[slot].key), [&](std::uint32_t s) { return s == slot; });
  classes[slot].key.clear();
  if constexpr (std::is_same_v<Class, EligibilityClass>) classes[slot].verdicts.clear();
  if constexpr (std::is_same_v<Class, AgentClass>) ++classes[slot].generation;
  free_slots.push_back(slot);
}

void append_attribute(std::string& key, const Attributes& attributes, std::string_view name) {
  for (const auto& [attribute, value] : attributes) {
    if (attribute != name) {
      continue;
    }
    key.push_back(static_cast<char>(value.index() + 1));
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<Scalar>>) {
            append_raw(key, static_cast<std::uint32_t>(v.size()));
            for (const Scalar& element : v) append_scalar(key, element);
          } else {
            append_scalar(key, Scalar{v});
          }
        },
        value);
    return;
  }
  key.push_back('\0');  // absent
}

}  // namespace

// The eligibility class of a waiting escalation: the rules generation, its step and the values of
// every escalation field its queue's agents rules read, length-prefixed so distinct values never
// encode alike.
void Router::State::eligibility_key(const CompiledQueue* spec, const Escalation& esc, std::string& key) const {
  key.clear();
  append_raw(key, rules_generation);
  append_raw(key, esc.step);
  if (spec == nullptr) {
    return;  // nobody pulls from it: one class
  }
  if (spec->reads_time) {
    key.push_back('t');
    append_raw(key, esc.queue_seq);  // the rule changes with time: its own class
    return;
  }
  using F = Expression::Field;
  const std::uint32_t fields = spec->reads.fields;
  auto reads = [&](F f) { return (fields & (1u << static_cast<unsigned>(f))) != 0; };
  if (reads(F::esc_id)) append_text(key, esc.id);
  if (reads(F::esc_workspace)) append_raw(key, esc.workspace);
  if (reads(F::esc_conversation)) append_text(key, esc.conversation_id);
  if (reads(F::esc_source)) append_raw(key, esc.source);
  if (reads(F::esc_priority)) append_raw(key, esc.priority);
  if (reads(F::esc_reason)) append_text(key, esc.reason);
  if (reads(F::esc_language)) append_raw(key, esc.language);
  if (reads(F::esc_skills)) {
    append_raw(key, static_cast<std::uint32_t>(esc.skills.size()));
    for (Symbol skill : esc.skills) append_raw(key, skill);
  }
  if (reads(F::esc_contact_id)) append_text(key, esc.contact.id);
  if (reads(F::esc_contact_name)) append_text(key, esc.contact.name);
  for (const auto& [root, name] : spec->reads.attributes) {
    append_attribute(key, root == Expression::AttributeRoot::contact ? esc.contact.attributes : esc.attributes, name);
  }
}

void Router::State::waiting_insert(std::uint32_t queue, EscalationIndex index) {
  Escalation& esc = *escalation(index);
  QueueState& q = queues[queue];
  const QueueKey key = key_of(esc);
  // The class key is written a few bytes at a time and then read by words (hash, compare): built
  // before the queue insert, its stores have reached the cache by the time they are read back.
  eligibility_key(queue_spec(esc.queue), esc, class_key_scratch);
  q.waiting.insert(key, index);
  const std::uint32_t ci = acquire_class(q.classes, q.free_classes, q.class_by_key, class_key_scratch);
  EligibilityClass& c = q.classes[ci];
  c.step = esc.step;  // part of the key: the same for every member
  if (!c.waiting.empty() && !(key < c.waiting.front().first)) {
    c.waiting.insert(key, index);
  } else {
    if (!c.waiting.empty()) q.class_heads.erase({c.waiting.front().first, ci});
    c.waiting.insert(key, index);
    q.class_heads.insert({key, ci});
  }
  esc.eligibility_class = ci;
}

// The next head of a class is the next escalation an agent of it pulls: its lines are asked for now.
void Router::State::prefetch_escalation(EscalationIndex index) const {
  const char* bytes = static_cast<const char*>(escalations.address(index));
  for (std::size_t line = 0; line < sizeof(Escalation); line += 64) __builtin_prefetch(bytes + line);
}

void Router::State::waiting_erase(std::uint32_t queue, EscalationIndex index) {
  Escalation& esc = *escalation(index);
  QueueState& q = queues[queue];
  const QueueKey key = key_of(esc);
  q.waiting.erase(key);
  const std::uint32_t ci = esc.eligibility_class;
  esc.eligibility_class = no_index;
  if (ci >= q.classes.size()) {
    return;
  }
  EligibilityClass& c = q.classes[ci];
  const bool head = !c.waiting.empty() && !(c.waiting.front().first < key);  // nothing before it
  if (!c.waiting.erase(key)) {
    return;
  }
  if (head) {
    q.class_heads.erase({key, ci});
    if (!c.waiting.empty()) {
      q.class_heads.insert({c.waiting.front().first, ci});
      prefetch_escalation(c.waiting.front().second);
    }
  }
  if (c.waiting.empty()) {
    release_class(q.classes, q.free_classes, q.class_by_key, ci);
  }
}

std::int32_t Router::State::position(const Escalation& esc) const {
  if (esc.status != EscalationStatus::queued) {
    return -1;
  }
  const std::uint32_t qi = find_queue(esc.workspace, esc.queue);
  if (qi == no_index) {
    return -1;
  }
  return static_cast<std::int32_t>(queues[qi].waiting.rank(key_of(esc))) + 1;
}

std::int32_t Router::State::wait_minutes(const QueueState& queue, std::int32_t position) const {
  if (position <= 0) {
    return -1;
  }
  const DurationMs per_position =
      queue.mean_interval_ms >= 0 ? queue.mean_interval_ms : rules.spec.settings.initial_wait_estimate_ms;
  const std::int64_t total = static_cast<std::int64_t>(position) * per_position;
  return static_cast<std::int32_t>((total + 59'999) / 60'000);
}

void Router::State::mark_dirty(std::uint32_t queue) {
  QueueState& q = queues[queue];
  if (q.dirty) {
    return;
  }
  q.dirty = true;
  dirty_queues.insert(queue);
  dirty_walk_due = std::min(dirty_walk_due, q.next_walk_at);
  if (q.next_walk_at > now) {
    schedule(DeadlineKind::queue_walk, q.next_walk_at, queue, 0);
  }
}

void Router::State::walk_dirty_queues() {
  if (now < dirty_walk_due) {
    return;  // no dirty queue may be walked yet: no pass over them (this runs after every input)
  }
  TimestampMs due = std::numeric_limits<TimestampMs>::max();
  for (auto it = dirty_queues.begin(); it != dirty_queues.end();) {
    QueueState& q = queues[*it];
    if (q.dirty && q.next_walk_at <= now) {
      walk_queue(*it);
    }
    if (q.dirty) due = std::min(due, q.next_walk_at);
    it = q.dirty ? std::next(it) : dirty_queues.erase(it);
  }
  dirty_walk_due = due;
}

void Router::State::record_assignment(std::uint32_t queue_index) {
  QueueState& queue = queues[queue_index];
  if (queue.last_assignment_at >= 0) {
    const DurationMs interval = now - queue.last_assignment_at;
    // Exponentially weighted, alpha = 1/5: recent intervals count most, one outlier little.
    queue.mean_interval_ms = queue.mean_interval_ms < 0 ? interval : (queue.mean_interval_ms * 4 + interval) / 5;
  }
  queue.last_assignment_at = now;
  mark_dirty(queue_index);
}

void Router::State::send_queue_update(Escalation& esc, std::int32_t pos, std::int32_t wait, bool forced) {
  (void)forced;
  OutboundEvent& e = emit(OutboundType::escalation_queue_update, &esc);
  e.queue_position = pos;
  e.waiting_time = wait;
  esc.sent_position = pos;
  esc.sent_wait_minutes = wait;
  esc.sent_update_at = now;
  esc.announce_pending = false;
}

void Router::State::walk_queue(std::uint32_t index) {
  QueueState& q = queues[index];
  if (!q.dirty || q.next_walk_at > now) {
    return;
  }
  const DurationMs interval = rules.spec.settings.queue_update_interval_ms;
  TimestampMs next = -1;
  std::int32_t pos = 0;
  for (const auto& [key, esc_index] : q.waiting) {
    ++pos;
    Escalation& esc = *escalation(esc_index);
    const std::int32_t wait = wait_minutes(q, pos);
    if (esc.announce_pending || (pos == esc.sent_position && wait == esc.sent_wait_minutes)) {
      continue;  // announced separately once placed, or nothing changed
    }
    if (esc.sent_update_at < 0 || now - esc.sent_update_at >= interval) {
      send_queue_update(esc, pos, wait, false);
    } else {
      const TimestampMs due = esc.sent_update_at + interval;
      next = next < 0 ? due : std::min(next, due);
    }
  }
  // Walks of one queue are spaced a tenth of the interval apart: a queue that changes on every
  // event is walked a few times per interval, not once per event.
  const TimestampMs earliest = now + interval / 10;
  if (next >= 0) {
    q.next_walk_at = std::max(next, earliest);
    schedule(DeadlineKind::queue_walk, q.next_walk_at, index, 0);
  } else {
    q.dirty = false;
    q.next_walk_at = earliest;
  }
}

namespace {

// Into by_idle, and into by_load and ready when the rules use their strategies.
void ready_insert(ReadyAgents& r, const AgentIndexEntry& entry, AgentIndex index, std::vector<ReadyNodes>& spare,
                  const CompiledRules& rules) {
  if (spare.empty()) {
    if (rules.uses_least_loaded) r.by_load.insert({entry.load_ratio, entry.last_assigned_at, index});
    r.by_idle.insert({entry.last_assigned_at, index});
    if (rules.uses_round_robin) r.ready.insert(index);
    return;
  }
  // Each kept node takes the new value and goes back in; a set whose node was not found when the
  // agent left (never, while the entry's values match what was inserted) gets a fresh one.
  auto put = [](auto& set, auto& node, auto value) {
    if (node.empty()) {
      set.insert(value);
    } else {
      node.value() = value;
      set.insert(std::move(node));
    }
  };
  ReadyNodes& nodes = spare.back();
  if (rules.uses_least_loaded) {
    put(r.by_load, nodes.by_load, std::tuple<std::uint64_t, TimestampMs, AgentIndex>{entry.load_ratio, entry.last_assigned_at, index});
  }
  put(r.by_idle, nodes.by_idle, std::pair<TimestampMs, AgentIndex>{entry.last_assigned_at, index});
  if (rules.uses_round_robin) put(r.ready, nodes.ready, index);
  spare.pop_back();
}

// Out of every order it may be in (one the rules stopped using since it went in included).
void ready_erase(ReadyAgents& r, const AgentIndexEntry& entry, AgentIndex index, std::vector<ReadyNodes>& spare) {
  ReadyNodes nodes{r.by_load.empty() ? decltype(r.by_load)::node_type{} : r.by_load.extract({entry.load_ratio, entry.last_assigned_at, index}),
                   r.by_idle.extract({entry.last_assigned_at, index}),
                   r.ready.empty() ? decltype(r.ready)::node_type{} : r.ready.extract(index)};
  spare.push_back(std::move(nodes));
}

}  // namespace

// The agent class: the rules generation and the values of every agent field any agents rule reads.
void Router::State::agent_class_key(const Agent& agent, std::string& key) const {
  key.clear();
  append_raw(key, rules_generation);
  using F = Expression::Field;
  const Expression::Reads& reads = rules.agent_reads;
  if (reads.reads(F::agent_id)) append_text(key, agent.id);
  if (reads.reads(F::agent_name)) append_text(key, agent.name);
  for (F list : {F::agent_skills, F::agent_languages}) {
    if (reads.reads(list)) {
      const std::vector<Symbol>& symbols_read = list == F::agent_skills ? agent.skills : agent.languages;
      append_raw(key, static_cast<std::uint32_t>(symbols_read.size()));
      for (Symbol s : symbols_read) append_raw(key, s);
    }
  }
  if (reads.reads(F::agent_capacity)) append_raw(key, agent.capacity);
  if (reads.reads(F::agent_load)) append_raw(key, agent.load);
  if (reads.reads(F::agent_status)) append_raw(key, agent.status);
  for (const auto& [root, name] : reads.attributes) {
    append_attribute(key, agent.attributes, name);
  }
}

void Router::State::unindex_agent(AgentIndex index) {
  AgentIndexEntry& entry = agent_index[index];
  if (!entry.ready) {
    return;
  }
  const Agent& agent = agents[index];
  for (std::size_t w = 0; w < agent.workspaces.size(); ++w) {
    WorkspaceAgents& wa = agents_of_workspace(agent.workspaces[w]);
    --wa.ready_count;
    const std::uint32_t ci = entry.classes[w];
    AgentClass& c = wa.classes[ci];
    ready_erase(c.agents, entry, index, entry.spare);
    if (c.agents.empty()) {
      release_class(wa.classes, wa.free_classes, wa.class_by_key, ci);
    }
  }
  entry.ready = false;  // entry.classes stay, as hints for the next index_agent
}

void Router::State::index_agent(AgentIndex index) {
  const Agent& agent = agents[index];
  AgentIndexEntry& entry = agent_index[index];
  if (agent.removed || agent.status != AgentStatus::available || agent.load >= agent.capacity) {
    return;
  }
  entry.ready = true;
  entry.load_ratio = static_cast<std::uint64_t>(agent.load) * 1'000'000ULL / agent.capacity;
  entry.last_assigned_at = agent.last_assigned_at;
  if (!entry.key_valid || entry.key_generation != rules_generation || rules.agent_key_reads_load) {
    agent_class_key(agent, entry.class_key);
    entry.key_generation = rules_generation;
    entry.key_valid = true;
  }
  entry.classes.resize(agent.workspaces.size(), no_index);
  for (std::size_t w = 0; w < agent.workspaces.size(); ++w) {
    WorkspaceAgents& wa = agents_of_workspace(agent.workspaces[w]);
    ++wa.ready_count;
    std::uint32_t ci = entry.classes[w];
    if (ci >= wa.classes.size() || wa.classes[ci].key != entry.class_key) {
      ci = acquire_class(wa.classes, wa.free_classes, wa.class_by_key, entry.class_key);
      entry.classes[w] = ci;
    }
    ready_insert(wa.classes[ci].agents, entry, index, entry.spare, rules);
  }
}

void Router::State::reindex_agent(AgentIndex index) {
  AgentIndexEntry& entry = agent_index[index];
  if (!entry.stale) {
    entry.stale = true;
    stale_agents.push_back(index);
  }
}

void Router::State::reindex_agent_now(AgentIndex index) {
  unindex_agent(index);
  index_agent(index);
}

void Router::State::flush_stale_agents() {
  // In the order they went stale (deterministic). The order may change which class slot an agent
  // class gets, never a decision: the sets are ordered by their keys and a placement ranks agents
  // across classes by the strategy's total order.
  for (AgentIndex index : stale_agents) {
    agent_index[index].stale = false;
    reindex_agent_now(index);
  }
  stale_agents.clear();
}

AgentIndex Router::State::choose_agent(const Escalation& esc, const CompiledQueue& spec, const WorkspaceAgents& wa,
                                       Passed& passed, std::uint32_t& decided) const {
  const Strategy strategy = spec.spec.strategy;
  AgentIndex cursor = no_index;
  if (strategy == Strategy::round_robin) {
    const std::uint32_t qi = find_queue(esc.workspace, esc.queue);
    cursor = qi == no_index ? no_index : queues[qi].round_robin_cursor;
  }
  // An agent's place in the strategy's order, smaller first.
  using Rank = std::tuple<std::uint64_t, TimestampMs, AgentIndex>;
  auto rank = [&](AgentIndex a) -> Rank {
    const AgentIndexEntry& e = agent_index[a];
    switch (strategy) {
      case Strategy::least_loaded: return {e.load_ratio, e.last_assigned_at, a};
      case Strategy::longest_idle: return {0, e.last_assigned_at, a};
      default: return {cursor != no_index && a <= cursor ? 1 : 0, 0, a};  // next after the cursor, wrapping
    }
  };
  // The first agent of a class, in the strategy's order, that `accept` takes.
  auto first_of = [&](const ReadyAgents& r, auto&& accept) -> AgentIndex {
    switch (strategy) {
      case Strategy::least_loaded:
        for (const auto& [ratio, last, a] : r.by_load) {
          if (accept(a)) return a;
        }
        return no_index;
      case Strategy::longest_idle:
        for (const auto& [last, a] : r.by_idle) {
          if (accept(a)) return a;
        }
        return no_index;
      default: {
        const auto start = cursor == no_index ? r.ready.begin() : r.ready.upper_bound(cursor);
        for (auto it = start; it != r.ready.end(); ++it) {
          if (accept(*it)) return *it;
        }
        for (auto it = r.ready.begin(); it != start; ++it) {
          if (accept(*it)) return *it;
        }
        return no_index;
      }
    }
  };
  struct Loser {
    Rank rank;
    AgentIndex agent;
    bool excluded;
  };
  std::array<Loser, max_listed_candidates + 1> losers;
  std::size_t loser_count = 0;
  auto lost = [&](AgentIndex a, bool excluded) {
    // Keep the best-ranked few, in rank order.
    const Loser loser{rank(a), a, excluded};
    std::size_t at = loser_count;
    while (at > 0 && loser.rank < losers[at - 1].rank) --at;
    if (at >= max_listed_candidates) return;
    for (std::size_t i = std::min(loser_count, max_listed_candidates - 1); i > at; --i) losers[i] = losers[i - 1];
    losers[at] = loser;
    loser_count = std::min(loser_count + 1, max_listed_candidates);
  };
  const Expression& rule = agents_rule(spec, esc.step);
  // The escalation's class keeps the rule's answer per agent class (not when the rule reads time).
  const EligibilityClass* memo = nullptr;
  if (!spec.reads_time && esc.status == EscalationStatus::queued) {
    if (const std::uint32_t qi = find_queue(esc.workspace, esc.queue);
        qi != no_index && esc.eligibility_class < queues[qi].classes.size()) {
      memo = &queues[qi].classes[esc.eligibility_class];
      if (memo->verdicts.size() < wa.classes.size()) memo->verdicts.resize(wa.classes.size(), 0);
    }
  }
  AgentIndex best = no_index;
  Rank best_rank{};
  for (std::size_t ci = 0; ci < wa.classes.size(); ++ci) {
    const AgentClass& c = wa.classes[ci];
    if (c.agents.empty()) {
      continue;
    }
    const AgentIndex representative = c.agents.any();  // alike in all the rule reads
    bool passes;
    const std::uint64_t stamp = (c.generation + 1) << 1;
    if (memo != nullptr && (memo->verdicts[ci] & ~std::uint64_t{1}) == stamp) {
      passes = (memo->verdicts[ci] & 1) != 0;
    } else {
      passes = rule.evaluate(EvalContext{&esc, &agents[representative], now, &symbols});
      if (memo != nullptr) memo->verdicts[ci] = stamp | (passes ? 1 : 0);
    }
    if (!passes) {
      decided += static_cast<std::uint32_t>(c.agents.size());
      lost(first_of(c.agents, [](AgentIndex) { return true; }), false);
      continue;
    }
    const AgentIndex pick = first_of(c.agents, [&](AgentIndex a) {
      if (std::find(esc.excluded.begin(), esc.excluded.end(), a) == esc.excluded.end()) return true;
      ++decided;
      lost(a, true);
      return false;
    });
    if (pick != no_index && (best == no_index || rank(pick) < best_rank)) {
      best = pick;
      best_rank = rank(pick);
    }
  }
  for (std::size_t i = 0; i < loser_count; ++i) {
    if (best != no_index && best_rank < losers[i].rank) break;  // ranked after the winner: not examined
    using V = Decision::Candidate::Verdict;
    passed.add(losers[i].agent, losers[i].excluded ? V::excluded : esc.step >= 0 ? V::step_rule : V::rule, esc.step);
  }
  return best;
}

void Router::State::place(EscalationIndex index) {
  for (;;) {
    Escalation& esc = *escalation(index);
    if (esc.status != EscalationStatus::queued) {
      return;
    }
    const CompiledQueue* spec = queue_spec(esc.queue);
    if (spec == nullptr || spec->spec.strategy == Strategy::manual) {
      return;
    }
    flush_stale_agents();  // the ready sets are read below
    const WorkspaceAgents* wa = find_workspace_agents(esc.workspace);
    const std::string_view route_name = esc.route >= 0 ? std::string_view(rules.routes[static_cast<std::size_t>(esc.route)].spec.name) : "";
    // The agents passed over are kept as indices; the decision's strings are built only when it is
    // handed out with an event (an agent is chosen), not when it only goes to the trail (waiting).
    Passed passed;
    AgentIndex chosen = no_index;
    bool sticky = false;
    if (spec->spec.sticky) {
      if (const AgentIndex last = history_of(index).last_agent; last != no_index) {
        std::string why;
        if (eligible(esc, last, *spec, &why)) {
          chosen = last;
          sticky = true;
        } else {
          passed.add(last, Decision::Candidate::Verdict::text, -1);
          passed.text = "sticky candidate, but " + why;
        }
      }
    }
    std::size_t ready_count = 0;
    std::uint32_t decided = 0;
    if (chosen == no_index && wa != nullptr) {
      ready_count = wa->ready_count;
      chosen = choose_agent(esc, *spec, *wa, passed, decided);
      if (chosen != no_index) ++decided;
    }
    if (chosen == no_index) {
      if (esc.trail.back_action() != "waiting") {
        CandidateRoom<Passed::max_listed> candidates;
        for (std::size_t i = 0; i < passed.count; ++i) {
          const Passed::Entry& p = passed.entries[i];
          candidates.set(i, {agents[p.agent].id, p.kind, p.step,
                             p.kind == Decision::Candidate::Verdict::text ? std::string_view(passed.text) : ""});
        }
        add_decision(esc, DecisionParts{.at = now,
                                        .action = "waiting",
                                        .route = route_name,
                                        .queue = spec->spec.name,
                                        .step = esc.step,
                                        .why = ready_count == 0 ? Decision::Why::nobody_free : Decision::Why::none_eligible,
                                        .load = static_cast<std::uint32_t>(ready_count),
                                        .candidates = candidates.data(),
                                        .candidate_count = passed.count});
      }
      return;
    }
    Decision d;
    d.at = now;
    d.route = route_name;
    d.queue = spec->spec.name;
    d.step = esc.step;
    for (std::size_t i = 0; i < passed.count; ++i) {
      const Passed::Entry& p = passed.entries[i];
      note_candidate(d, agents[p.agent], p.kind, p.step, p.kind == Decision::Candidate::Verdict::text ? passed.text : "");
    }
    const Agent& a = agents[chosen];
    if (sticky) {
      d.words = "sticky: " + a.id + " served this contact last";
    } else {
      switch (spec->spec.strategy) {
        case Strategy::least_loaded:
          d.why = Decision::Why::least_loaded;
          d.load = a.load;
          d.capacity = a.capacity;
          d.last_assigned_at = a.last_assigned_at;
          break;
        case Strategy::longest_idle:
          d.why = Decision::Why::longest_idle;
          d.last_assigned_at = a.last_assigned_at;
          break;
        default: d.why = Decision::Why::round_robin; break;  // spelled with d.queue
      }
    }
    d.not_examined = ready_count > decided ? static_cast<std::uint32_t>(ready_count - decided) : 0;
    // FIFO: the chosen agent first serves the oldest highest-priority work it is eligible for.
    const EscalationIndex first = best_backlog_for(chosen);
    if (first == index || first == no_index) {
      hand(index, chosen, std::move(d));
      return;
    }
    Decision backlog;
    backlog.at = now;
    backlog.words = "served before " + esc.id + ": it waited longer or has a higher priority";
    hand(first, chosen, std::move(backlog));
  }
}

bool Router::State::could_serve(const CompiledQueue& spec, const Agent& agent) const {
  if (spec.agents.evaluate_for_agent(agent, now, symbols) != Truth::no) {
    return true;
  }
  for (const CompiledStep& step : spec.steps) {
    if (step.agents.evaluate_for_agent(agent, now, symbols) != Truth::no) {
      return true;
    }
  }
  return false;
}

bool Router::State::could_serve(std::size_t spec_index, AgentIndex agent) const {
  const CompiledQueue& spec = rules.queues[spec_index];
  if (rules.agent_key_reads_load) return could_serve(spec, agents[agent]);  // changes with every assignment
  const AgentIndexEntry& entry = agent_index[agent];
  if (entry.serves_generation != rules_generation || entry.serves.size() != rules.queues.size()) {
    entry.serves.assign(rules.queues.size(), 0);
    entry.serves_generation = rules_generation;
  }
  std::uint8_t& known = entry.serves[spec_index];
  if (known == 0) known = could_serve(spec, agents[agent]) ? 2 : 1;
  return known == 2;
}

EscalationIndex Router::State::best_backlog_for(AgentIndex agent_index_value) const {
  const Agent& agent = agents[agent_index_value];
  if (agent.removed || agent.status != AgentStatus::available || agent.load >= agent.capacity) {
    return no_index;
  }
  EscalationIndex best = no_index;
  QueueKey best_key;
  for (Symbol ws : agent.workspaces) {
    for (std::size_t spec_index = 0; spec_index < rules.queues.size(); ++spec_index) {
      const CompiledQueue& spec = rules.queues[spec_index];
      if (spec.spec.strategy == Strategy::manual) {
        continue;
      }
      const std::uint32_t qi = find_queue(ws, spec.name);
      if (qi == no_index || queues[qi].waiting.empty()) {
        continue;
      }
      if (!could_serve(spec_index, agent_index_value)) {
        continue;  // its rules are false for this agent whatever the escalation
      }
      const QueueState& q = queues[qi];
      // Classes in the order of their first escalation: the first eligible class's first one that
      // has not excluded this agent is this queue's best.
      for (const auto& [head_key, ci] : q.class_heads) {
        if (best != no_index && !(head_key < best_key)) {
          break;  // nothing further in this queue can come first
        }
        const EligibilityClass& c = q.classes[ci];
        const Escalation& representative = *escalations[c.waiting.begin()->second];
        if (!agents_rule(spec, c.step).evaluate(EvalContext{&representative, &agent, now, &symbols})) {
          continue;
        }
        for (const auto& [key, esc_index] : c.waiting) {
          if (best != no_index && !(key < best_key)) {
            break;
          }
          const std::vector<AgentIndex>& excluded = escalations[esc_index]->excluded;
          if (std::find(excluded.begin(), excluded.end(), agent_index_value) == excluded.end()) {
            best = esc_index;
            best_key = key;
            break;
          }
        }
      }
    }
  }
  return best;
}

EscalationIndex Router::State::best_backlog_by_scan(AgentIndex agent_index_value) const {
  const Agent& agent = agents[agent_index_value];
  EscalationIndex best = no_index;
  QueueKey best_key;
  for (Symbol ws : agent.workspaces) {
    for (const CompiledQueue& spec : rules.queues) {
      if (spec.spec.strategy == Strategy::manual) {
        continue;
      }
      const std::uint32_t qi = find_queue(ws, spec.name);
      if (qi == no_index) {
        continue;
      }
      for (const auto& [key, esc_index] : queues[qi].waiting) {
        if (best != no_index && !(key < best_key)) {
          break;
        }
        if (eligible(*escalations[esc_index], agent_index_value, spec, nullptr)) {
          best = esc_index;
          best_key = key;
          break;
        }
      }
    }
  }
  return best;
}

void Router::State::pull(AgentIndex index) {
  for (;;) {
    const Agent& agent = agents[index];
    if (agent.removed || agent.status != AgentStatus::available || agent.load >= agent.capacity) {
      return;
    }
    const EscalationIndex next = best_backlog_for(index);
    if (next == no_index) {
      return;
    }
    Decision d;
    d.at = now;
    d.why = Decision::Why::pulled;  // spelled with d.agent, set by hand()
    hand(next, index, std::move(d));
  }
}

void Router::State::hand(EscalationIndex index, AgentIndex agent, Decision&& d) {
  Escalation& esc = *escalation(index);
  dequeue(index);
  const CompiledQueue* spec = queue_spec(esc.queue);
  QueueState& q = queues[queue_of(esc.workspace, esc.queue)];
  if (spec != nullptr && spec->spec.strategy == Strategy::round_robin) {
    q.round_robin_cursor = agent;
  }
  d.agent = agents[agent].id;
  if (d.queue.empty()) {
    d.queue.assign(symbols.text(esc.queue));
    d.step = esc.step;
    d.route.assign(esc.route >= 0 ? std::string_view(rules.routes[static_cast<std::size_t>(esc.route)].spec.name) : std::string_view());
  }
  esc.announce_pending = false;
  esc.assignee = agent;
  take_agent(index, agent);
  if (spec != nullptr && spec->spec.offer_timeout_ms > 0) {
    esc.status = EscalationStatus::offered;
    esc.offered_at = now;
    ++esc.version;
    ++q.offered;
    schedule(DeadlineKind::offer_timeout, now + spec->spec.offer_timeout_ms, index, esc.version);
    reindex_agent(agent);
    d.action = "offered";
    add_decision(esc, d);
    emit(OutboundType::escalation_offered, &esc).decision = std::move(d);
    return;
  }
  assigned(index, agent);
  d.action = "assigned";
  add_decision(esc, d);
  emit(OutboundType::escalation_success, &esc).decision = std::move(d);
}

void Router::State::assigned(EscalationIndex index, AgentIndex agent_index_value) {
  Escalation& esc = *escalation(index);
  Agent& agent = agents[agent_index_value];
  if (esc.status == EscalationStatus::offered) {
    const std::uint32_t qi = find_queue(esc.workspace, esc.queue);
    if (qi != no_index && queues[qi].offered > 0) {
      --queues[qi].offered;
    }
  }
  esc.status = EscalationStatus::assigned;
  esc.assigned_at = now;
  esc.agent_replied = false;
  ++esc.version;
  agent.last_assigned_at = now;
  agent.missed_offers = 0;
  reindex_agent(agent_index_value);
  history_of(index).last_agent = agent_index_value;
  record_assignment(queue_of(esc.workspace, esc.queue));
  if (const CompiledQueue* spec = queue_spec(esc.queue); spec != nullptr && spec->spec.reply_timeout_ms > 0) {
    schedule(DeadlineKind::reply_timeout, now + spec->spec.reply_timeout_ms, index, esc.version);
  }
}

void Router::State::take_agent(EscalationIndex index, AgentIndex agent) {
  Agent& a = agents[agent];
  ++a.load;
  a.held.push_back(index);
}

void Router::State::release_agent(EscalationIndex index) {
  Escalation& esc = *escalation(index);
  const AgentIndex holder = esc.assignee;
  if (holder == no_index) {
    esc.taken_over_by = no_index;
    return;
  }
  if (esc.status == EscalationStatus::offered) {
    const std::uint32_t qi = find_queue(esc.workspace, esc.queue);
    if (qi != no_index && queues[qi].offered > 0) {
      --queues[qi].offered;
    }
  }
  Agent& a = agents[holder];
  --a.load;
  a.excess_load = a.load > a.capacity ? a.load - a.capacity : 0;
  a.held.erase(std::find(a.held.begin(), a.held.end(), index));
  esc.assignee = no_index;
  esc.taken_over_by = no_index;
  reindex_agent(holder);
  work.push_back({Work::Kind::pull, holder});
}

void Router::State::requeue(EscalationIndex index, bool front_of_line, const char* why) {
  Escalation& esc = *escalation(index);
  release_agent(index);
  esc.front_of_line = esc.front_of_line || front_of_line;
  ++esc.version;
  enqueue(index, true, why);
}

void Router::State::run_work() {
  while (work_head < work.size()) {
    const Work item = work[work_head++];
    if (work_head == work.size()) {
      work.clear();
      work_head = 0;
    }
    if (item.kind == Work::Kind::place) {
      Escalation* esc = escalation(item.index);
      if (esc == nullptr) {
        continue;
      }
      place(item.index);
      if (esc->status == EscalationStatus::queued && esc->announce_pending) {
        // Always right after it is queued: its position and estimate.
        const std::int32_t pos = position(*esc);
        send_queue_update(*esc, pos, wait_minutes(queues[queue_of(esc->workspace, esc->queue)], pos), true);
      }
    } else {
      pull(item.index);
    }
  }
}

}  // namespace router::core
