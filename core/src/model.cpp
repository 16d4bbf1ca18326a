#include "router/core/model.hpp"

#include <algorithm>
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
// then its candidates.
struct TrailHead {
  TimestampMs at;
  TimestampMs last_assigned_at;
  std::int32_t step;
  std::uint32_t load;
  std::uint32_t capacity;
  std::uint32_t not_examined;
  std::uint32_t candidates;
  Decision::Why why;
};

struct CandidateHead {
  std::int32_t step;
  Decision::Candidate::Verdict kind;
};

constexpr std::size_t text_size(const std::string& text) { return sizeof(std::uint32_t) + text.size(); }

class TrailWriter {
 public:
  explicit TrailWriter(char* out) : out_(out) {}
  template <typename T>
  void put(const T& value) {
    std::memcpy(out_, &value, sizeof value);
    out_ += sizeof value;
  }
  void text(const std::string& value) {
    put(static_cast<std::uint32_t>(value.size()));
    if (!value.empty()) std::memcpy(out_, value.data(), value.size());
    out_ += value.size();
  }

 private:
  char* out_;
};

class TrailReader {
 public:
  explicit TrailReader(const char* in) : in_(in) {}
  template <typename T>
  T get() {
    T value;
    std::memcpy(&value, in_, sizeof value);
    in_ += sizeof value;
    return value;
  }
  void text(std::string& value) {
    const auto size = get<std::uint32_t>();
    value.assign(in_, size);
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

void Trail::push_back(const Decision& d) {
  std::size_t size = sizeof(std::uint32_t) + sizeof(TrailHead) + text_size(d.action) + text_size(d.route) +
                     text_size(d.queue) + text_size(d.agent) + text_size(d.words);
  for (const auto& c : d.candidates) size += sizeof(CandidateHead) + text_size(c.agent) + text_size(c.text);
  const std::size_t at = size_;
  TrailWriter w(grow(size));
  w.put(static_cast<std::uint32_t>(size));
  w.put(TrailHead{d.at, d.last_assigned_at, d.step, d.load, d.capacity, d.not_examined,
                  static_cast<std::uint32_t>(d.candidates.size()), d.why});
  w.text(d.action);
  w.text(d.route);
  w.text(d.queue);
  w.text(d.agent);
  w.text(d.words);
  for (const auto& c : d.candidates) {
    w.put(CandidateHead{c.step, c.kind});
    w.text(c.agent);
    w.text(c.text);
  }
  back_ = static_cast<std::uint32_t>(at);
  ++count_;
}

Trail::Trail(const Trail& other)
    : bytes_(other.size_ == 0 ? nullptr : new char[other.size_]),
      size_(other.size_),
      capacity_(other.size_),
      count_(other.count_),
      back_(other.back_) {
  if (size_ != 0) std::memcpy(bytes_.get(), other.bytes_.get(), size_);
}

Trail::Trail(Trail&& other) noexcept
    : bytes_(std::move(other.bytes_)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)),
      count_(std::exchange(other.count_, 0)),
      back_(std::exchange(other.back_, 0)) {}

Trail& Trail::operator=(Trail&& other) noexcept {
  bytes_ = std::move(other.bytes_);
  size_ = std::exchange(other.size_, 0);
  capacity_ = std::exchange(other.capacity_, 0);
  count_ = std::exchange(other.count_, 0);
  back_ = std::exchange(other.back_, 0);
  return *this;
}

Trail& Trail::operator=(const Trail& other) {
  if (this != &other) *this = Trail(other);
  return *this;
}

char* Trail::grow(std::size_t size) {
  const std::size_t needed = size_ + size;
  if (needed > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("routing trail too long");
  if (needed > capacity_) {
    // The first decision (the route) is soon followed by a second (waiting or assigned): room for both.
    const std::size_t capacity = std::max(needed, capacity_ == 0 ? 2 * size + 64 : 2 * std::size_t{capacity_});
    auto bytes = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ != 0) std::memcpy(bytes.get(), bytes_.get(), size_);
    bytes_ = std::move(bytes);
    capacity_ = static_cast<std::uint32_t>(std::min<std::size_t>(capacity, std::numeric_limits<std::uint32_t>::max()));
  }
  char* at = bytes_.get() + size_;
  size_ = static_cast<std::uint32_t>(needed);
  return at;
}

std::size_t Trail::entry_end(std::size_t at) const noexcept {
  std::uint32_t size = 0;
  std::memcpy(&size, bytes_.get() + at, sizeof size);
  return at + size;
}

std::size_t Trail::offset_of(std::size_t position) const noexcept {
  if (position + 1 == count_) return back_;
  std::size_t at = 0;
  for (std::size_t i = 0; i < position; ++i) at = entry_end(at);
  return at;
}

Decision Trail::decode(std::size_t at) const {
  TrailReader r(bytes_.get() + at + sizeof(std::uint32_t));
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

void Trail::erase(std::size_t position) {
  if (position >= count_) return;
  const std::size_t at = offset_of(position);
  const std::size_t end = entry_end(at);
  std::memmove(bytes_.get() + at, bytes_.get() + end, size_ - end);
  size_ -= static_cast<std::uint32_t>(end - at);
  --count_;
  if (count_ == 0) {
    back_ = 0;
  } else if (position == count_) {  // the last one went: the one before it is the last now
    std::size_t last = 0;
    for (std::size_t i = 0; i + 1 < count_; ++i) last = entry_end(last);
    back_ = static_cast<std::uint32_t>(last);
  } else {
    back_ -= static_cast<std::uint32_t>(end - at);
  }
}

void Trail::clear() noexcept {
  size_ = 0;
  count_ = 0;
  back_ = 0;
}

Decision Trail::operator[](std::size_t position) const { return decode(offset_of(position)); }

Decision Trail::back() const { return decode(back_); }

std::string_view Trail::back_action() const noexcept {
  if (count_ == 0) return {};
  TrailReader r(bytes_.get() + back_ + sizeof(std::uint32_t) + sizeof(TrailHead));
  return r.skip_text();
}

void Trail::set_back_agent(std::string_view agent) {
  if (count_ == 0) return;
  Decision d = back();
  d.agent.assign(agent);
  size_ = back_;
  --count_;
  push_back(d);  // where it was
}

Decision Trail::iterator::operator*() const { return trail_->decode(at_); }

Trail::iterator& Trail::iterator::operator++() {
  at_ = trail_->entry_end(at_);
  return *this;
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
