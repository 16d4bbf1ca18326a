#include "ulid.hpp"

#include <array>

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
  last_.resize(0);  // the next id is spelled afresh
}

namespace {

constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// The value of each character of `alphabet`, by its code.
constexpr std::array<std::uint8_t, 128> digit_values = [] {
  std::array<std::uint8_t, 128> values{};
  for (std::uint8_t v = 0; v < 32; ++v) values[static_cast<unsigned char>(alphabet[v])] = v;
  return values;
}();

}  // namespace

Id UlidGenerator::next(TimestampMs at) {
  if (at < 0) {
    at = 0;
  }
  if (at <= last_time_ && last_.size() == Id::capacity) {
    // Same millisecond (or the clock went back): the 80 random bits count up by one. The spelled
    // id is the last one plus one in base32, carried from its last character.
    if (++low_ == 0) {
      high_ = (high_ + 1) & 0xFFFF;
    }
    char* out = last_.mutable_data();
    for (int i = 25; i >= 10; --i) {
      const std::uint8_t v = digit_values[static_cast<unsigned char>(out[i]) & 127];
      if (v < 31) {
        out[i] = alphabet[v + 1];
        break;
      }
      out[i] = '0';  // carry; past the first random character the 80 bits wrap to zero, as high_ does
    }
    return last_;
  }
  if (at > last_time_) {
    last_time_ = at;
    high_ = random() & 0xFFFF;
    low_ = random() >> 1;  // leave room to increment within the millisecond
  } else {
    at = last_time_;
    if (++low_ == 0) {
      high_ = (high_ + 1) & 0xFFFF;
    }
  }
  last_.resize(26);
  char* out = last_.mutable_data();
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
  return last_;
}

}  // namespace router::core
