// Internal: deterministic ULIDs (48-bit millisecond time, 80 bits from a seeded generator).
// Monotonic within a millisecond, so ids sort in creation order. A tagged id carries a 32-bit tag
// in its last 32 bits (an escalation's slot: its id says where it is kept, so finding it by id reads
// the escalation and no index); it is still a ULID, and still above every id made before it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "router/core/id.hpp"
#include "router/core/time.hpp"

namespace router::core {

class UlidGenerator {
 public:
  explicit UlidGenerator(std::uint64_t seed = 0) : state_(seed) {}

  // The next id, spelled into `out`.
  void next(TimestampMs at, Id& out);
  Id next(TimestampMs at) {
    Id id;
    next(at, id);
    return id;
  }
  void skip(TimestampMs at);  // advances exactly as next() would, without spelling the id
  // An id whose last 32 bits are `tag`: the 48 bits above them are one more than the last id's,
  // and the next id continues above it.
  void next_tagged(TimestampMs at, std::uint32_t tag, Id& out);
  Id next_tagged(TimestampMs at, std::uint32_t tag) {
    Id id;
    next_tagged(at, tag, id);
    return id;
  }
  // The tag in the last 32 bits of a 26-character id (any id: the caller checks that the id it
  // finds there is the one asked for); no_tag for other lengths.
  static constexpr std::uint32_t no_tag = 0xFFFFFFFFu;
  static std::uint32_t tag_of(std::string_view id) noexcept;

  // For snapshots.
  std::uint64_t state() const { return state_; }
  TimestampMs last_time() const { return last_time_; }
  std::uint64_t last_high() const { return high_; }
  std::uint64_t last_low() const { return low_; }
  void restore(std::uint64_t state, TimestampMs last_time, std::uint64_t high, std::uint64_t low) {
    state_ = state, last_time_ = last_time, high_ = high, low_ = low;
    spelled_ = false;
  }

 private:
  std::uint64_t random();
  void start_millisecond(TimestampMs at);  // a later millisecond: fresh random bits
  void count_up();                         // the 80 bits plus one (they wrap)
  void spell_time(TimestampMs at);
  void write(TimestampMs at, std::uint64_t chars10_17, std::uint64_t chars18_25, Id& out);

  std::uint64_t state_;
  TimestampMs last_time_ = -1;
  std::uint64_t high_ = 0;  // upper 16 bits of the 80-bit random part
  std::uint64_t low_ = 0;   // lower 64 bits
  // The state spelled, eight characters to a word (Id::assign_packed): ids are written from these
  // and never read back. Characters 0-9 are the time of `time_spelled_`; 10-25 the 80 bits, valid
  // while `spelled_` (an id of the same millisecond is the last one plus one in its last character,
  // 31 times in 32).
  TimestampMs time_spelled_ = -1;
  std::uint64_t time0_7_ = 0;
  std::uint64_t time8_9_ = 0;
  bool spelled_ = false;
  std::uint64_t chars10_17_ = 0;
  std::uint64_t chars18_25_ = 0;
};

}  // namespace router::core
