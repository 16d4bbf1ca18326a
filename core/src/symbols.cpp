#include "router/core/symbols.hpp"

namespace router::core {

Symbol SymbolTable::intern(std::string_view text) {
  if (auto it = index_.find(text); it != index_.end()) {
    return it->second;
  }
  const auto symbol = static_cast<Symbol>(names_.size());
  names_.emplace_back(text);
  index_.emplace(names_.back(), symbol);
  return symbol;
}

Symbol SymbolTable::find(std::string_view text) const {
  auto it = index_.find(text);
  return it == index_.end() ? no_symbol : it->second;
}

}  // namespace router::core
