// Interned strings: low-cardinality names (workspaces, queues, skills, languages, sources) become
// small integers, so comparisons in rules are integer compares and escalations stay small.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "router/core/flat_index.hpp"
#include "router/core/text.hpp"

namespace router::core {

using Symbol = std::uint32_t;
inline constexpr Symbol no_symbol = 0xFFFFFFFFu;

class SymbolTable {
 public:
  Symbol intern(std::string_view text) {
    if (text.size() - 1 < max_recent_size) {  // 1..16 bytes
      const Words w = words_of(text);
      Recent& r = recent_[recent_slot(w, text.size())];
      if (r.size == text.size() && r.first == w.first && r.last == w.last) return r.symbol;
      const Symbol symbol = intern_indexed(text);
      r = Recent{w.first, w.last, static_cast<std::uint32_t>(text.size()), symbol};
      return symbol;
    }
    return intern_indexed(text);
  }
  // The symbol of `text` if it was interned, else no_symbol. Never adds.
  Symbol find(std::string_view text) const;
  std::string_view name(Symbol symbol) const { return symbol == no_symbol ? std::string_view{} : names_[symbol].view(); }
  // The name as a Text (empty for no_symbol): copied into an event's field whole when it is short.
  const Text& text(Symbol symbol) const { return symbol == no_symbol ? empty_ : names_[symbol]; }
  std::size_t size() const { return names_.size(); }

 private:
  Symbol intern_indexed(std::string_view text);

  // The symbols last interned for short names (workspaces, languages, skills, sources: an arrival
  // interns several, nearly always the same few), keyed by their bytes: a hit costs two loads and a
  // compare instead of a hash, a probe and a compare of letters.
  static constexpr std::size_t max_recent_size = 16;
  struct Words {
    std::uint64_t first = 0, last = 0;
  };
  struct Recent {
    std::uint64_t first = 0, last = 0;
    std::uint32_t size = 0;  // 0: empty (no name of 0 bytes is kept here)
    Symbol symbol = no_symbol;
  };
  // 1..16 bytes as two words that, with the length, determine them: 8..16 as the first and last 8
  // (overlapping), fewer as short_word (flat_index.hpp).
  static Words words_of(std::string_view text) noexcept {
    const char* p = text.data();
    const std::size_t n = text.size();
    Words w;
    if (n >= 8) {
      std::memcpy(&w.first, p, 8);
      std::memcpy(&w.last, p + n - 8, 8);
    } else {
      w.first = short_word(p, n);
    }
    return w;
  }
  static constexpr int recent_bits = 6;
  static std::size_t recent_slot(const Words& w, std::size_t n) noexcept {
    constexpr std::uint64_t k = 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>(((w.first ^ n) * k ^ w.last) * k >> (64 - recent_bits));
  }

  std::array<Recent, std::size_t{1} << recent_bits> recent_{};
  std::vector<Text> names_;
  Text empty_;
  FlatIndex index_;  // hash of the name -> symbol
};

}  // namespace router::core
