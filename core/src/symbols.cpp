#include "router/core/symbols.hpp"

namespace router::core {

Symbol SymbolTable::intern_indexed(std::string_view text) {
  const std::uint64_t hash = hash_text(text);
  if (const Symbol found = index_.find(hash, [&](Symbol s) { return names_[s] == text; }); found != FlatIndex::none) {
    return found;
  }
  const auto symbol = static_cast<Symbol>(names_.size());
  names_.emplace_back(text);
  index_.insert(hash, symbol);
  return symbol;
}

Symbol SymbolTable::find(std::string_view text) const {
  const Symbol found = index_.find(hash_text(text), [&](Symbol s) { return names_[s] == text; });
  return found == FlatIndex::none ? no_symbol : found;
}

}  // namespace router::core
