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

// A tagged id (an escalation's: it names the slot the escalation is kept in) carries its tag in its
// last 32 bits, sorts above every id made before it, and the ids after it sort above it: within one
// millisecond, across milliseconds and across the carries of the 80 bits.
TEST(Ulid, ATaggedIdCarriesItsTagAndTheIdsAroundItStayInCreationOrder) {
  for (const std::uint64_t start_low : {std::uint64_t{0x0123456789ABCDEFULL}, std::uint64_t{0xFFFFFFFEFFFFFFF0ULL}}) {
    UlidGenerator ulids(11);
    TimestampMs at = 1'773'309'900'000;
    ulids.next(at);
    ulids.restore(ulids.state(), ulids.last_time(), 0x0042, start_low);
    Id previous = ulids.next(at);
    bool previous_tagged = false;
    std::uint64_t mix = 99;
    for (int i = 0; i < 20'000; ++i) {
      mix = mix * 6364136223846793005ULL + 1442695040888963407ULL;
      if (mix >> 60 == 0) ++at;  // now and then a new millisecond
      Id id;
      const bool tagged = (mix >> 40) % 3 == 0;
      if (tagged) {
        const auto tag = static_cast<std::uint32_t>(mix >> 20) % 5'000'000;
        id = ulids.next_tagged(at, tag);
        ASSERT_EQ(UlidGenerator::tag_of(id), tag) << id;
        ASSERT_EQ(decode(id).low & 0xFFFFFFFFu, tag) << id;
      } else {
        id = ulids.next(at);
      }
      if (decode(id).time == decode(previous).time) {
        // Within a millisecond the state counts on: after a tagged id it is the top of that id's
        // range (its last 32 bits all ones). An id is the state plus one; a tagged id the state's
        // upper 48 bits plus one, then its tag.
        Decoded state = decode(previous);
        if (previous_tagged) state.low |= 0xFFFFFFFFu;
        if (tagged) {
          const std::uint64_t upper = ((state.high << 32 | state.low >> 32) + 1) & 0xFFFFFFFFFFFFULL;
          ASSERT_EQ(decode(id).high, upper >> 32) << previous << " -> " << id;
          ASSERT_EQ(decode(id).low >> 32, upper & 0xFFFFFFFFu) << previous << " -> " << id;
        } else {
          const Decoded want = plus_one(state);
          ASSERT_EQ(decode(id).high, want.high) << previous << " -> " << id;
          ASSERT_EQ(decode(id).low, want.low) << previous << " -> " << id;
        }
      }
      previous_tagged = tagged;
      ASSERT_LT(previous, id) << "step " << i;
      previous = id;
    }
  }
  EXPECT_EQ(UlidGenerator::tag_of("01JCDQ5Z3H"), UlidGenerator::no_tag);  // not an id of 26 characters
}

// Replaying inputs quietly skips event ids instead of spelling them: with tagged ids among them,
// the ids after are still the ones the spelling run makes.
TEST(Ulid, SkippedIdsAroundTaggedOnesAdvanceAsSpelledOnes) {
  UlidGenerator spelled(3);
  UlidGenerator skipped(3);
  const TimestampMs at = 1'773'309'900'000;
  for (int round = 0; round < 50; ++round) {
    EXPECT_EQ(spelled.next_tagged(at + round / 10, round), skipped.next_tagged(at + round / 10, round));
    for (int i = 0; i < round % 4; ++i) {
      spelled.next(at + round / 10);
      skipped.skip(at + round / 10);
    }
  }
  EXPECT_EQ(spelled.next(at + 5), skipped.next(at + 5));
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
