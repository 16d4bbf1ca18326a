#include "ulid.hpp"

namespace router::core {

std::uint64_t UlidGenerator::random() {
  // splitmix64
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void UlidGenerator::skip(TimestampMs at) {
  if (at < 0) {
    at = 0;
  }
  if (at <= last_time_) {
    if (++low_ == 0) {
      high_ = (high_ + 1) & 0xFFFF;
    }
  } else {
    last_time_ = at;
    high_ = random() & 0xFFFF;
    low_ = random() >> 1;
  }
}

Id UlidGenerator::next(TimestampMs at) {
  if (at < 0) {
    at = 0;
  }
  if (at <= last_time_) {
    at = last_time_;
    if (++low_ == 0) {
      high_ = (high_ + 1) & 0xFFFF;
    }
  } else {
    last_time_ = at;
    high_ = random() & 0xFFFF;
    low_ = random() >> 1;  // leave room to increment within the millisecond
  }
  static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  Id id;
  id.resize(26);
  char* out = id.mutable_data();
  auto time = static_cast<std::uint64_t>(at);
  for (int i = 9; i >= 0; --i) {
    out[i] = alphabet[time & 31];
    time >>= 5;
  }
  // 80 random bits = high (16) : low (64), written as 16 base32 characters.
  std::uint64_t lo = low_;
  std::uint64_t hi = high_;
  for (int i = 25; i >= 10; --i) {
    out[i] = alphabet[lo & 31];
    lo = (lo >> 5) | ((hi & 31) << 59);
    hi >>= 5;
  }
  return id;
}

}  // namespace router::core
