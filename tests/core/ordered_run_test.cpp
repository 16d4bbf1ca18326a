// OrderedRun (the waiting escalations of a queue and of its eligibility classes, in queue order)
// against std::map: inserts and erases at the ends and in the middle, ranks, lookups and order,
// through chunk splits, merges and removals.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <vector>

#include "ordered_run.hpp"

namespace router::core {
namespace {

using RunOf = OrderedRun<std::uint64_t, std::uint32_t, true>;
using Pairs = std::vector<std::pair<std::uint64_t, std::uint32_t>>;

void expect_same(const RunOf& run, const std::map<std::uint64_t, std::uint32_t>& want) {
  ASSERT_TRUE(run.consistent());
  ASSERT_EQ(run.size(), want.size());
  ASSERT_EQ(run.empty(), want.empty());
  Pairs got;
  for (const auto& [key, value] : run) got.emplace_back(key, value);
  ASSERT_EQ(got, Pairs(want.begin(), want.end()));
  if (!want.empty()) {
    EXPECT_EQ(run.front().first, want.begin()->first);
    EXPECT_EQ(run.front().second, want.begin()->second);
  }
}

TEST(OrderedRun, KeepsTheOrderRanksAndValuesOfAMapThroughEveryKindOfChange) {
  std::mt19937_64 rng(11);
  RunOf run;
  std::map<std::uint64_t, std::uint32_t> want;
  std::uint64_t tail = 1'000'000;  // keys after every other: appends
  for (int step = 0; step < 60'000; ++step) {
    // Phases: growth mostly at the back (arrivals), shrinking mostly at the front (pulls), and
    // changes anywhere (requeues, cancellations, a restore in no order).
    const int phase = (step / 3000) % 3;
    const std::uint64_t r = rng() % 100;
    if (!want.empty() && r < (phase == 0 ? 30u : phase == 1 ? 70u : 50u)) {
      auto it = want.begin();
      if (phase != 1 || r % 3 == 0) std::advance(it, static_cast<long>(rng() % want.size()));
      ASSERT_TRUE(run.erase(it->first));
      want.erase(it);
      ASSERT_FALSE(run.erase(tail + 1));  // absent: nothing changes
    } else {
      const std::uint64_t key = phase == 2 || r % 5 == 0 ? rng() % tail : ++tail;
      const auto value = static_cast<std::uint32_t>(rng());
      const bool fresh = want.emplace(key, value).second;
      ASSERT_EQ(run.insert(key, value), fresh);  // an existing key keeps its value
      if (step % 7 == 0) {  // the position of what was just queued (kept by the run)
        ASSERT_EQ(run.rank(key), static_cast<std::size_t>(std::distance(want.begin(), want.find(key)))) << key;
      }
    }
    if (step % 97 == 0) {
      expect_same(run, want);
      for (int probe = 0; probe < 20 && !want.empty(); ++probe) {
        const std::uint64_t key = rng() % (tail + 2);
        const auto at = want.lower_bound(key);
        ASSERT_EQ(run.rank(key), static_cast<std::size_t>(std::distance(want.begin(), at))) << key;
        const std::uint32_t* value = run.find_value(key);
        if (at != want.end() && at->first == key) {
          ASSERT_NE(value, nullptr);
          EXPECT_EQ(*value, at->second);
        } else {
          EXPECT_EQ(value, nullptr);
          EXPECT_FALSE(run.contains(key));
        }
      }
    }
  }
  expect_same(run, want);
}

TEST(OrderedRun, EmptiedRunIsEmptyAndTakesNewEntries) {
  RunOf run;
  for (std::uint64_t k = 0; k < 500; ++k) ASSERT_TRUE(run.insert(k, static_cast<std::uint32_t>(k)));
  for (std::uint64_t k = 0; k < 500; ++k) ASSERT_TRUE(run.erase(k));
  EXPECT_TRUE(run.empty());
  EXPECT_EQ(run.begin(), run.end());
  EXPECT_EQ(run.rank(7), 0u);
  EXPECT_TRUE(run.insert(7, 70));
  EXPECT_EQ(run.front().first, 7u);
  EXPECT_EQ(run.front().second, 70u);
  EXPECT_EQ(run.rank(8), 1u);
  EXPECT_TRUE(run.consistent());
}

TEST(OrderedRun, ErasesFromTheFrontMergeNearEmptyChunks) {
  // Every other key erased across many chunks leaves them a quarter full: they merge, so the run
  // does not keep a chunk per few entries.
  RunOf run;
  for (std::uint64_t k = 0; k < 63 * 40; ++k) run.insert(k, 0);
  for (std::uint64_t k = 0; k < 63 * 40; ++k) {
    if (k % 8 != 0) {
      ASSERT_TRUE(run.erase(k));
    }
  }
  EXPECT_TRUE(run.consistent());
  EXPECT_EQ(run.size(), 63u * 5);
  EXPECT_EQ(run.rank(8 * 100), 100u);
}

TEST(OrderedRun, ALargeRunGrowsItsChunksAndStillRanksAndErasesRight) {
  // 300,000 entries (arrivals in three priority lanes: inserts in the middle), then the head taken
  // while arrivals go on: new chunks take up to 1,023 entries, old small ones merge away.
  RunOf run;
  std::map<std::uint64_t, std::uint32_t> want;
  std::mt19937_64 rng(3);
  std::uint64_t seq = 0;
  auto arrive = [&] {
    const std::uint64_t key = (rng() % 3) << 40 | ++seq;  // lane, then arrival order
    want.emplace(key, static_cast<std::uint32_t>(seq));
    ASSERT_TRUE(run.insert(key, static_cast<std::uint32_t>(seq)));
  };
  for (int i = 0; i < 300'000; ++i) arrive();
  expect_same(run, want);
  // Chunks made as the run grew hold 63 to 1,023 entries: ~1,500 of them, not the ~9,700 that
  // chunks of 63 would be.
  EXPECT_LE(run.chunk_count(), 2000u);
  for (int i = 0; i < 200'000; ++i) {
    ASSERT_TRUE(run.erase(want.begin()->first));
    want.erase(want.begin());
    if (i % 2 == 0) arrive();
    if (i % 20'011 == 0) {
      const auto at = std::next(want.begin(), static_cast<long>(want.size() / 2));
      ASSERT_EQ(run.rank(at->first), want.size() / 2);
    }
  }
  expect_same(run, want);
  EXPECT_LE(run.chunk_count(), 2000u);
}

}  // namespace
}  // namespace router::core
