// Text (the outbound events' string type) against std::string: contents, the inline/heap boundary,
// assignment from its own letters, copies and moves, comparisons.
#include "router/core/text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace router::core {
namespace {

std::string letters(std::mt19937& rng, std::size_t size) {
  std::string out(size, ' ');
  for (char& c : out) c = static_cast<char>('a' + rng() % 26);
  return out;
}

void expect_same(const Text& text, const std::string& want) {
  EXPECT_EQ(text.size(), want.size());
  EXPECT_EQ(text.empty(), want.empty());
  EXPECT_EQ(text.view(), want);
  EXPECT_EQ(std::string(text), want);
  EXPECT_TRUE(text == want);
}

TEST(Text, HoldsAnyLengthOnEitherSideOfTheInlineLimit) {
  std::mt19937 rng(7);
  for (std::size_t size : {0, 1, 15, 16, 22, 23, 24, 25, 64, 1000}) {
    const std::string want = letters(rng, size);
    Text t(want);
    expect_same(t, want);
    Text assigned;
    assigned = want;
    expect_same(assigned, want);
  }
}

TEST(Text, BehavesLikeAStringUnderRandomAssignmentsCopiesAndMoves) {
  std::mt19937 rng(11);
  std::vector<Text> texts(8);
  std::vector<std::string> want(8);
  for (int step = 0; step < 20'000; ++step) {
    const std::size_t a = rng() % texts.size(), b = rng() % texts.size();
    switch (rng() % 7) {
      case 0: {  // a new value, short or long
        const std::string v = letters(rng, rng() % 3 == 0 ? 24 + rng() % 80 : rng() % 24);
        texts[a] = v;
        want[a] = v;
        break;
      }
      case 1:  // copy
        texts[a] = texts[b];
        want[a] = want[b];
        break;
      case 2:  // move (the source is left empty)
        texts[a] = std::move(texts[b]);
        want[a] = a == b ? want[a] : std::exchange(want[b], std::string());
        if (a != b) {
          EXPECT_TRUE(texts[b].empty());
        }
        break;
      case 3: {  // a piece of its own letters (a heap text may become inline)
        const std::string_view own = texts[a].view();
        const std::size_t from = own.empty() ? 0 : rng() % own.size();
        const std::size_t count = own.empty() ? 0 : rng() % (own.size() - from + 1);
        texts[a] = own.substr(from, count);
        want[a] = want[a].substr(from, count);
        break;
      }
      case 4: {  // copy and move construction
        Text copy(texts[b]);
        Text moved(std::move(copy));
        texts[a] = std::move(moved);
        want[a] = want[b];
        break;
      }
      case 5:
        texts[a].clear();
        want[a].clear();
        break;
      default:  // comparisons agree with the strings'
        EXPECT_EQ(texts[a] == texts[b], want[a] == want[b]);
        EXPECT_EQ(texts[a] == want[b], want[a] == want[b]);
        EXPECT_EQ(texts[a] == want[b].c_str(), want[a] == want[b]);
        break;
    }
    ASSERT_NO_FATAL_FAILURE(expect_same(texts[a], want[a])) << "step " << step;
  }
  for (std::size_t i = 0; i < texts.size(); ++i) expect_same(texts[i], want[i]);
}

TEST(Text, DiffersFromATextOfTheSameLengthThatDiffersInAnyOneByte) {
  // Every length on both sides of the inline limit, every position changed: the pieces an inline
  // text is compared in cover every byte.
  for (std::size_t n = 0; n <= Text::inline_capacity + 9; ++n) {
    std::string base(n, 'x');
    for (std::size_t i = 0; i < n; ++i) base[i] = static_cast<char>('a' + i % 26);
    const Text text(base);
    EXPECT_TRUE(text == base) << n;
    EXPECT_TRUE(text == Text(base)) << n;
    EXPECT_FALSE(text == base + "z") << n;
    if (n > 0) {
      EXPECT_FALSE(text == std::string_view(base).substr(1)) << n;
    }
    for (std::size_t i = 0; i < n; ++i) {
      std::string other = base;
      other[i] = '#';
      EXPECT_FALSE(text == other) << "length " << n << ", byte " << i;
      EXPECT_FALSE(text == Text(other)) << "length " << n << ", byte " << i;
    }
  }
}

TEST(Text, JoinsWithStrings) {
  const Text id("agent-7");
  EXPECT_EQ("agent " + id, "agent agent-7");
  EXPECT_EQ(std::string("to ") + id, "to agent-7");
  EXPECT_EQ(id + " left", "agent-7 left");
  EXPECT_EQ(id + std::string_view("!"), "agent-7!");
}

}  // namespace
}  // namespace router::core
