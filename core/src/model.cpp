#include "router/core/model.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "router/core/time.hpp"

namespace router::core {

#if defined(__GLIBCXX__) && defined(__x86_64__)
// See the layout note on Escalation: one more field must find room in its padding or replace one.
static_assert(sizeof(Escalation) <= 896, "an escalation no longer fits an 896-byte allocation");
#endif

std::string Decision::reason() const {
  const auto idle = [this] {
    return last_assigned_at > 0 ? "last assigned " + format_rfc3339_ms(last_assigned_at) : std::string("never assigned");
  };
  switch (why) {
    case Why::least_loaded:
      return "least loaded: load " + std::to_string(load) + "/" + std::to_string(capacity) + ", " + idle();
    case Why::longest_idle: return "longest idle: " + idle();
    case Why::round_robin: return "round robin: next in turn in queue " + queue;
    case Why::pulled: return agent + " can take work: the oldest highest-priority escalation it is eligible for";
    case Why::nobody_free: return "no agent of the workspace is available with free capacity";
    case Why::none_eligible: return "none of the " + std::to_string(load) + " available agents is eligible";
    case Why::words: break;
  }
  return words;
}

std::string Decision::Candidate::verdict() const {
  switch (kind) {
    case Verdict::rule: return "does not match the queue's agents rule";
    case Verdict::step_rule: return "does not match step " + std::to_string(step) + "'s agents rule";
    case Verdict::excluded: return "rejected or missed this escalation before";
    case Verdict::text: break;
  }
  return text;
}

namespace {

// An entry is its fields in a fixed order, the frequent zeros left out: a trail entry starts with
// a byte saying which of its optional numbers follow, then its time and reason code; numbers are
// LEB128 varints (a small count is one byte), times 8 bytes; each string is its length as a varint,
// then its bytes. So an entry's bytes are a function of its fields alone, and a routing decision
// of short names takes 60-80 bytes, not 100-140 (the trail of a queued-then-assigned escalation
// fits 256 bytes).
enum TrailFlags : std::uint8_t {
  has_step = 1,  // step != -1: step + 1 follows
  has_load = 2,
  has_capacity = 4,
  has_not_examined = 8,
  has_candidates = 16,
  has_last_assigned = 32,
};

constexpr std::size_t varint_size(std::uint64_t value) {
  std::size_t size = 1;
  for (; value >= 0x80; value >>= 7) ++size;
  return size;
}
constexpr std::size_t text_size(std::string_view text) { return varint_size(text.size()) + text.size(); }
// Steps are -1 (the base rule) or an index: kept as step + 1, so the base rule is a zero.
constexpr std::uint64_t step_code(std::int32_t step) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(step) + 1); }

class EntryWriter {
 public:
  explicit EntryWriter(char* out) : out_(out) {}
  template <typename T>
  void put(const T& value) {
    std::memcpy(out_, &value, sizeof value);
    out_ += sizeof value;
  }
  void varint(std::uint64_t value) {
    for (; value >= 0x80; value >>= 7) *out_++ = static_cast<char>(value | 0x80);
    *out_++ = static_cast<char>(value);
  }
  void text(std::string_view value) {
    varint(value.size());
    if (value.size() <= 16) {
      copy_short(out_, value.data(), value.size());  // most: a name, an agent's id, an action's word
    } else {
      std::memcpy(out_, value.data(), value.size());
    }
    out_ += value.size();
  }

 private:
  // n <= 16 bytes as two pieces that may overlap: a few moves instead of a call to memcpy. (Text's
  // copy_short, up to 32 bytes, was tried here instead: not inlined it cost 1.3% more instructions
  // per routing cycle, forced inline 4% more.)
  static void copy_short(char* to, const char* from, std::size_t n) noexcept {
    if (n >= 8) {
      std::uint64_t first, last;
      std::memcpy(&first, from, 8);
      std::memcpy(&last, from + n - 8, 8);
      std::memcpy(to, &first, 8);
      std::memcpy(to + n - 8, &last, 8);
    } else if (n >= 4) {
      std::uint32_t first, last;
      std::memcpy(&first, from, 4);
      std::memcpy(&last, from + n - 4, 4);
      std::memcpy(to, &first, 4);
      std::memcpy(to + n - 4, &last, 4);
    } else {
      for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
    }
  }

  char* out_;
};

