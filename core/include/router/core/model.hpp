// The domain's state: agents and escalations as the core keeps them (SPEC §4.1, §4.2).
// Names that repeat across many objects are interned Symbols; indexes are plain integers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/core/id.hpp"
#include "router/core/rules.hpp"
#include "router/core/symbol_list.hpp"
#include "router/core/symbols.hpp"
#include "router/core/text.hpp"
#include "router/core/time.hpp"

namespace router::core {

using AgentIndex = std::uint32_t;
using EscalationIndex = std::uint32_t;
inline constexpr std::uint32_t no_index = 0xFFFFFFFFu;

enum class EscalationStatus : std::uint8_t { queued, offered, assigned, taken_over, released, resolved, failed, cancelled };
const char* escalation_status_name(EscalationStatus status) noexcept;
const Text& escalation_status_text(EscalationStatus status) noexcept;  // the same, as a Text (for events)
std::optional<EscalationStatus> parse_escalation_status(std::string_view text) noexcept;
inline bool is_open(EscalationStatus s) noexcept { return s <= EscalationStatus::taken_over; }
// Holding an agent's capacity: offered (reserved), assigned, taken over.
inline bool holds_agent(EscalationStatus s) noexcept {
  return s == EscalationStatus::offered || s == EscalationStatus::assigned || s == EscalationStatus::taken_over;
}

struct Agent {
  std::string id;
  std::string name;
  std::string avatar;
  std::vector<Symbol> workspaces;  // sorted
  std::vector<Symbol> skills;
  std::vector<Symbol> languages;
  std::uint32_t capacity = 1;
  AgentStatus status = AgentStatus::offline;
  Attributes attributes;
  std::vector<std::pair<std::string, std::string>> external_ids;
  bool from_config = false;  // defined in the config file (a reload may remove it)
  bool removed = false;      // no longer defined: takes no new work

  // Runtime
  std::uint32_t load = 0;  // escalations it holds: offered, assigned, taken over
  // Held beyond a capacity that was lowered while it held them: kept, never added to.
  std::uint32_t excess_load = 0;
  TimestampMs last_assigned_at = 0;
  std::uint32_t missed_offers = 0;   // consecutive
  std::uint64_t disconnect_generation = 0;  // bumps on every disconnect, to match grace timers
  TimestampMs disconnected_at = -1;  // -1: connected (or never disconnected)
  std::vector<EscalationIndex> held;  // what it holds, in the order it got them

  bool member_of(Symbol workspace) const;
};

struct Contact {
  std::string id;
  std::string name;
  Attributes attributes;
};

enum class MessageRole : std::uint8_t { customer, agent, system };
const char* message_role_name(MessageRole role) noexcept;

struct Message {
  MessageRole role = MessageRole::customer;
  std::string agent_id;
  std::string text;
  TimestampMs at = 0;
};

// One routing decision, kept on the escalation: what operators read to learn why.
struct Decision {
  TimestampMs at = 0;
  Text action;  // "routed", "offered", "assigned", "queued", "requeued", "step", ...
  Text route;   // the route that matched
  Text queue;
  std::int32_t step = -1;  // index of the active [[queues.steps]] entry, -1 for the base rule
  Text agent;              // the chosen agent, if any
  // Why. The frequent reasons are kept as a code and their numbers, spelled by reason() when read (no
  // string built per decision); the others as words.
  enum class Why : std::uint8_t { words, least_loaded, longest_idle, round_robin, pulled, nobody_free, none_eligible };
  Why why = Why::words;
  Text words;                           // Why::words: the reason
  std::uint32_t load = 0;               // least_loaded: the chosen agent's load; none_eligible: agents available
  std::uint32_t capacity = 0;           // least_loaded: the chosen agent's capacity
  TimestampMs last_assigned_at = 0;     // least_loaded, longest_idle: the chosen agent's (0: never)
  std::string reason() const;           // why, in words
  struct Candidate {
    // Why it lost, kept as a code (spelled when read: no string built per decision) or as words.
    enum class Verdict : std::uint8_t { text, rule, step_rule, excluded };
    Text agent;
    Verdict kind = Verdict::text;
    std::int32_t step = -1;  // step_rule: the step whose rule it does not match
    Text text;               // Verdict::text: the words
    std::string verdict() const;  // why it lost, in words
  };
  std::vector<Candidate> candidates;  // the ones examined, at most a few
  std::uint32_t not_examined = 0;     // eligible-ranked agents after the winner, not examined
};

// A decision as views of its fields: what a Trail records without a Decision and its strings built
// first (the decisions that go to the trail only: routed, waiting, requeued).
struct DecisionParts {
  struct Candidate {
    std::string_view agent;
    Decision::Candidate::Verdict kind = Decision::Candidate::Verdict::text;
    std::int32_t step = -1;
    std::string_view text;
  };
  TimestampMs at = 0;
  std::string_view action;
  std::string_view route;
  std::string_view queue;
  std::int32_t step = -1;
  std::string_view agent;
  Decision::Why why = Decision::Why::words;
  std::string_view words;
  std::uint32_t load = 0;
  std::uint32_t capacity = 0;
  TimestampMs last_assigned_at = 0;
  std::uint32_t not_examined = 0;
  const Candidate* candidates = nullptr;
  std::size_t candidate_count = 0;
};

// Room on the stack for a decision's candidates, each written as it is listed. Not cleared first:
// a decision lists a few, and clearing the whole room (done before each use by an array of
// candidates, whose members have initializers) cost more than writing them.
template <std::size_t N>
class CandidateRoom {
 public:
  CandidateRoom() noexcept {}  // NOLINT(modernize-use-equals-default): leaves the room unset
  void set(std::size_t i, const DecisionParts::Candidate& candidate) noexcept { std::construct_at(&items_[i], candidate); }
  const DecisionParts::Candidate* data() const noexcept { return items_; }
  static constexpr std::size_t size() noexcept { return N; }

