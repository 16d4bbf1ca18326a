// SymbolTable: one symbol per distinct name, whatever the name's length or bytes, whether the
// short-name cache in front of the index answers or not.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "router/core/symbols.hpp"

namespace router::core {
namespace {

// Interns each name (in the order given) and checks it against what a map of names would say.
void intern_and_check(SymbolTable& table, std::map<std::string, Symbol>& expected, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const Symbol symbol = table.intern(name);
    const auto [it, added] = expected.try_emplace(name, symbol);
    ASSERT_EQ(symbol, it->second) << "\"" << name << "\" (" << name.size() << " bytes)";
    ASSERT_EQ(table.name(symbol), name);
    ASSERT_EQ(table.find(name), symbol);
  }
  ASSERT_EQ(table.size(), expected.size());
}

TEST(SymbolTable, EveryLengthAndEveryByteMakesADistinctName) {
  // Names of 0..40 bytes, and each with one byte changed at each position: a name must never be
  // taken for another of the same words, however the cache reads it (first, middle, last bytes;
  // overlapping halves).
  std::vector<std::string> names;
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string base(n, 'x');
    for (std::size_t i = 0; i < n; ++i) base[i] = static_cast<char>('a' + i % 26);
    names.push_back(base);
    for (std::size_t i = 0; i < n; ++i) {
      std::string other = base;
      other[i] = '#';
      names.push_back(other);
    }
  }
  // Names that agree on their first, middle and last byte, or on their first and last four or
  // eight, but differ in length or inside: "ab" and "abb", "a" and "aaa", "abcd" and "abcdabcd".
  for (const char* name : {"ab", "abb", "a", "aa", "aaa", "abcd", "abcdabcd", "abcabcd"}) {
    names.emplace_back(name);
  }
  names.push_back(std::string("a\0b", 3));
  names.push_back(std::string("a\0", 2));
  names.push_back(std::string("\0\0\0\0\0\0\0\0\0", 9));
  names.push_back(std::string("\0\0\0\0\0\0\0\0", 8));

  // A byte repeated 1..16 times: within 1..3, 4..7 and 8..16 bytes, all of one byte's names read
  // as the same words and differ only in length.
  for (int c = 0; c < 256; ++c) {
    for (std::size_t n = 1; n <= 16; ++n) names.emplace_back(n, static_cast<char>(c));
  }

  SymbolTable table;
  std::map<std::string, Symbol> expected;
  intern_and_check(table, expected, names);
  std::reverse(names.begin(), names.end());
  intern_and_check(table, expected, names);  // asked again, from the other end: the same symbols
}

TEST(SymbolTable, ManyShortNamesInterleavedKeepTheirSymbols) {
  // More short names than the cache has room for, over a small alphabet (so many share words),
  // asked again and again in random orders.
  std::mt19937_64 random(7);
  std::vector<std::string> names;
  const std::string alphabet("ab\0-", 4);
  for (int i = 0; i < 3000; ++i) {
    std::string name(1 + random() % 18, 'a');
    for (char& c : name) c = alphabet[random() % alphabet.size()];
    names.push_back(name);
  }
  SymbolTable table;
  std::map<std::string, Symbol> expected;
  for (int round = 0; round < 4; ++round) {
    std::shuffle(names.begin(), names.end(), random);
    intern_and_check(table, expected, names);
  }
  EXPECT_GT(expected.size(), 1000u);  // the alphabet and lengths make that many distinct names
}

}  // namespace
}  // namespace router::core