class EntryReader {
 public:
  explicit EntryReader(const char* in) : in_(in) {}
  template <typename T>
  T get() {
    T value;
    std::memcpy(&value, in_, sizeof value);
    in_ += sizeof value;
    return value;
  }
  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (unsigned shift = 0;; shift += 7) {
      const auto byte = static_cast<unsigned char>(*in_++);
      value |= std::uint64_t{byte & 0x7Fu} << shift;
      if (byte < 0x80) return value;
    }
  }
  std::uint32_t u32() { return static_cast<std::uint32_t>(varint()); }
  std::int32_t step() { return static_cast<std::int32_t>(static_cast<std::int64_t>(varint()) - 1); }
  template <typename String>  // std::string or Text
  void text(String& value) {
    value.assign(skip_text());
  }
  std::string_view skip_text() {
    const auto size = static_cast<std::size_t>(varint());
    std::string_view value(in_, size);
    in_ += size;
    return value;
  }

 private:
  const char* in_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// EntryBlock

template <std::size_t Inline>
BasicEntryBlock<Inline>::BasicEntryBlock(const BasicEntryBlock& other)
    : size_(other.size_), count_(other.count_), back_(other.back_) {
  if (size_ > Inline) {
    storage_.heap = new char[size_];
    capacity_ = size_;
  }
  if (size_ != 0) std::memcpy(data(), other.data(), size_);
}

template <std::size_t Inline>
void BasicEntryBlock<Inline>::take(BasicEntryBlock& other) noexcept {
  size_ = std::exchange(other.size_, 0);
  count_ = std::exchange(other.count_, 0);
  back_ = std::exchange(other.back_, 0);
  if (other.on_heap()) {
    storage_.heap = other.storage_.heap;
    capacity_ = std::exchange(other.capacity_, Inline);
  } else {
    capacity_ = Inline;
    if (size_ != 0) std::memcpy(storage_.bytes, other.storage_.bytes, size_);
  }
}

template <std::size_t Inline>
BasicEntryBlock<Inline>::BasicEntryBlock(BasicEntryBlock&& other) noexcept {
  take(other);
}

template <std::size_t Inline>
BasicEntryBlock<Inline>& BasicEntryBlock<Inline>::operator=(const BasicEntryBlock& other) {
  if (this != &other) *this = BasicEntryBlock(other);
  return *this;
}

template <std::size_t Inline>
BasicEntryBlock<Inline>& BasicEntryBlock<Inline>::operator=(BasicEntryBlock&& other) noexcept {
  if (this != &other) {
    release();
    take(other);
  }
  return *this;
}

template <std::size_t Inline>
char* BasicEntryBlock<Inline>::append(std::size_t size, std::size_t first_room) {
  const std::size_t entry = sizeof(std::uint32_t) + size;
  const std::size_t needed = size_ + entry;
  if (needed > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("escalation history too long");
  if (needed > capacity_) {
    const std::size_t capacity = std::max({needed, capacity_ == 0 ? first_room : 0, 2 * std::size_t{capacity_}});
    char* bytes = new char[capacity];
    if (size_ != 0) std::memcpy(bytes, data(), size_);
    release();
    storage_.heap = bytes;
    capacity_ = static_cast<std::uint32_t>(std::min<std::size_t>(capacity, std::numeric_limits<std::uint32_t>::max()));
  }
  char* at = data() + size_;
  const auto length = static_cast<std::uint32_t>(entry);
  std::memcpy(at, &length, sizeof length);
  back_ = size_;
  size_ = static_cast<std::uint32_t>(needed);
  ++count_;
  return at + sizeof length;
}

template <std::size_t Inline>
std::size_t BasicEntryBlock<Inline>::next(std::size_t offset) const noexcept {
  std::uint32_t length = 0;
  std::memcpy(&length, data() + offset, sizeof length);
  return offset + length;
}

template <std::size_t Inline>
std::size_t BasicEntryBlock<Inline>::offset_of(std::size_t position) const noexcept {
  if (position + 1 == count_) return back_;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < position; ++i) offset = next(offset);
  return offset;
}

template <std::size_t Inline>
void BasicEntryBlock<Inline>::erase(std::size_t position) {
  if (position >= count_) return;
  if (position + 1 == count_) {
    pop_back();
    return;
  }
  const std::size_t at = offset_of(position);
  const std::size_t end = next(at);
  std::memmove(data() + at, data() + end, size_ - end);
  size_ -= static_cast<std::uint32_t>(end - at);
  back_ -= static_cast<std::uint32_t>(end - at);
  --count_;
}