 private:
  union {
    DecisionParts::Candidate items_[N];
  };
};

// Entries of variable size kept in one block of bytes, each behind its u32 length: what an
// escalation keeps its trail and messages in. The first `Inline` bytes live inside the block (so
// inside the escalation: a typical trail needs no allocation of its own and is in the lines an
// escalation's prefetch brings); past them, one heap allocation however many entries. Freeing it
// reads nothing: an escalation leaving the retention window was closed long ago, so every block its
// destructor has to read is a cache miss (a vector of objects holding strings reads them all).
template <std::size_t Inline>
class BasicEntryBlock {
 public:
  BasicEntryBlock() noexcept = default;
  BasicEntryBlock(const BasicEntryBlock& other);
  BasicEntryBlock(BasicEntryBlock&& other) noexcept;
  BasicEntryBlock& operator=(const BasicEntryBlock& other);
  BasicEntryBlock& operator=(BasicEntryBlock&& other) noexcept;
  ~BasicEntryBlock() { release(); }

  bool empty() const noexcept { return count_ == 0; }
  std::size_t size() const noexcept { return count_; }
  // Room for one more entry of `size` bytes, at the end: where to write them. Past the inline
  // bytes, the first allocation is max(what is needed, first_room) bytes; later ones double it.
  char* append(std::size_t size, std::size_t first_room = 0);
  void erase(std::size_t position);      // the entry at that position (nothing past the end)
  void erase_front(std::size_t count);   // the oldest `count` entries
  void pop_back() noexcept;
  void clear() noexcept;
  // Entries by byte offset, oldest first: begin_offset() up to end_offset(), next() steps.
  static constexpr std::size_t begin_offset() noexcept { return 0; }
  std::size_t end_offset() const noexcept { return size_; }
  std::size_t next(std::size_t offset) const noexcept;
  std::size_t offset_of(std::size_t position) const noexcept;
  std::size_t back_offset() const noexcept { return back_; }
  const char* entry(std::size_t offset) const noexcept { return data() + offset + sizeof(std::uint32_t); }
  bool on_heap() const noexcept { return capacity_ > Inline; }

 private:
  char* data() noexcept { return on_heap() ? storage_.heap : storage_.bytes; }
  const char* data() const noexcept { return on_heap() ? storage_.heap : storage_.bytes; }
  void release() noexcept {
    if (on_heap()) delete[] storage_.heap;
  }
  void take(BasicEntryBlock& other) noexcept;  // other's entries, leaving it empty (this holds nothing)

  std::uint32_t size_ = 0;  // bytes used
  std::uint32_t capacity_ = Inline;
  std::uint32_t count_ = 0;
  std::uint32_t back_ = 0;  // byte offset of the last entry
  union Storage {
    char* heap;
    char bytes[Inline > sizeof(char*) ? Inline : sizeof(char*)];
  } storage_;
};
using EntryBlock = BasicEntryBlock<0>;
extern template class BasicEntryBlock<0>;

// Decodes entries of an EntryBlock as T while iterating (a range-for binds each to a temporary).
template <typename T, typename Owner>
class EntryIterator {
 public:
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  EntryIterator(const Owner* owner, std::size_t offset) : owner_(owner), offset_(offset) {}
  T operator*() const { return owner_->decode_at(offset_); }
  EntryIterator& operator++() {
    offset_ = owner_->block().next(offset_);
    return *this;
  }
  bool operator==(const EntryIterator& other) const noexcept { return offset_ == other.offset_; }

 private:
  const Owner* owner_;
  std::size_t offset_;
};

// An escalation's routing trail, oldest decision first, encoded in an EntryBlock: adding a decision
// appends its fields (its strings and candidates included); reading one decodes it. Decisions are
// written at every routing step and read only by the API, snapshots and tests.
class Trail {
 public:
  // Inline room: a queued-then-assigned escalation's three decisions take 150-250 bytes.
  static constexpr std::size_t inline_bytes = 256;
  using Block = BasicEntryBlock<inline_bytes>;
  using iterator = EntryIterator<Decision, Trail>;
  bool empty() const noexcept { return block_.empty(); }
  std::size_t size() const noexcept { return block_.size(); }
  void push_back(const Decision& decision);
  void push_back(const DecisionParts& decision);  // the same entry as push_back(Decision) of the same fields
  void erase(std::size_t position) { block_.erase(position); }
  void clear() noexcept { block_.clear(); }
  Decision operator[](std::size_t position) const { return decode_at(block_.offset_of(position)); }
  Decision front() const { return (*this)[0]; }
  Decision back() const { return decode_at(block_.back_offset()); }
  std::string_view back_action() const noexcept;  // "" when empty
  void set_back_agent(std::string_view agent);
  iterator begin() const { return {this, Block::begin_offset()}; }
  iterator end() const { return {this, block_.end_offset()}; }
  Decision decode_at(std::size_t offset) const;
  const Block& block() const noexcept { return block_; }

