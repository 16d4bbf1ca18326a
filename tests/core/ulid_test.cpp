// The core's ULIDs: 48-bit time and 80 counted bits in Crockford base32, monotonic within a
// millisecond. Ids of one millisecond are spelled by counting up from the last one; these tests
// decode every id and check it against the counter it must spell.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "ulid.hpp"  // internal to the core

namespace router::core {
namespace {

constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct Decoded {
  std::uint64_t time = 0;
  std::uint64_t high = 0;  // upper 16 of the 80 bits
  std::uint64_t low = 0;   // lower 64
};

Decoded decode(const Id& id) {
  EXPECT_EQ(id.size(), 26u);
  Decoded d;
  for (std::size_t i = 0; i < 10; ++i) d.time = d.time * 32 + alphabet.find(id.view()[i]);
  for (std::size_t i = 10; i < 26; ++i) {
    const std::uint64_t v = alphabet.find(id.view()[i]);
    EXPECT_LT(v, 32u) << id;
    d.high = ((d.high << 5) | (d.low >> 59)) & 0xFFFF;
    d.low = (d.low << 5) | v;
  }
  return d;
}

// One more than `d`'s 80 bits, wrapping as the generator does.
Decoded plus_one(Decoded d) {
  if (++d.low == 0) d.high = (d.high + 1) & 0xFFFF;
  return d;
}

void expect_counts_up(UlidGenerator& ulids, TimestampMs at, int count) {
  Id previous = ulids.next(at);
  for (int i = 0; i < count; ++i) {
    const Id id = ulids.next(at);
    const Decoded want = plus_one(decode(previous));
    const Decoded got = decode(id);
    ASSERT_EQ(got.time, static_cast<std::uint64_t>(at)) << id;
    ASSERT_EQ(got.high, want.high) << previous << " -> " << id;
    ASSERT_EQ(got.low, want.low) << previous << " -> " << id;
    if (want.high != 0 || want.low != 0) {
      ASSERT_LT(previous, id);  // sorts in creation order
    }
    previous = id;
  }
}

TEST(Ulid, IdsOfOneMillisecondCountUpByOneAcrossEveryCarry) {
  UlidGenerator ulids(7);
  // 70,000 ids carry into the last three characters many times.
  expect_counts_up(ulids, 1'773'309'900'000, 70'000);
}

TEST(Ulid, TheCountCarriesFromTheLow64BitsIntoTheHigh16) {
  UlidGenerator ulids(7);
  ulids.next(1'773'309'900'000);
  ulids.restore(ulids.state(), ulids.last_time(), 0x1234, 0xFFFFFFFFFFFFFFF0ULL);
  expect_counts_up(ulids, 1'773'309'900'000, 40);
}

TEST(Ulid, AllEightyBitsWrapToZeroTogether) {
  UlidGenerator ulids(7);
  ulids.next(1'773'309'900'000);
  ulids.restore(ulids.state(), ulids.last_time(), 0xFFFF, 0xFFFFFFFFFFFFFFF0ULL);
  expect_counts_up(ulids, 1'773'309'900'000, 40);
  EXPECT_EQ(ulids.last_high(), 0u);
}

TEST(Ulid, AnIdAfterSkipsIsTheOneTheCounterSpells) {
  UlidGenerator spelled(3);
  UlidGenerator skipped(3);
  const TimestampMs at = 1'773'309'900'000;
  spelled.next(at);
  skipped.next(at);
  for (int i = 0; i < 100; ++i) spelled.next(at);
  for (int i = 0; i < 100; ++i) skipped.skip(at);
  EXPECT_EQ(spelled.next(at), skipped.next(at));
  EXPECT_EQ(spelled.next(at + 1), skipped.next(at + 1));  // a new millisecond: fresh random bits
}

TEST(Ulid, AClockThatGoesBackKeepsTheLastTimeAndCountsOn) {
  UlidGenerator ulids(5);
  const Id first = ulids.next(1'773'309'900'500);
  const Id second = ulids.next(1'773'309'900'000);
  EXPECT_EQ(decode(second).time, 1'773'309'900'500u);
  EXPECT_EQ(decode(second).low, plus_one(decode(first)).low);
}

TEST(Id, OrdersAndComparesExactlyAsItsText) {
  // Full-length ids compare by words; shorter ones by their text. Both must agree with the text.
  std::uint64_t state = 12345;
  auto next_char = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return alphabet[(state >> 33) % 4];  // few letters: many ties, differences at every position
  };
  // Each text is one base with one or two characters changed, so pairs first differ at every
  // position, the last two included; a fifth are shorter.
  const std::string base = "01JCDQ5Z3H8K2M4N6P7R9S0T1V";
  std::vector<std::string> texts;
  for (int i = 0; i < 400; ++i) {
    std::string text = base;
    for (int k = 0; k <= i % 2; ++k) text[(state >> 40) % 26] = next_char(), next_char();
    if (i % 5 == 0) text.resize((state >> 40) % 27);
    texts.push_back(text);
  }
  for (const std::string& a : texts) {
    for (const std::string& b : texts) {
      const Id x = Id::of(a);
      const Id y = Id::of(b);
      ASSERT_EQ(x <=> y, std::string_view(a) <=> std::string_view(b)) << a << " vs " << b;
      ASSERT_EQ(x == y, a == b) << a << " vs " << b;
    }
  }
}

}  // namespace
}  // namespace router::core