template <std::size_t Inline>
void BasicEntryBlock<Inline>::erase_front(std::size_t count) {
  if (count >= count_) {
    clear();
    return;
  }
  const std::size_t end = offset_of(count);
  std::memmove(data(), data() + end, size_ - end);
  size_ -= static_cast<std::uint32_t>(end);
  back_ -= static_cast<std::uint32_t>(end);
  count_ -= static_cast<std::uint32_t>(count);
}

template <std::size_t Inline>
void BasicEntryBlock<Inline>::pop_back() noexcept {
  if (count_ == 0) return;
  size_ = back_;
  --count_;
  // The new last entry, found by walking: pop_back is rare (a rewritten last decision).
  std::size_t last = 0;
  for (std::size_t i = 0; i + 1 < count_; ++i) last = next(last);
  back_ = static_cast<std::uint32_t>(last);
}

template <std::size_t Inline>
void BasicEntryBlock<Inline>::clear() noexcept {
  size_ = 0;
  count_ = 0;
  back_ = 0;
}

template class BasicEntryBlock<0>;
template class BasicEntryBlock<Trail::inline_bytes>;
template class BasicEntryBlock<MessageLog::inline_bytes>;

// ---------------------------------------------------------------------------------------------
// Trail

void Trail::push_back(const Decision& d) {
  // As views: a placement lists at most five candidates; a restored trail may list more.
  CandidateRoom<8> listed;
  std::vector<DecisionParts::Candidate> more;
  const DecisionParts::Candidate* candidates = listed.data();
  if (d.candidates.size() > listed.size()) {
    more.resize(d.candidates.size());
    for (std::size_t i = 0; i < d.candidates.size(); ++i) {
      const Decision::Candidate& c = d.candidates[i];
      more[i] = {c.agent, c.kind, c.step, c.text};
    }
    candidates = more.data();
  } else {
    for (std::size_t i = 0; i < d.candidates.size(); ++i) {
      const Decision::Candidate& c = d.candidates[i];
      listed.set(i, {c.agent, c.kind, c.step, c.text});
    }
  }
  push_back(DecisionParts{d.at, d.action, d.route, d.queue, d.step, d.agent, d.why, d.words, d.load, d.capacity,
                          d.last_assigned_at, d.not_examined, candidates, d.candidates.size()});
}

void Trail::push_back(const DecisionParts& d) {
  std::uint8_t flags = 0;
  std::size_t size = 1 + sizeof(TimestampMs) + 1 + text_size(d.action) + text_size(d.route) + text_size(d.queue) +
                     text_size(d.agent) + text_size(d.words);
  if (d.step != -1) flags |= has_step, size += varint_size(step_code(d.step));
  if (d.load != 0) flags |= has_load, size += varint_size(d.load);
  if (d.capacity != 0) flags |= has_capacity, size += varint_size(d.capacity);
  if (d.not_examined != 0) flags |= has_not_examined, size += varint_size(d.not_examined);
  if (d.candidate_count != 0) flags |= has_candidates, size += varint_size(d.candidate_count);
  if (d.last_assigned_at != 0) flags |= has_last_assigned, size += sizeof(TimestampMs);
  for (std::size_t i = 0; i < d.candidate_count; ++i) {
    size += 1 + varint_size(step_code(d.candidates[i].step)) + text_size(d.candidates[i].agent) +
            text_size(d.candidates[i].text);
  }
  // The first decision (the route) is soon followed by one or two more (waiting, assigned): room for three.
  EntryWriter w(block_.append(size, 3 * size + 32));
  w.put(flags);
  w.put(d.at);
  w.put(d.why);
  if (flags & has_step) w.varint(step_code(d.step));
  if (flags & has_load) w.varint(d.load);
  if (flags & has_capacity) w.varint(d.capacity);
  if (flags & has_not_examined) w.varint(d.not_examined);
  if (flags & has_candidates) w.varint(d.candidate_count);
  if (flags & has_last_assigned) w.put(d.last_assigned_at);
  w.text(d.action);
  w.text(d.route);
  w.text(d.queue);
  w.text(d.agent);
  w.text(d.words);
  for (std::size_t i = 0; i < d.candidate_count; ++i) {
    w.put(d.candidates[i].kind);
    w.varint(step_code(d.candidates[i].step));
    w.text(d.candidates[i].agent);
    w.text(d.candidates[i].text);
  }
}