 private:
  Block block_;
};

// An escalation's message history, oldest first, encoded in an EntryBlock (role, time, agent, text).
class MessageLog {
 public:
  // Inline room: the customer's message that came with the escalation, when it is short.
  static constexpr std::size_t inline_bytes = 168;
  using Block = BasicEntryBlock<inline_bytes>;
  using iterator = EntryIterator<Message, MessageLog>;
  bool empty() const noexcept { return block_.empty(); }
  std::size_t size() const noexcept { return block_.size(); }
  void push_back(const Message& message) { push_back(message.role, message.agent_id, message.text, message.at); }
  void push_back(MessageRole role, std::string_view agent_id, std::string_view text, TimestampMs at);
  void erase_front(std::size_t count) { block_.erase_front(count); }
  void clear() noexcept { block_.clear(); }
  Message operator[](std::size_t position) const { return decode_at(block_.offset_of(position)); }
  Message front() const { return (*this)[0]; }
  Message back() const { return decode_at(block_.back_offset()); }
  iterator begin() const { return {this, Block::begin_offset()}; }
  iterator end() const { return {this, block_.end_offset()}; }
  Message decode_at(std::size_t offset) const;
  const Block& block() const noexcept { return block_; }

 private:
  Block block_;
};
extern template class BasicEntryBlock<Trail::inline_bytes>;
extern template class BasicEntryBlock<MessageLog::inline_bytes>;

// Laid out by when fields are read: line 0 holds what a lookup by id, a close and every outbound
// event read (id, state, holder, version), line 1 the rest of an event's fields (conversation and
// external ids, inline up to 23 characters) and routing, line 2 queue order and times; names,
// texts and lists follow, then the message log and the trail with their inline room. Dropping an
// escalation reads the lines its destructor walks, which end at the trail's header: the trail's
// inline room (the last Trail::inline_bytes) is never read then. 896 bytes: one 896-byte
// allocation (jemalloc and glibc size classes), the trail and first message included.
struct Escalation {
  // Line 0: what a lookup by id, a close and every outbound event read.
  Id id;  // a ULID
  Symbol workspace = no_symbol;
  EscalationStatus status = EscalationStatus::queued;
  bool ai_enabled = true;
  bool front_of_line = false;     // requeued after its agent vanished while taken over
  bool agent_replied = false;     // since assignment (reply_timeout)
  bool announce_pending = false;  // just (re)queued: tell the customer its position once placed
  Symbol queue = no_symbol;  // no_symbol while no route matches
  AgentIndex assignee = no_index;  // while offered: the agent it is offered to
  AgentIndex taken_over_by = no_index;
  Symbol source = no_symbol;
  std::uint64_t version = 1;
  // Line 1: the rest of an event's fields (short ids inline: Text keeps 23 characters), and routing.
  Text conversation_id;
  Text external_id;
  std::int32_t route = -1;   // index of the matching route
  std::int32_t priority = 0;
  Symbol language = no_symbol;
  std::int32_t step = -1;                       // active step of its queue
  // Line 2: queue order and times.
  std::uint32_t eligibility_class = no_index;  // while queued: its class in its queue (runtime index)
  // Queue updates sent to the customer: the last position/wait and when.
  std::int32_t sent_position = -1;
  std::uint64_t queue_seq = 0;  // tie-breaker in queue order, unique per (re)queueing
  TimestampMs queued_at = 0;  // kept across requeues: order in the queue
  TimestampMs waiting_since = 0;  // last (re)queued: fail_after counts from here
  TimestampMs offered_at = 0;
  TimestampMs assigned_at = -1;
  TimestampMs created_at = 0;
  TimestampMs closed_at = -1;
  TimestampMs sent_update_at = -1;
  std::int32_t sent_wait_minutes = -1;
  // From an external queue (inbound escalationQueueUpdate).
  std::int32_t external_position = -1;
  std::int32_t external_wait_minutes = -1;
  std::vector<AgentIndex> excluded;  // rejected or missed this escalation
  SymbolList skills;  // inside the escalation up to four
  std::string reason;
  Contact contact;
  Attributes attributes;
  std::string resolution;
  // Last, with their inline room: dropping an escalation reads their few header bytes, not the room.
  MessageLog messages;  // bounded (settings max_messages)
  Trail trail;  // its routing decisions, oldest first, bounded (RouterOptions::max_trail)
};

}  // namespace router::core
