// IdOrder (the kept escalations in id order) against std::map: appends, drops anywhere, pages walked
// newest first from any cursor, places that stay valid through segment drops and local compaction.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "id_order.hpp"

namespace router::core {
namespace {

// Ids of one length sort as their numbers do.
Id id_of(std::uint64_t n) {
  char text[27];
  std::snprintf(text, sizeof text, "%026llu", static_cast<unsigned long long>(n));
  return Id::of(text);
}

struct Tracked {
  IdOrder order;
  std::map<std::uint32_t, std::uint32_t> place_of;  // slot -> place, as the router keeps it
  std::map<Id, std::uint32_t> want;                 // id -> slot, the reference
  std::size_t moves = 0;

  void add(std::uint64_t n, std::uint32_t slot) {
    place_of[slot] = order.add(id_of(n), slot, [&](std::uint32_t s, std::uint32_t place) {
      place_of[s] = place;
      ++moves;
    });
    want[id_of(n)] = slot;
  }
  void erase(std::uint32_t slot) {
    order.erase(place_of.at(slot), [&](std::uint32_t s, std::uint32_t place) {
      place_of[s] = place;
      ++moves;
    });
    place_of.erase(slot);
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (it->second == slot) {
        want.erase(it);
        break;
      }
    }
  }
  std::vector<std::uint32_t> page(std::string_view before, std::size_t limit) const {
    std::vector<std::uint32_t> got;
    order.walk_back(before, [&](std::uint32_t slot) {
      if (got.size() == limit) return false;
      got.push_back(slot);
      return true;
    });
    return got;
  }
  std::vector<std::uint32_t> want_page(std::string_view before, std::size_t limit) const {
    std::vector<std::uint32_t> out;
    for (auto it = want.rbegin(); it != want.rend() && out.size() < limit; ++it) {
      if (before.empty() || std::string_view(it->first) < before) out.push_back(it->second);
    }
    return out;
  }
  void expect_consistent() const {
    ASSERT_TRUE(order.counts_consistent());
    ASSERT_EQ(order.live(), want.size());
    std::vector<std::uint32_t> live;
    order.for_each_live([&](const Id&, std::uint32_t slot) { live.push_back(slot); });
    std::vector<std::uint32_t> expected;
    for (const auto& [id, slot] : want) expected.push_back(slot);
    ASSERT_EQ(live, expected);
    for (const auto& [slot, place] : place_of) {
      const IdOrder::Entry* entry = order.find(place);
      ASSERT_NE(entry, nullptr) << "slot " << slot;
      ASSERT_EQ(entry->slot, slot);
    }
  }
};

TEST(IdOrder, AppendsInOrderAndWalksNewestFirstAcrossSegments) {
  Tracked t;
  for (std::uint32_t i = 0; i < 3000; ++i) t.add(10 * i + 10, i);
  EXPECT_EQ(t.order.segment_count(), 3u);
  t.expect_consistent();
  EXPECT_EQ(t.page("", 5), (std::vector<std::uint32_t>{2999, 2998, 2997, 2996, 2995}));
  // A cursor between two ids, at an id (strictly below it), at a segment's boundary, below all, above all.
  EXPECT_EQ(t.page(std::string_view(id_of(10245)), 3), (std::vector<std::uint32_t>{1023, 1022, 1021}));
  EXPECT_EQ(t.page(std::string_view(id_of(10250)), 2), (std::vector<std::uint32_t>{1023, 1022}));
  EXPECT_EQ(t.page(std::string_view(id_of(10240)), 2), (std::vector<std::uint32_t>{1022, 1021}));
  EXPECT_EQ(t.page(std::string_view(id_of(10)), 5), std::vector<std::uint32_t>{});
  EXPECT_EQ(t.page(std::string_view(id_of(1'000'000)), 2), (std::vector<std::uint32_t>{2999, 2998}));
}

TEST(IdOrder, FreesTheOldestSegmentsOnceTheirEntriesAreDroppedAndNoPlaceMoves) {
  Tracked t;
  for (std::uint32_t i = 0; i < 4096; ++i) t.add(i + 1, i);
  for (std::uint32_t i = 0; i < 2048; ++i) t.erase(i);  // oldest first, as the retention window drops
  EXPECT_EQ(t.order.segment_count(), 2u);
  EXPECT_EQ(t.order.entry_count(), 2048u);
  EXPECT_EQ(t.moves, 0u);
  t.expect_consistent();
  for (std::uint32_t i = 2048; i < 4096; ++i) t.erase(i);
  EXPECT_EQ(t.order.segment_count(), 0u);
  EXPECT_TRUE(t.order.empty());
  t.add(5000, 7);  // numbering starts over
  t.expect_consistent();
  EXPECT_EQ(t.page("", 10), std::vector<std::uint32_t>{7});
}

TEST(IdOrder, CompactsASparseSegmentAloneAndRenumbersOnlyItsLiveEntries) {
  Tracked t;
  for (std::uint32_t i = 0; i < 3072; ++i) t.add(i + 1, i);
  // An entry of the first segment stays (an escalation open for long): the first segment is neither
  // freed nor compacted (it is the oldest). The middle segment loses all but 200 of its entries:
  // compacted once, when a quarter are left (256), and not again (200 of 256 live).
  for (std::uint32_t i = 1; i < 1024; ++i) t.erase(i);
  EXPECT_EQ(t.order.segment_count(), 3u);
  for (std::uint32_t i = 1024; i < 1024 + 824; ++i) t.erase(i);
  t.expect_consistent();
  EXPECT_EQ(t.order.entry_count(), 1024u + 256u + 1024u);
  EXPECT_EQ(t.moves, 256u);  // only the middle segment's live entries moved, each once
  EXPECT_EQ(t.page(std::string_view(id_of(2049)), 3), (std::vector<std::uint32_t>{2047, 2046, 2045}));
  EXPECT_EQ(t.page(std::string_view(id_of(1849)), 3), (std::vector<std::uint32_t>{0}));
}

TEST(IdOrder, PutsAnIdBelowTheLastInItsPlace) {
  Tracked t;
  for (std::uint32_t i = 0; i < 1500; ++i) t.add(2 * i + 10, i);
  t.erase(3);
  t.add(11, 9999);  // between the first two
  t.expect_consistent();
  EXPECT_EQ(t.page(std::string_view(id_of(13)), 5), (std::vector<std::uint32_t>{1, 9999, 0}));
  t.add(5000, 10000);  // appends go on after the rebuild
  t.expect_consistent();
}

TEST(IdOrder, RebuildsInFreshSegmentsBeforeItsNumbersCouldWrap) {
  Tracked t;
  t.order = IdOrder(4);  // four segments at most (2^21 in the router)
  std::uint32_t slot = 0;
  for (; slot < 4 * 1024; ++slot) t.add(slot + 1, slot);
  // The first escalation stays open; the rest of the first three segments is dropped.
  for (std::uint32_t s = 1; s < 3 * 1024; ++s) t.erase(s);
  EXPECT_EQ(t.order.segment_count(), 4u);
  t.add(slot + 1, slot);  // needs a fifth: rebuilt instead, every live entry told its new place
  ++slot;
  t.expect_consistent();
  EXPECT_EQ(t.order.segment_count(), 2u);  // 1 + 1,024 + 1 live entries
  EXPECT_EQ(t.page("", 2), (std::vector<std::uint32_t>{4096, 4095}));
  // Thousands more created and dropped after it, the first still open: rebuilt whenever the limit is
  // reached, so there are never more than four segments.
  std::vector<std::uint32_t> live;
  for (std::uint32_t s = 3 * 1024; s < slot; ++s) live.push_back(s);
  for (; slot < 40 * 1024; ++slot) {
    t.add(slot + 1, slot);
    live.push_back(slot);
    t.erase(live.front());
    live.erase(live.begin());
    ASSERT_LE(t.order.segment_count(), 4u);
  }
  t.expect_consistent();
  EXPECT_EQ(t.page(std::string_view(id_of(2)), 5), std::vector<std::uint32_t>{0});
  EXPECT_EQ(t.page("", 1), std::vector<std::uint32_t>{slot - 1});
}

TEST(IdOrder, AgreesWithAMapThroughRandomAppendsDropsAndPages) {
  std::mt19937_64 rng(7);
  Tracked t;
  std::uint64_t next_id = 100;
  std::uint32_t next_slot = 0;
  std::vector<std::uint32_t> live;
  for (int step = 0; step < 40'000; ++step) {
    const bool grow = live.size() < 500 || (step / 5'000) % 2 == 0 ? rng() % 3 != 0 : rng() % 3 == 0;
    if (grow || live.empty()) {
      next_id += 1 + rng() % 3;
      t.add(next_id, next_slot);
      live.push_back(next_slot++);
    } else {
      // Mostly the oldest (the retention window), sometimes any (an open one closing late); in some
      // phases any at all, so that segments in the middle thin out and are compacted.
      const bool anywhere = (step / 5'000) % 4 == 3 || rng() % 4 == 0;
      const std::size_t at = anywhere ? rng() % live.size() : rng() % std::min<std::size_t>(live.size(), 16);
      t.erase(live[at]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(at));
    }
    if (step % 997 == 0) {
      t.expect_consistent();
      const Id cursor = id_of(100 + rng() % (next_id + 10));
      ASSERT_EQ(t.page(std::string_view(cursor), 50), t.want_page(std::string_view(cursor), 50)) << "step " << step;
      ASSERT_EQ(t.page("", 50), t.want_page("", 50));
    }
  }
  t.expect_consistent();
}

}  // namespace
}  // namespace router::core
