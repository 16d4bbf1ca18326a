// Interned strings: low-cardinality names (workspaces, queues, skills, languages, sources) become
// small integers, so comparisons in rules are integer compares and escalations stay small.
#pragma once

#include <cstdint>
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
  Symbol intern(std::string_view text);
  // The symbol of `text` if it was interned, else no_symbol. Never adds.
  Symbol find(std::string_view text) const;
  std::string_view name(Symbol symbol) const { return symbol == no_symbol ? std::string_view{} : names_[symbol].view(); }
  // The name as a Text (empty for no_symbol): copied into an event's field whole when it is short.
  const Text& text(Symbol symbol) const { return symbol == no_symbol ? empty_ : names_[symbol]; }
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<Text> names_;
  Text empty_;
  FlatIndex index_;  // hash of the name -> symbol
};

}  // namespace router::core
