// A short list of symbols kept inside its owner: an escalation's skills.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <vector>

#include "router/core/symbols.hpp"

namespace router::core {

// Up to `inline_count` symbols live inside the list (so inside the escalation); more take one heap
// block. An escalation's skills are one or two names: with a std::vector, every escalation made
// allocated a few bytes the allocator had just been given back by the escalation dropped before it,
// long out of the cache, so the first write waited for memory; and dropping one freed them again.
class SymbolList {
 public:
  static constexpr std::uint32_t inline_count = 4;

  SymbolList() noexcept = default;
  SymbolList(std::initializer_list<Symbol> symbols) { assign(symbols.begin(), symbols.size()); }
  SymbolList(const std::vector<Symbol>& symbols) { assign(symbols.data(), symbols.size()); }  // NOLINT: implicit, as a vector
  SymbolList(const SymbolList& other) { assign(other.data(), other.size_); }
  SymbolList(SymbolList&& other) noexcept { take(other); }
  SymbolList& operator=(const SymbolList& other) {
    if (this != &other) assign(other.data(), other.size_);
    return *this;
  }
  SymbolList& operator=(SymbolList&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  SymbolList& operator=(const std::vector<Symbol>& symbols) {
    assign(symbols.data(), symbols.size());
    return *this;
  }
  SymbolList& operator=(std::initializer_list<Symbol> symbols) {
    assign(symbols.begin(), symbols.size());
    return *this;
  }
  ~SymbolList() { release(); }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const Symbol* data() const noexcept { return on_heap() ? storage_.heap : storage_.symbols; }
  const Symbol* begin() const noexcept { return data(); }
  const Symbol* end() const noexcept { return data() + size_; }
  Symbol operator[](std::size_t i) const noexcept { return data()[i]; }
  operator std::span<const Symbol>() const noexcept { return {data(), size_}; }  // NOLINT: read as a span

  // Replaces the list with `count` symbols from `from` (which may not point into this list).
  void assign(const Symbol* from, std::size_t count) {
    if (count > capacity_) {
      Symbol* block = new Symbol[count];
      release();
      storage_.heap = block;
      capacity_ = static_cast<std::uint32_t>(count);
    }
    if (count != 0) std::memcpy(on_heap() ? storage_.heap : storage_.symbols, from, count * sizeof(Symbol));
    size_ = static_cast<std::uint32_t>(count);
  }

  friend bool operator==(const SymbolList& a, const SymbolList& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool on_heap() const noexcept { return capacity_ > inline_count; }
  void release() noexcept {
    if (on_heap()) delete[] storage_.heap;
    capacity_ = inline_count;
    size_ = 0;
  }
  void take(SymbolList& other) noexcept {  // this holds nothing
    size_ = other.size_;
    capacity_ = other.capacity_;
    storage_ = other.storage_;
    other.size_ = 0;
    other.capacity_ = inline_count;
  }

  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = inline_count;
  union Storage {
    Symbol* heap;
    Symbol symbols[inline_count];
  } storage_;
};

}  // namespace router::core
