#include "ulid.hpp"

#include <array>

namespace router::core {

namespace {

constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

constexpr std::uint64_t char_of(std::uint64_t value) { return static_cast<unsigned char>(alphabet[value & 31]); }

// The value of each character of `alphabet`, by its code.
constexpr std::array<std::uint8_t, 128> digit_values = [] {
  std::array<std::uint8_t, 128> values{};
  for (std::uint8_t v = 0; v < 32; ++v) values[static_cast<unsigned char>(alphabet[v])] = v;
  return values;
}();

// The character after each character of `alphabet`, by its code; 0 after the last ('Z': a carry).
constexpr std::array<char, 128> next_digit = [] {
  std::array<char, 128> next{};
  for (std::size_t v = 0; v + 1 < 32; ++v) next[static_cast<unsigned char>(alphabet[v])] = alphabet[v + 1];
  return next;
}();

constexpr std::uint64_t mask40 = (std::uint64_t{1} << 40) - 1;

// The eight characters of 40 bits, packed as Id::assign_packed takes them: the first character
// (the top 5 bits) in the lowest byte. Each byte holds its digit d (0-31), then becomes d's letter
// in all eight at once: '0' + d, plus 7 from 10 on ('A'), plus one for each letter the alphabet
// skips (I from 18, L from 20, O from 22, U from 27). A byte's d >= k is its bit 7 of d + 128 - k,
// with no carry into the next byte (d + 128 - k < 256).
std::uint64_t spell40(std::uint64_t value) {
  constexpr std::uint64_t ones = 0x0101'0101'0101'0101ULL;
  const std::uint64_t digits = (value >> 35 & 31) | (value >> 30 & 31) << 8 | (value >> 25 & 31) << 16 |
                               (value >> 20 & 31) << 24 | (value >> 15 & 31) << 32 | (value >> 10 & 31) << 40 |
                               (value >> 5 & 31) << 48 | (value & 31) << 56;
  const auto at_least = [digits](std::uint64_t k) { return ((digits + (128 - k) * ones) >> 7) & ones; };
  return digits + '0' * ones + 7 * at_least(10) + at_least(18) + at_least(20) + at_least(22) + at_least(27);
}

}  // namespace

std::uint64_t UlidGenerator::random() {
  // splitmix64
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void UlidGenerator::start_millisecond(TimestampMs at) {
  last_time_ = at;
  high_ = random() & 0xFFFF;
  low_ = random() >> 1;  // leave room to increment within the millisecond
  spelled_ = false;
}

void UlidGenerator::count_up() {
  if (++low_ == 0) {
    high_ = (high_ + 1) & 0xFFFF;
  }
}

void UlidGenerator::skip(TimestampMs at) {
  if (at < 0) {
    at = 0;
  }
  if (at > last_time_) {
    start_millisecond(at);
  } else {
    count_up();
    spelled_ = false;  // the next id is spelled afresh
  }
}

void UlidGenerator::spell_time(TimestampMs at) {
  const auto time = static_cast<std::uint64_t>(at);  // 48 bits: 10 characters (50 bits, the top 2 zero)
  time0_7_ = spell40(time >> 10);
  time8_9_ = char_of(time >> 5) | char_of(time) << 8;
  time_spelled_ = at;
}

void UlidGenerator::write(TimestampMs at, std::uint64_t chars10_17, std::uint64_t chars18_25, Id& out) {
  if (at != time_spelled_) spell_time(at);
  out.assign_packed(time0_7_, time8_9_ | chars10_17 << 16, chars10_17 >> 48 | chars18_25 << 16,
                    static_cast<std::uint16_t>(chars18_25 >> 48));
}

void UlidGenerator::next(TimestampMs at, Id& out) {
  if (at < 0) {
    at = 0;
  }
  if (at > last_time_) {
    start_millisecond(at);
  } else {
    // Same millisecond (or the clock went back): the 80 bits count up by one, and so does the
    // spelled id's last character, unless it carries.
    count_up();
    if (spelled_) {
      const char next = next_digit[static_cast<unsigned char>(chars18_25_ >> 56) & 127];
      if (next != 0) {
        chars18_25_ = (chars18_25_ & 0x00FF'FFFF'FFFF'FFFFULL) | std::uint64_t{static_cast<unsigned char>(next)} << 56;
      } else {
        spelled_ = false;
      }
    }
  }
  if (!spelled_) {
    // 80 bits = high (16) : low (64), spelled as two halves of 40 bits, 8 characters each.
    chars10_17_ = spell40((high_ & 0xFFFF) << 24 | low_ >> 40);
    chars18_25_ = spell40(low_ & mask40);
    spelled_ = true;
  }
  write(last_time_, chars10_17_, chars18_25_, out);
}

void UlidGenerator::next_tagged(TimestampMs at, std::uint32_t tag, Id& out) {
  if (at < 0) {
    at = 0;
  }
  if (at > last_time_) {
    start_millisecond(at);
  }
  // The upper 48 of the 80 bits (high_ : the top half of low_) plus one: above every id of this
  // millisecond so far, whatever their last 32 bits. The state moves to the top of that range, so
  // the next id (tagged or not) is above this one.
  constexpr std::uint64_t mask48 = (std::uint64_t{1} << 48) - 1;
  const std::uint64_t upper = ((high_ << 32 | low_ >> 32) + 1) & mask48;
  high_ = upper >> 32;
  low_ = (upper & 0xFFFFFFFFu) << 32 | 0xFFFFFFFFu;
  spelled_ = false;  // the next id carries out of the last 32 bits (all ones): it is spelled afresh
  write(last_time_, spell40(high_ << 24 | low_ >> 40), spell40(((upper & 0xFFFFFFFFu) << 32 | tag) & mask40), out);
}

std::uint32_t UlidGenerator::tag_of(std::string_view id) noexcept {
  if (id.size() != Id::capacity) return no_tag;
  std::uint64_t value = 0;
  for (std::size_t i = 19; i < 26; ++i) value = value << 5 | digit_values[static_cast<unsigned char>(id[i]) & 127];
  return static_cast<std::uint32_t>(value);
}

}  // namespace router::core