namespace {

// Reads a trail entry's head (everything before its strings) into `d`; returns its candidate count.
std::size_t read_trail_head(EntryReader& r, Decision& d) {
  const auto flags = r.get<std::uint8_t>();
  d.at = r.get<TimestampMs>();
  d.why = r.get<Decision::Why>();
  d.step = (flags & has_step) ? r.step() : -1;
  d.load = (flags & has_load) ? r.u32() : 0;
  d.capacity = (flags & has_capacity) ? r.u32() : 0;
  d.not_examined = (flags & has_not_examined) ? r.u32() : 0;
  const std::size_t candidates = (flags & has_candidates) ? static_cast<std::size_t>(r.varint()) : 0;
  d.last_assigned_at = (flags & has_last_assigned) ? r.get<TimestampMs>() : 0;
  return candidates;
}

}  // namespace

Decision Trail::decode_at(std::size_t offset) const {
  EntryReader r(block_.entry(offset));
  Decision d;
  const std::size_t candidates = read_trail_head(r, d);
  r.text(d.action);
  r.text(d.route);
  r.text(d.queue);
  r.text(d.agent);
  r.text(d.words);
  d.candidates.resize(candidates);
  for (auto& c : d.candidates) {
    c.kind = r.get<Decision::Candidate::Verdict>();
    c.step = r.step();
    r.text(c.agent);
    r.text(c.text);
  }
  return d;
}

std::string_view Trail::back_action() const noexcept {
  if (block_.empty()) return {};
  EntryReader r(block_.entry(block_.back_offset()));
  Decision head;
  read_trail_head(r, head);
  return r.skip_text();
}

void Trail::set_back_agent(std::string_view agent) {
  if (block_.empty()) return;
  Decision d = back();
  d.agent.assign(agent);
  block_.pop_back();
  push_back(d);  // where it was
}

// ---------------------------------------------------------------------------------------------
// MessageLog

void MessageLog::push_back(MessageRole role, std::string_view agent_id, std::string_view text, TimestampMs at) {
  EntryWriter w(block_.append(sizeof(TimestampMs) + 1 + text_size(agent_id) + text_size(text)));
  w.put(at);
  w.put(role);
  w.text(agent_id);
  w.text(text);
}

Message MessageLog::decode_at(std::size_t offset) const {
  EntryReader r(block_.entry(offset));
  Message m;
  m.at = r.get<TimestampMs>();
  m.role = r.get<MessageRole>();
  r.text(m.agent_id);
  r.text(m.text);
  return m;
}

const char* escalation_status_name(EscalationStatus status) noexcept {
  switch (status) {
    case EscalationStatus::queued: return "queued";
    case EscalationStatus::offered: return "offered";
    case EscalationStatus::assigned: return "assigned";
    case EscalationStatus::taken_over: return "taken_over";
    case EscalationStatus::released: return "released";
    case EscalationStatus::resolved: return "resolved";
    case EscalationStatus::failed: return "failed";
    case EscalationStatus::cancelled: return "cancelled";
  }
  return "queued";
}

namespace {

// Made before main, so the lookup (every outbound event of an escalation) tests no guard. Nothing
// reads it during static initialisation.
const std::array<Text, 8> status_texts = [] {
  std::array<Text, 8> out;
  for (std::size_t i = 0; i < out.size(); ++i) out[i].assign(escalation_status_name(static_cast<EscalationStatus>(i)));
  return out;
}();

}  // namespace

const Text& escalation_status_text(EscalationStatus status) noexcept {
  const auto i = static_cast<std::size_t>(status);
  return i < status_texts.size() ? status_texts[i] : status_texts[0];
}

std::optional<EscalationStatus> parse_escalation_status(std::string_view text) noexcept {
  for (auto s : {EscalationStatus::queued, EscalationStatus::offered, EscalationStatus::assigned,
                 EscalationStatus::taken_over, EscalationStatus::released, EscalationStatus::resolved,
                 EscalationStatus::failed, EscalationStatus::cancelled}) {
    if (text == escalation_status_name(s)) {
      return s;
    }
  }
  return std::nullopt;
}

const char* message_role_name(MessageRole role) noexcept {
  switch (role) {
    case MessageRole::customer: return "customer";
    case MessageRole::agent: return "agent";
    case MessageRole::system: return "system";
  }
  return "system";
}

bool Agent::member_of(Symbol workspace) const {
  return std::binary_search(workspaces.begin(), workspaces.end(), workspace);
}

}  // namespace router::core
