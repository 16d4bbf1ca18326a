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
static_assert(sizeof(Escalation) <= 512, "an escalation no longer fits a 512-byte allocation");
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

// A trail entry's fixed fields, copied whole; its strings follow, each a u32 length then the bytes,
// then its candidates. The padding is spelled out (and zero), so an entry's bytes are a function of
// its fields alone.
struct TrailHead {
  TimestampMs at;
  TimestampMs last_assigned_at;
  std::int32_t step;
  std::uint32_t load;
  std::uint32_t capacity;
  std::uint32_t not_examined;
  std::uint32_t candidates;
  Decision::Why why;
  std::uint8_t padding[3] = {};
};
static_assert(sizeof(TrailHead) == 40);

struct CandidateHead {
  std::int32_t step;
  Decision::Candidate::Verdict kind;
  std::uint8_t padding[3] = {};
};
static_assert(sizeof(CandidateHead) == 8);

struct MessageHead {
  TimestampMs at;
  MessageRole role;
  std::uint8_t padding[7] = {};
};
static_assert(sizeof(MessageHead) == 16);

constexpr std::size_t text_size(std::string_view text) { return sizeof(std::uint32_t) + text.size(); }

class EntryWriter {
 public:
  explicit EntryWriter(char* out) : out_(out) {}
  template <typename T>
  void put(const T& value) {
    std::memcpy(out_, &value, sizeof value);
    out_ += sizeof value;
  }
  void text(std::string_view value) {
    put(static_cast<std::uint32_t>(value.size()));
    if (!value.empty()) std::memcpy(out_, value.data(), value.size());
    out_ += value.size();
  }

 private:
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
  template <typename String>  // std::string or Text
  void text(String& value) {
    const auto size = get<std::uint32_t>();
    value.assign(std::string_view(in_, size));
    in_ += size;
  }
  std::string_view skip_text() {
    const auto size = get<std::uint32_t>();
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

EntryBlock::EntryBlock(const EntryBlock& other)
    : bytes_(other.size_ == 0 ? nullptr : std::make_unique_for_overwrite<char[]>(other.size_)),
      size_(other.size_),
      capacity_(other.size_),
      count_(other.count_),
      back_(other.back_) {
  if (size_ != 0) std::memcpy(bytes_.get(), other.bytes_.get(), size_);
}

EntryBlock::EntryBlock(EntryBlock&& other) noexcept
    : bytes_(std::move(other.bytes_)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)),
      count_(std::exchange(other.count_, 0)),
      back_(std::exchange(other.back_, 0)) {}

EntryBlock& EntryBlock::operator=(const EntryBlock& other) {
  if (this != &other) *this = EntryBlock(other);
  return *this;
}

EntryBlock& EntryBlock::operator=(EntryBlock&& other) noexcept {
  bytes_ = std::move(other.bytes_);
  size_ = std::exchange(other.size_, 0);
  capacity_ = std::exchange(other.capacity_, 0);
  count_ = std::exchange(other.count_, 0);
  back_ = std::exchange(other.back_, 0);
  return *this;
}

char* EntryBlock::append(std::size_t size, std::size_t first_room) {
  const std::size_t entry = sizeof(std::uint32_t) + size;
  const std::size_t needed = size_ + entry;
  if (needed > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("escalation history too long");
  if (needed > capacity_) {
    const std::size_t capacity = std::max(needed, capacity_ == 0 ? first_room : 2 * std::size_t{capacity_});
    auto bytes = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ != 0) std::memcpy(bytes.get(), bytes_.get(), size_);
    bytes_ = std::move(bytes);
    capacity_ = static_cast<std::uint32_t>(std::min<std::size_t>(capacity, std::numeric_limits<std::uint32_t>::max()));
  }
  char* at = bytes_.get() + size_;
  const auto length = static_cast<std::uint32_t>(entry);
  std::memcpy(at, &length, sizeof length);
  back_ = size_;
  size_ = static_cast<std::uint32_t>(needed);
  ++count_;
  return at + sizeof length;
}

std::size_t EntryBlock::next(std::size_t offset) const noexcept {
  std::uint32_t length = 0;
  std::memcpy(&length, bytes_.get() + offset, sizeof length);
  return offset + length;
}

std::size_t EntryBlock::offset_of(std::size_t position) const noexcept {
  if (position + 1 == count_) return back_;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < position; ++i) offset = next(offset);
  return offset;
}

