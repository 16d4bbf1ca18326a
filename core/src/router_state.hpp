// Internal: the Router's state and the operations on it, shared by the core's source files.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/core/events.hpp"
#include "router/core/expr.hpp"
#include "router/core/router.hpp"
#include "router/core/flat_index.hpp"
#include "escalation_slots.hpp"
#include "id_order.hpp"
#include "ordered_run.hpp"
#include "ulid.hpp"

namespace router::core {

// Order within a queue: front-of-line first, then priority descending, then time queued, then arrival.
// The first two as one number (the lane): three comparisons, not four, in the searches of a line.
struct QueueKey {
  std::uint64_t lane = 0;
  TimestampMs queued_at = 0;
  std::uint64_t seq = 0;
  static std::uint64_t lane_of(bool front_of_line, std::int32_t priority) {
    const auto descending = static_cast<std::uint32_t>(std::int64_t{std::numeric_limits<std::int32_t>::max()} - priority);
    return std::uint64_t{front_of_line ? 0u : 1u} << 32 | descending;
  }
  bool operator<(const QueueKey& o) const {
    if (lane != o.lane) return lane < o.lane;
    if (queued_at != o.queued_at) return queued_at < o.queued_at;
    return seq < o.seq;
  }
};

// The waiting escalations of a queue in queue order, with ranks (positions); of a class, without.
using QueueLine = OrderedRun<QueueKey, EscalationIndex, true>;
using ClassLine = OrderedRun<QueueKey, EscalationIndex, false>;

struct CompiledStep {
  DurationMs after_ms = 0;
  Expression agents;
};

struct CompiledQueue {
  QueueSpec spec;
  Symbol name = no_symbol;
  Expression agents;
  std::vector<CompiledStep> steps;
  // What its agents rules (base and steps) read of an escalation: the eligibility class key.
  Expression::Reads reads;
  bool reads_time = false;  // reads waitSeconds: every escalation is its own class
};

struct CompiledRoute {
  RouteSpec spec;
  Expression when;
  Symbol queue = no_symbol;
  std::string because;  // why an escalation it matches is routed by it, spelled once
};

struct CompiledRules {
  RuleSet spec;
  std::vector<CompiledRoute> routes;
  std::vector<CompiledQueue> queues;
  std::map<Symbol, std::uint32_t> queue_by_name;
  std::vector<std::uint32_t> queue_by_symbol;  // the same, indexed by the name's symbol (no_index: none)
  Expression::Reads agent_reads;  // what any queue's agents rule reads of an agent: the agent class key
  // The rules read an agent's load: its class key changes with every assignment, so it is not kept
  // between indexings (status is always "available" while indexed; capacity changes by an update).
  bool agent_key_reads_load = false;
  bool uses_least_loaded = false;  // a queue's strategy: ReadyAgents::by_load is kept
  bool uses_round_robin = false;   // a queue's strategy: ReadyAgents::ready is kept
};

// Waiting escalations of one queue that agree on everything the queue's agents rules read of an
// escalation (and on their step): an agent is eligible for all of them or none (the per-escalation
// exclusions aside), so a backlog pull evaluates the rule once per class, not once per escalation.
struct EligibilityClass {
  std::string key;
  std::int32_t step = -1;
  ClassLine waiting;
  // Whether the agents of each agent class of its workspace pass its rule, as found (a placement
  // evaluates the rule once per agent class, and the answer cannot change while neither class
  // does): by agent class slot, ((the slot's generation + 1) << 1) | passes; 0: not known. Cleared
  // when the class is released; never kept for a queue whose rules read waitSeconds.
  mutable std::vector<std::uint64_t> verdicts;
};

// The head (its first escalation's key) of each eligibility class of a queue that has one, in key
// order. A queue has a handful of classes and the head of one changes at every pull: a sorted array
// (no node allocated or freed per change, one or two cache lines) rather than a tree.
class ClassHeads {
 public:
  using Entry = std::pair<QueueKey, std::uint32_t>;  // head key, class slot
  void insert(const Entry& entry) { entries_.insert(std::upper_bound(entries_.begin(), entries_.end(), entry), entry); }
  void erase(const Entry& entry) {
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), entry);
    if (it != entries_.end() && !(entry < *it)) entries_.erase(it);
  }
  std::size_t size() const { return entries_.size(); }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }

 private:
  std::vector<Entry> entries_;
};

