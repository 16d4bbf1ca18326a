// Internal: deterministic ULIDs (48-bit millisecond time, 80 bits from a seeded generator).
// Monotonic within a millisecond, so ids sort in creation order.
#pragma once

#include <cstdint>
#include <string>

#include "router/core/id.hpp"
#include "router/core/time.hpp"

namespace router::core {

class UlidGenerator {
 public:
  explicit UlidGenerator(std::uint64_t seed = 0) : state_(seed) {}

  Id next(TimestampMs at);
  void skip(TimestampMs at);  // advances exactly as next() would, without spelling the id

  // For snapshots.
  std::uint64_t state() const { return state_; }
  TimestampMs last_time() const { return last_time_; }
  std::uint64_t last_high() const { return high_; }
  std::uint64_t last_low() const { return low_; }
  void restore(std::uint64_t state, TimestampMs last_time, std::uint64_t high, std::uint64_t low) {
    state_ = state, last_time_ = last_time, high_ = high, low_ = low;
    last_ = Id();  // spelled afresh by the next id
  }

 private:
  std::uint64_t random();

  std::uint64_t state_;
  TimestampMs last_time_ = -1;
  std::uint64_t high_ = 0;  // upper 16 bits of the 80-bit random part
  std::uint64_t low_ = 0;   // lower 64 bits
  Id last_;                 // the last id spelled (empty: none yet, or skip() moved past it)
};

}  // namespace router::core
