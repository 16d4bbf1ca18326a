// SymbolList (an escalation's skills, inside it up to four): the same contents as a std::vector
// through assignments, copies and moves, whether the list is held inside or on the heap.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "router/core/symbol_list.hpp"

namespace router::core {
namespace {

std::vector<Symbol> as_vector(const SymbolList& list) { return {list.begin(), list.end()}; }

TEST(SymbolList, HoldsWhatAVectorWouldThroughAssignmentsCopiesAndMoves) {
  std::mt19937 rng(7);
  std::vector<SymbolList> lists(6);
  std::vector<std::vector<Symbol>> want(6);
  for (int step = 0; step < 4000; ++step) {
    const std::size_t a = rng() % lists.size();
    const std::size_t b = rng() % lists.size();
    switch (rng() % 5) {
      case 0: {  // assign 0-9 symbols: inside up to four, on the heap past that
        std::vector<Symbol> v(rng() % 10);
        for (Symbol& s : v) s = rng() % 1000;
        lists[a] = v;
        want[a] = v;
        break;
      }
      case 1:
        lists[a] = lists[b];
        want[a] = want[b];
        break;
      case 2:
        lists[a] = std::move(lists[b]);
        want[a] = std::move(want[b]);
        want[b].clear();  // a moved-from SymbolList is empty
        if (a == b) want[a] = as_vector(lists[a]);
        break;
      case 3: {
        SymbolList copy(lists[b]);
        SymbolList moved(std::move(copy));
        EXPECT_TRUE(copy.empty());
        lists[a] = moved;
        want[a] = want[b];
        break;
      }
      default: {
        const std::span<const Symbol> view = lists[a];
        EXPECT_EQ(std::vector<Symbol>(view.begin(), view.end()), want[a]);
      }
    }
    for (std::size_t i = 0; i < lists.size(); ++i) {
      ASSERT_EQ(as_vector(lists[i]), want[i]) << "list " << i << " at step " << step;
      ASSERT_EQ(lists[i].size(), want[i].size());
    }
  }
}

TEST(SymbolList, ComparesByContentsAndReadsByPosition) {
  const SymbolList few = {3, 1, 2};
  const SymbolList many = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(few.size(), 3u);
  EXPECT_EQ(few[0], 3u);
  EXPECT_EQ(many[5], 6u);
  EXPECT_EQ(few, (SymbolList{3, 1, 2}));
  EXPECT_FALSE(few == (SymbolList{3, 1}));
  EXPECT_FALSE(many == (SymbolList{1, 2, 3, 4, 5, 7}));
  EXPECT_EQ(SymbolList(std::vector<Symbol>{1, 2, 3, 4, 5, 6}), many);
  EXPECT_TRUE(SymbolList{}.empty());
}

}  // namespace
}  // namespace router::core