// One queue of one workspace (workspaces never share queues: SPEC §11 partitions by workspace).
struct QueueState {
  Symbol workspace = no_symbol;
  Symbol name = no_symbol;  // the empty name: escalations that no route matched
  QueueLine waiting;
  // The same escalations by eligibility class, and the classes in the order of their first one.
  std::vector<EligibilityClass> classes;
  std::vector<std::uint32_t> free_classes;
  FlatIndex class_by_key;  // hash of the key -> slot in classes
  ClassHeads class_heads;
  std::uint32_t offered = 0;
  DurationMs mean_interval_ms = -1;  // exponentially weighted mean interval between assignments
  TimestampMs last_assignment_at = -1;
  AgentIndex round_robin_cursor = no_index;
  bool dirty = false;               // positions may have changed since the last walk
  TimestampMs next_walk_at = 0;     // no walk before this (per-conversation rate limit)
};

// Agents that can take work now (available, under capacity), in strategy orders. by_idle always
// lists them all (their count, a representative); the other two are kept only while a queue of the
// rules uses their strategy (CompiledRules::uses_least_loaded, uses_round_robin), else empty.
struct ReadyAgents {
  std::set<std::tuple<std::uint64_t, TimestampMs, AgentIndex>> by_load;  // load ratio, last assigned, index
  std::set<std::pair<TimestampMs, AgentIndex>> by_idle;                  // last assigned, index
  std::set<AgentIndex> ready;                                            // index order, for round robin
  bool empty() const { return by_idle.empty(); }
  std::size_t size() const { return by_idle.size(); }
  AgentIndex any() const { return by_idle.begin()->second; }  // not empty(): one of them
};

// Ready agents of a workspace that agree on everything the agents rules read of an agent: any
// escalation is eligible for all of them or none (its exclusions aside), so placing one evaluates
// the rule once per class, not once per agent.
struct AgentClass {
  std::string key;
  ReadyAgents agents;
  std::uint64_t generation = 0;  // bumps when the slot is released: verdicts about it are void
};

struct WorkspaceAgents {
  std::vector<AgentIndex> members;
  std::size_t ready_count = 0;  // agents of the workspace that can take work now
  std::vector<AgentClass> classes;
  std::vector<std::uint32_t> free_classes;
  FlatIndex class_by_key;  // hash of the key -> slot in classes
};

// The nodes of one ReadyAgents entry, kept while the agent is out of the sets: indexing it again
// (it is freed, then busy again, on almost every assignment) allocates nothing.
struct ReadyNodes {
  decltype(ReadyAgents::by_load)::node_type by_load;
  decltype(ReadyAgents::by_idle)::node_type by_idle;
  decltype(ReadyAgents::ready)::node_type ready;
};

// What an agent is indexed under in WorkspaceAgents, to remove it again.
struct AgentIndexEntry {
  bool ready = false;
  bool stale = false;  // its agent changed since it was last indexed: in Router::State::stale_agents
  std::uint64_t load_ratio = 0;
  TimestampMs last_assigned_at = 0;
  // Its class in each of its workspaces, in Agent::workspaces order. Kept while it is not ready, as
  // a hint: the slot is its class again if the slot's key is still its key.
  std::vector<std::uint32_t> classes;
  std::string class_key;             // under rules generation key_generation; valid while key_valid
  std::uint32_t key_generation = 0;
  bool key_valid = false;            // cleared when the agent's definition changes
  std::vector<ReadyNodes> spare;     // nodes of the sets it left, reused when it is ready again
  // Whether each queue's rules could be true for this agent whatever the escalation (could_serve),
  // by queue spec index: 0 not known, 1 no, 2 yes. For rules generation serves_generation; cleared
  // when the agent's definition changes; not kept when the rules read agent.load.
  mutable std::vector<std::uint8_t> serves;
  mutable std::uint32_t serves_generation = 0;
};