void EntryBlock::erase(std::size_t position) {
  if (position >= count_) return;
  if (position + 1 == count_) {
    pop_back();
    return;
  }
  const std::size_t at = offset_of(position);
  const std::size_t end = next(at);
  std::memmove(bytes_.get() + at, bytes_.get() + end, size_ - end);
  size_ -= static_cast<std::uint32_t>(end - at);
  back_ -= static_cast<std::uint32_t>(end - at);
  --count_;
}

void EntryBlock::erase_front(std::size_t count) {
  if (count >= count_) {
    clear();
    return;
  }
  const std::size_t end = offset_of(count);
  std::memmove(bytes_.get(), bytes_.get() + end, size_ - end);
  size_ -= static_cast<std::uint32_t>(end);
  back_ -= static_cast<std::uint32_t>(end);
  count_ -= static_cast<std::uint32_t>(count);
}

void EntryBlock::pop_back() noexcept {
  if (count_ == 0) return;
  size_ = back_;
  --count_;
  // The new last entry, found by walking: pop_back is rare (a rewritten last decision).
  std::size_t last = 0;
  for (std::size_t i = 0; i + 1 < count_; ++i) last = next(last);
  back_ = static_cast<std::uint32_t>(last);
}

void EntryBlock::clear() noexcept {
  size_ = 0;
  count_ = 0;
  back_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Trail

void Trail::push_back(const Decision& d) {
  // As views: a placement lists at most five candidates; a restored trail may list more.
  std::array<DecisionParts::Candidate, 8> listed;
  std::vector<DecisionParts::Candidate> more;
  DecisionParts::Candidate* candidates = listed.data();
  if (d.candidates.size() > listed.size()) {
    more.resize(d.candidates.size());
    candidates = more.data();
  }
  for (std::size_t i = 0; i < d.candidates.size(); ++i) {
    const Decision::Candidate& c = d.candidates[i];
    candidates[i] = {c.agent, c.kind, c.step, c.text};
  }
  push_back(DecisionParts{d.at, d.action, d.route, d.queue, d.step, d.agent, d.why, d.words, d.load, d.capacity,
                          d.last_assigned_at, d.not_examined, candidates, d.candidates.size()});
}

void Trail::push_back(const DecisionParts& d) {
  std::size_t size = sizeof(TrailHead) + text_size(d.action) + text_size(d.route) + text_size(d.queue) +
                     text_size(d.agent) + text_size(d.words);
  for (std::size_t i = 0; i < d.candidate_count; ++i) {
    size += sizeof(CandidateHead) + text_size(d.candidates[i].agent) + text_size(d.candidates[i].text);
  }
  // The first decision (the route) is soon followed by a second (waiting or assigned): room for both.
  EntryWriter w(block_.append(size, 2 * size + 64));
  w.put(TrailHead{d.at, d.last_assigned_at, d.step, d.load, d.capacity, d.not_examined,
                  static_cast<std::uint32_t>(d.candidate_count), d.why});
  w.text(d.action);
  w.text(d.route);
  w.text(d.queue);
  w.text(d.agent);
  w.text(d.words);
  for (std::size_t i = 0; i < d.candidate_count; ++i) {
    w.put(CandidateHead{d.candidates[i].step, d.candidates[i].kind});
    w.text(d.candidates[i].agent);
    w.text(d.candidates[i].text);
  }
}

Decision Trail::decode_at(std::size_t offset) const {
  EntryReader r(block_.entry(offset));
  const auto head = r.get<TrailHead>();
  Decision d;
  d.at = head.at;
  d.last_assigned_at = head.last_assigned_at;
  d.step = head.step;
  d.load = head.load;
  d.capacity = head.capacity;
  d.not_examined = head.not_examined;
  d.why = head.why;
  r.text(d.action);
  r.text(d.route);
  r.text(d.queue);
  r.text(d.agent);
  r.text(d.words);
  d.candidates.resize(head.candidates);
  for (auto& c : d.candidates) {
    const auto candidate = r.get<CandidateHead>();
    c.step = candidate.step;
    c.kind = candidate.kind;
    r.text(c.agent);
    r.text(c.text);
  }
  return d;
}

std::string_view Trail::back_action() const noexcept {
  if (block_.empty()) return {};
  EntryReader r(block_.entry(block_.back_offset()) + sizeof(TrailHead));
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
  EntryWriter w(block_.append(sizeof(MessageHead) + text_size(agent_id) + text_size(text)));
  w.put(MessageHead{at, role});
  w.text(agent_id);
  w.text(text);
}

Message MessageLog::decode_at(std::size_t offset) const {
  EntryReader r(block_.entry(offset));
  const auto head = r.get<MessageHead>();
  Message m;
  m.role = head.role;
  m.at = head.at;
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
