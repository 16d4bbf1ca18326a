// The core's open-addressing index (escalations by id, open escalations by conversation): checked
// against std::unordered_map under random inserts and erases, with hashes chosen to collide.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/core/flat_index.hpp"

namespace router::core {
namespace {

// Keys are strings kept in `objects`; the index maps hash(key) -> slot in `objects`.
struct Model {
  std::vector<std::string> objects;
  FlatIndex index;
  std::unordered_map<std::string, std::uint32_t> reference;
  std::function<std::uint64_t(const std::string&)> hash;

  std::uint32_t find(const std::string& key) const {
    return index.find(hash(key), [&](std::uint32_t v) { return objects[v] == key; });
  }
  void insert(const std::string& key) {
    const auto slot = static_cast<std::uint32_t>(objects.size());
    objects.push_back(key);
    index.insert(hash(key), slot);
    reference[key] = slot;
  }
  bool erase(const std::string& key) {
    reference.erase(key);
    return index.erase(hash(key), [&](std::uint32_t v) { return objects[v] == key; });
  }
  void expect_same(const std::vector<std::string>& keys) const {
    ASSERT_EQ(index.size(), reference.size());
    for (const std::string& key : keys) {
      auto it = reference.find(key);
      ASSERT_EQ(find(key), it == reference.end() ? FlatIndex::none : it->second) << key;
    }
    std::size_t visited = 0;
    index.for_each([&](std::uint32_t v) {
      ++visited;
      EXPECT_EQ(reference.at(objects[v]), v);
    });
    EXPECT_EQ(visited, reference.size());
  }
};

void churn(std::function<std::uint64_t(const std::string&)> hash, int key_space, int steps = 20'000) {
  Model m;
  m.hash = hash;
  std::vector<std::string> keys;
  for (int i = 0; i < key_space; ++i) keys.push_back("conv-" + std::to_string(i));
  std::mt19937_64 random(42);
  for (int step = 0; step < steps; ++step) {
    const std::string& key = keys[random() % keys.size()];
    if (m.reference.count(key) != 0) {
      ASSERT_TRUE(m.erase(key)) << key;
    } else {
      m.insert(key);
    }
    if (step % 97 == 0) m.expect_same(keys);
  }
  m.expect_same(keys);
  for (const std::string& key : keys) {
    if (m.reference.count(key) != 0) {
      ASSERT_TRUE(m.erase(key));
    }
  }
  EXPECT_EQ(m.index.size(), 0u);
  EXPECT_FALSE(m.erase(keys[0]));
  m.expect_same(keys);
}

TEST(FlatIndex, FindsWhatWasInsertedAndForgetsWhatWasErasedUnderChurn) {
  churn([](const std::string& k) { return hash_text(k); }, 3'000);
}

// After a burst the table gives its memory back, and what is left stays reachable through every
// halving; growing again works from the smaller table.
TEST(FlatIndex, ShrinksAfterABurstAndKeepsWhatIsLeft) {
  Model m;
  m.hash = [](const std::string& k) { return hash_text(k); };
  std::vector<std::string> keys;
  for (int i = 0; i < 100'000; ++i) keys.push_back("conv-" + std::to_string(i));
  for (const auto& key : keys) m.insert(key);
  const std::size_t peak = m.index.capacity();
  EXPECT_GE(peak, 200'000u);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i % 1000 != 0) {
      ASSERT_TRUE(m.erase(keys[i]));
    }
    if (i % 9973 == 0) {
      ASSERT_NO_FATAL_FAILURE(m.expect_same(keys));
    }
  }
  m.expect_same(keys);
  EXPECT_EQ(m.index.size(), 100u);
  // It halves while the entries fill less than an eighth of it: 100 entries, 1,024 -> 512.
  EXPECT_EQ(m.index.capacity(), 512u);
  for (int i = 0; i < 5'000; ++i) m.insert("again-" + std::to_string(i));
  for (int i = 0; i < 5'000; ++i) ASSERT_NE(m.find("again-" + std::to_string(i)), FlatIndex::none);
  m.expect_same(keys);
}

TEST(FlatIndex, KeepsEveryEntryReachableWhenHashesCollideAndRunsWrapAround) {
  // Eight distinct hashes for 600 keys: long probe runs, erasures from their middle, wrap-around.
  churn([](const std::string& k) { return (hash_text(k) % 8) << 32; }, 600);
}

TEST(FlatIndex, ShiftsBackAcrossTheEndOfTheTable) {
  // Seven keys (a 16-slot table) on three hashes, under 64 choices of those hashes: some runs start
  // near the end and wrap to the front, and erasing from them must keep the rest reachable.
  for (std::uint64_t c = 1; c <= 64; ++c) {
    churn([c](const std::string& k) { return (hash_text(k) % 3 + c * 7919) << 32; }, 7, 400);
  }
}

TEST(FlatIndex, AnEntryThatWrappedToTheFrontStaysAtItsHomeWhenTheLastSlotEmpties) {
  // In a 16-slot table: A starts (and sits) at slot 15, B at slot 0 after it. Erasing A must not
  // move B back into slot 15, from where a lookup starting at slot 0 could not reach it.
  auto hash_with_home = [](std::size_t home, std::uint64_t after) {
    for (std::uint64_t tag = after + 1;; ++tag) {
      if (FlatIndex::home_in(tag << 32, 16) == home) return tag << 32;
    }
  };
  const std::uint64_t a = hash_with_home(15, 0);
  const std::uint64_t b = hash_with_home(0, 0);
  FlatIndex index;
  index.insert(a, 1);
  index.insert(b, 2);
  ASSERT_TRUE(index.erase(a, [](std::uint32_t v) { return v == 1; }));
  EXPECT_EQ(index.find(b, [](std::uint32_t v) { return v == 2; }), 2u);
  // And a run that does wrap: C at 15, D (home 15) wrapped to 0, E (home 0) pushed to 1.
  const std::uint64_t c = hash_with_home(15, a >> 32);
  index.insert(a, 3);
  index.insert(c, 4);
  index.insert(b, 5);
  ASSERT_TRUE(index.erase(a, [](std::uint32_t v) { return v == 3; }));
  EXPECT_EQ(index.find(c, [](std::uint32_t v) { return v == 4; }), 4u);
  EXPECT_EQ(index.find(b, [](std::uint32_t v) { return v == 2; }), 2u);
  EXPECT_EQ(index.find(b, [](std::uint32_t v) { return v == 5; }), 5u);
  EXPECT_EQ(index.size(), 3u);
}

TEST(FlatIndex, TextHashesDifferForTextsThatDifferAnywhere) {
  const std::string base = "01JCDQ5Z3H8K2M4N6P7R9S0T1V";
  for (std::size_t at = 0; at < base.size(); ++at) {
    std::string other = base;
    other[at] = other[at] == 'A' ? 'B' : 'A';
    EXPECT_NE(hash_text(base), hash_text(other)) << at;
  }
  EXPECT_NE(hash_text("abc", 1), hash_text("abc", 2));  // the seed (a workspace) counts
  EXPECT_NE(hash_text(""), hash_text(std::string_view("\0", 1)));
}

TEST(FlatIndex, TextHashesOfShortTextsAllDiffer) {
  // Every text of 0-6 letters over a small alphabet, then 8-15 letters differing only in the tail
  // (the 0-7 bytes after the last full word are read in overlapping pieces): no two hash alike.
  std::unordered_map<std::uint64_t, std::string> seen;
  auto check = [&](const std::string& text) {
    const auto [it, added] = seen.emplace(hash_text(text), text);
    EXPECT_TRUE(added || it->second == text) << "\"" << text << "\" and \"" << it->second << "\"";
  };
  std::vector<std::string> texts{""};
  for (std::size_t length = 1; length <= 6; ++length) {
    std::vector<std::string> longer;
    for (const std::string& t : texts) {
      if (t.size() != length - 1) continue;
      for (char c : {'a', 'b', 'c', '\0'}) longer.push_back(t + c);
    }
    texts.insert(texts.end(), longer.begin(), longer.end());
  }
  for (const std::string& t : texts) check(t);
  for (const std::string& t : texts) {
    if (t.size() <= 7) check("conv-12" + std::string(1, 'x') + t);  // a full word, then the tail
  }
}

}  // namespace
}  // namespace router::core