enum class DeadlineKind : std::uint8_t { offer_timeout, queue_step, fail_after, reply_timeout, disconnect_grace, queue_walk };

struct Deadline {
  TimestampMs at = 0;
  std::uint64_t seq = 0;
  DeadlineKind kind = DeadlineKind::offer_timeout;
  std::uint32_t target = 0;  // escalation, agent or queue index
  std::uint64_t stamp = 0;   // what must still hold for it to fire (version, generation, queue seq)
  bool operator<(const Deadline& o) const { return at != o.at ? at < o.at : seq < o.seq; }
};

// What the router remembers of a contact (sticky routing, previous escalations). It lives as long
// as one of the contact's escalations is kept (open, or among the last max_closed closed ones), so
// the contacts map is bounded by the escalations kept. Its escalations are the ones kept, chained
// through their slots (SlotLinks::contact_prev/next) in creation order: a new one is linked at the
// newest end, a dropped one unlinked wherever it is; no list of ids to grow, trim or copy.
//
// The numbers come first: they are what a drop reads and writes, and in the first 16 bytes they share
// a cache line with the start of the entry (48 bytes: entries start at 0, 16, 32 or 48 in a line), the
// line Router::State::prefetch_drop_links asks for. After the key, half of them sat on the next line.
struct ContactHistory {
  AgentIndex last_agent = no_index;
  std::uint32_t newest = no_index;  // slot of its newest escalation kept
  std::uint32_t kept = 0;           // escalations kept that belong to it (runtime; rebuilt on restore)
  std::string key;  // workspace \x1f contact id (Router::State::contact_key); empty: a free slot
};
static_assert(offsetof(ContactHistory, kept) + sizeof(std::uint32_t) <= 16);

// A slot for a new entry of `slots`: a freed one if there is one (the caller resets it), else a
// new default-constructed one at the end.
template <typename Slots>
std::uint32_t take_slot(Slots& slots, std::vector<std::uint32_t>& free) {
  if (free.empty()) {
    slots.emplace_back();
    return static_cast<std::uint32_t>(slots.size() - 1);
  }
  const std::uint32_t slot = free.back();
  free.pop_back();
  return slot;
}

// The agents a placement examined and passed over, best first, at most max_listed: kept as indices
// and spelled (their ids) only into the decision that records them.
struct Passed {
  static constexpr std::size_t max_listed = 5;
  struct Entry {
    AgentIndex agent = no_index;
    Decision::Candidate::Verdict kind = Decision::Candidate::Verdict::text;
    std::int32_t step = -1;
  };
  std::array<Entry, max_listed> entries;
  std::size_t count = 0;
  std::string text;  // the words of the one Verdict::text entry (a sticky agent that is not eligible)
  void add(AgentIndex agent, Decision::Candidate::Verdict kind, std::int32_t step) {
    if (count < max_listed) entries[count++] = {agent, kind, step};
  }
};

