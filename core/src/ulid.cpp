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
    start_millisecond(at);
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

void UlidGenerator::start_millisecond(TimestampMs at) {
  last_time_ = at;
  last_.resize(0);  // its time characters are the last millisecond's
  high_ = random() & 0xFFFF;
  low_ = random() >> 1;  // leave room to increment within the millisecond
}

void UlidGenerator::spell(TimestampMs at, std::uint64_t high, std::uint64_t low) {
  char* out = last_.mutable_data();
  if (last_.size() != Id::capacity) {  // else it holds an id of this millisecond: its time is spelled
    last_.resize(Id::capacity);
    auto time = static_cast<std::uint64_t>(at);
    for (int i = 9; i >= 0; --i) {
      out[i] = alphabet[time & 31];
      time >>= 5;
    }
  }
  // 80 random bits = high (16) : low (64), written as two halves of 40 bits, 8 characters each
  // (two independent runs of shifts, no 128-bit arithmetic).
  std::uint64_t upper = (high & 0xFFFF) << 24 | low >> 40;
  std::uint64_t lower = low & ((std::uint64_t{1} << 40) - 1);
  for (int i = 7; i >= 0; --i) {
    out[10 + i] = alphabet[upper & 31];
    out[18 + i] = alphabet[lower & 31];
    upper >>= 5;
    lower >>= 5;
  }
}

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
    start_millisecond(at);
  } else {
    at = last_time_;
    if (++low_ == 0) {
      high_ = (high_ + 1) & 0xFFFF;
    }
  }
  spell(at, high_, low_);
  return last_;
}

Id UlidGenerator::next_tagged(TimestampMs at, std::uint32_t tag) {
  if (at < 0) {
    at = 0;
  }
  if (at > last_time_) {
    start_millisecond(at);
  } else {
    at = last_time_;
  }
  // The upper 48 of the 80 bits (high_ : the top half of low_) plus one: above every id of this
  // millisecond so far, whatever their last 32 bits. The state moves to the top of that range, so
  // the next id (tagged or not) is above this one.
  constexpr std::uint64_t mask48 = (std::uint64_t{1} << 48) - 1;
  const std::uint64_t upper = ((high_ << 32 | low_ >> 32) + 1) & mask48;
  high_ = upper >> 32;
  low_ = (upper & 0xFFFFFFFFu) << 32 | 0xFFFFFFFFu;
  spell(at, high_, (upper & 0xFFFFFFFFu) << 32 | tag);
  Id id = last_;
  // last_ spells the state, which next() increments: the same characters but for the last seven,
  // which hold the tag's 32 bits (all ones in the state) and the 3 bits above it.
  std::uint64_t tail = (upper & 7) << 32 | 0xFFFFFFFFu;
  char* out = last_.mutable_data();
  for (int i = 25; i >= 19; --i) {
    out[i] = alphabet[tail & 31];
    tail >>= 5;
  }
  return id;
}

std::uint32_t UlidGenerator::tag_of(std::string_view id) noexcept {
  if (id.size() != Id::capacity) return no_tag;
  std::uint64_t value = 0;
  for (std::size_t i = 19; i < 26; ++i) value = value << 5 | digit_values[static_cast<unsigned char>(id[i]) & 127];
  return static_cast<std::uint32_t>(value);
}

}  // namespace router::core