// A FIFO of 32-bit slots in one power-of-two ring, read by position (the closed escalations,
// oldest first: each close drops the oldest and looks a few ahead).
class SlotFifo {
 public:
  std::size_t size() const { return size_; }
  std::uint32_t front() const { return ring_[head_]; }
  std::uint32_t operator[](std::size_t position) const { return ring_[(head_ + position) & (ring_.size() - 1)]; }
  void push_back(std::uint32_t slot) {
    if (size_ == ring_.size()) grow();
    ring_[(head_ + size_) & (ring_.size() - 1)] = slot;
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) & (ring_.size() - 1);
    --size_;
  }

 private:
  void grow() {
    std::vector<std::uint32_t> bigger(ring_.empty() ? 16 : ring_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
    ring_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<std::uint32_t> ring_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

// Deferred work inside one apply(): placing escalations and letting agents pull from the backlog.
struct Work {
  enum class Kind : std::uint8_t { place, pull } kind;
  std::uint32_t index;
};

struct Router::State {
  RouterOptions options;
  CompiledRules rules;
  SymbolTable symbols;
  UlidGenerator ulids;
  TimestampMs now = 0;
  std::uint64_t sequence = 0;
  std::uint64_t next_queue_seq = 1;
  std::uint64_t next_deadline_seq = 1;
  std::uint32_t rules_generation = 0;  // bumps on every install: class keys of old rules never match
  std::string class_key_scratch;
  Symbol unrouted_queue = no_symbol;  // the symbol of "", the queue of escalations no route matched

  std::vector<Agent> agents;
  std::map<std::string, AgentIndex, std::less<>> agent_by_id;
  std::vector<AgentIndexEntry> agent_index;
  std::vector<WorkspaceAgents> workspace_agents;  // by workspace symbol (symbols are small and dense)
  WorkspaceAgents& agents_of_workspace(Symbol ws) {
    if (ws >= workspace_agents.size()) workspace_agents.resize(ws + 1);
    return workspace_agents[ws];
  }
  const WorkspaceAgents* find_workspace_agents(Symbol ws) const {
    return ws < workspace_agents.size() ? &workspace_agents[ws] : nullptr;
  }

  EscalationSlots escalations;  // by slot; null when empty (dropped from the window, or never used)
  std::vector<EscalationIndex> free_slots;
  // Kept escalations by id: an id names its slot (UlidGenerator::next_tagged), so a lookup decodes
  // the slot and compares that escalation's id, reading no index. Ids that do not name their slot
  // (restored from a snapshot made before ids did) are indexed here, and only they.
  FlatIndex foreign_ids;
  // Kept escalations in id order (listings, snapshots): creation appends, a drop leaves a hole.
  IdOrder by_creation;
  FlatIndex open_by_conversation;  // open escalations by (workspace, conversation id)
  SlotFifo closed_order;  // closed escalations kept, oldest first
  std::vector<ContactHistory> contacts;  // slots; free ones have an empty key
  std::vector<std::uint32_t> free_contacts;
  FlatIndex contact_by_key;
  // Per escalation slot, beside the escalations (16 bytes a slot): its contact's slot (no_index: none),
  // so the hot path does not look the contact up again, its place in the id order (by_creation) and
  // its contact chain. A drop and the id order's renumbering (of a compacted segment) touch this dense
  // array, not each escalation.
  struct SlotLinks {
    std::uint32_t contact = no_index;
    std::uint32_t id_order = no_index;
    std::uint32_t contact_prev = no_index;  // the contact's escalation kept before this one (slot)
    std::uint32_t contact_next = no_index;  // the one kept after it
  };
  std::vector<SlotLinks> links;
  ContactHistory& history_of(EscalationIndex index) { return contacts[links[index].contact]; }
  std::uint32_t find_contact(std::string_view key) const;  // its slot, or no_index
  std::uint32_t find_contact(std::string_view key, std::uint64_t hash) const;
  std::uint32_t contact_slot(std::string key);  // found or added
  std::uint32_t contact_slot(std::string key, std::uint64_t hash);
  void drop_contact(std::uint32_t slot);
  void link_to_contact(EscalationIndex index, std::uint32_t contact);  // the contact's newest
  void unlink_from_contact(EscalationIndex index);                      // leaves its contact's chain
  std::size_t contact_count() const { return contacts.size() - free_contacts.size(); }
  std::size_t open_count = 0;

  std::vector<QueueState> queues;
  // Queue slots by (workspace, name): looked up several times per input, so an open-addressing
  // index (a probe and a compare) rather than a tree of pairs.
  FlatIndex queue_by_key;
  static std::uint64_t queue_hash(Symbol workspace, Symbol name) {
    return (std::uint64_t{workspace} << 32 | name) * 0x9E3779B97F4A7C15ULL;
  }
  std::uint32_t find_queue(Symbol workspace, Symbol name) const {  // its slot, or no_index
    return queue_by_key.find(queue_hash(workspace, name),
                             [&](std::uint32_t q) { return queues[q].workspace == workspace && queues[q].name == name; });
  }

  std::set<Deadline> deadlines;

  std::unordered_map<std::string, TimestampMs> dedupe;
  std::deque<std::pair<TimestampMs, std::string>> dedupe_order;

  // Per-apply scratch
  Outcome* out = nullptr;
  bool quiet = false;           // apply_quietly: events are counted, not built
  OutboundEvent quiet_event;    // where emit() writes when quiet
  std::vector<Work> work;  // a FIFO: run_work consumes from work_head; the storage is reused
  std::size_t work_head = 0;

  // --- router.cpp: inputs
  void apply(const Input& input, Outcome& outcome);  // `outcome` is cleared first
  void on_inbound(const InboundEvent& event);
  void on_escalation_requested(const InboundEvent& event);
  void on_message(const InboundEvent& event);
  void on_agent_status(AgentIndex agent, AgentStatus status, bool disconnect_event);
  void command(const AssignCommand& c);
  void command(const UnassignCommand& c);
  void command(const AcceptCommand& c);
  void command(const RejectCommand& c);
  void command(const TakeoverCommand& c);
  void command(const SendCommand& c);
  void command(const ReleaseCommand& c);
  void command(const ResolveCommand& c);
  void command(const UpsertAgentCommand& c);
  void command(const SetAgentStatusCommand& c);
  void command(const ReloadRulesCommand& c);
  void command(const TickCommand& c);
  void command(const InboundEvent& e) { on_inbound(e); }

  // --- helpers
  Escalation* escalation(EscalationIndex index) { return escalations[index]; }
  Escalation* open_escalation_for(std::string_view workspace, std::string_view conversation, EscalationIndex& index);
  Escalation* escalation_for_command(const std::string& id, EscalationIndex& index);
  AgentIndex agent_for_command(const std::string& id, const char* field);
  Escalation* offer_for_command(const std::string& escalation_id, const std::string& agent_id, EscalationIndex& index,
                                AgentIndex& agent);
  AgentIndex resolve_agent(const std::string& id, const std::string& name, Symbol workspace) const;
  void fail(Error error);
  void close(EscalationIndex index, EscalationStatus status, OutboundType type, const std::string& why);
  void release_agent(EscalationIndex index);  // the holder (if any) gives it up; capacity freed
  void take_agent(EscalationIndex index, AgentIndex agent);  // counts it against the agent; the caller reindexes
  void add_message(Escalation& esc, MessageRole role, const std::string& agent_id, const std::string& text);
  void add_decision(Escalation& esc, const Decision& decision);
  void add_decision(Escalation& esc, const DecisionParts& decision);  // trail only: no strings built
  void trim_trail(Escalation& esc);
  // The kept escalation with this id, or no_index.
  EscalationIndex index_of_id(std::string_view id) const;
  void index_id(EscalationIndex index);  // a new escalation: the newest id, naming its slot
  void unindex_id(EscalationIndex index);  // before it is dropped
  void prefetch_drop(EscalationIndex index) const;        // cache hints for the escalation a close drops:
  void prefetch_drop_links(EscalationIndex index) const;  // its object and links, then what the links name
  // The open escalation of a conversation, or no_index.
  EscalationIndex open_index_of(Symbol workspace, std::string_view conversation) const;
  void index_open(EscalationIndex index);
  void unindex_open(EscalationIndex index);
  std::string contact_key(const Escalation& esc) const;
  static std::string contact_key(Symbol workspace, std::string_view contact_id, std::string_view conversation_id);
  void upsert_agent(const AgentSpec& spec, bool from_config);

  // --- events.cpp: outbound events
  OutboundEvent& emit(OutboundType type, const Escalation* esc);
  void emit_agent_status(const Agent& agent);

  // --- placement.cpp: queues and routing
  void route(EscalationIndex index);  // first matching route; sets queue; enqueues
  void enqueue(EscalationIndex index, bool requeue, const char* why);
  void dequeue(EscalationIndex index);
  void waiting_insert(std::uint32_t queue, EscalationIndex index);
  void waiting_erase(std::uint32_t queue, EscalationIndex index);
  void prefetch_escalation(EscalationIndex index) const;
  void eligibility_key(const CompiledQueue* spec, const Escalation& esc, std::string& key) const;
  void agent_class_key(const Agent& agent, std::string& key) const;
  std::uint32_t queue_of(Symbol workspace, Symbol name);
  const CompiledQueue* queue_spec(Symbol name) const;
  const Expression& agents_rule(const CompiledQueue& spec, std::int32_t step) const;
  bool eligible(const Escalation& esc, AgentIndex agent, const CompiledQueue& spec, std::string* why) const;
  void place(EscalationIndex index);
  // The agent the queue's strategy picks among the workspace's ready agents eligible for `esc`;
  // losers worth naming go into `d`; `decided` counts the agents ruled on.
  AgentIndex choose_agent(const Escalation& esc, const CompiledQueue& spec, const WorkspaceAgents& wa, Passed& passed,
                          std::uint32_t& decided) const;
  void pull(AgentIndex agent);
  EscalationIndex best_backlog_for(AgentIndex agent) const;
  EscalationIndex best_backlog_by_scan(AgentIndex agent) const;  // the same, escalation by escalation (invariants)
  bool could_serve(const CompiledQueue& spec, const Agent& agent) const;
  bool could_serve(std::size_t spec_index, AgentIndex agent) const;  // the same, kept per agent
  std::string check_invariants() const;
  void hand(EscalationIndex index, AgentIndex agent, Decision&& decision);
  void assigned(EscalationIndex index, AgentIndex agent);
  // An agent's load, status or last assignment changed: its place in the ready sets is brought up to
  // date before they are next read (flush_stale_agents), not at once. Freeing an agent and giving it
  // the next waiting escalation (every resolve) would take it out of and put it back into three
  // ordered sets per workspace for nothing; done lazily, the two changes leave it where it was.
  void reindex_agent(AgentIndex agent);
  void flush_stale_agents();  // before the ready sets are read, and before apply() returns
  std::vector<AgentIndex> stale_agents;
  void reindex_agent_now(AgentIndex agent);
  void unindex_agent(AgentIndex agent);
  void index_agent(AgentIndex agent);
  void requeue(EscalationIndex index, bool front_of_line, const char* why);
  void record_assignment(std::uint32_t queue);
  void mark_dirty(std::uint32_t queue);
  std::int32_t position(const Escalation& esc) const;
  std::int32_t wait_minutes(const QueueState& queue, std::int32_t position) const;
  void send_queue_update(Escalation& esc, std::int32_t position, std::int32_t wait, bool forced);
  void walk_queue(std::uint32_t queue);
  void walk_dirty_queues();
  std::set<std::uint32_t> dirty_queues;
  // No dirty queue may be walked before this: a lower bound of their next_walk_at (the lowest time
  // until the first pass after a restore).
  TimestampMs dirty_walk_due = std::numeric_limits<TimestampMs>::min();
  void run_work();

  // --- timers.cpp
  void schedule(DeadlineKind kind, TimestampMs at, std::uint32_t target, std::uint64_t stamp);
  void schedule_waiting_deadlines(EscalationIndex index);
  void fire_due(TimestampMs until);
  void fire(const Deadline& deadline);

  // --- install rules
  std::vector<RuleError> install(const RuleSet& rules);
};

std::vector<RuleError> compile_rules(const RuleSet& rules, SymbolTable& symbols, CompiledRules& out);

}  // namespace router::core
