// Text: an owned string for the fields of outbound events. Up to 23 bytes live inside it, longer
// ones on the heap, like std::string; unlike std::string (15 bytes inline, 32 in all) it is 24
// bytes, starts empty by clearing one byte and is destroyed by testing one: an event has a dozen
// text fields, most of them short names or empty, and the core builds several events per input.
// It reads as text (a string_view, or a std::string when one is asked for) and compares by value.
#pragma once

#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace router::core {

class Text {
 public:
  static constexpr std::size_t inline_capacity = 23;

  Text() noexcept { small_.size = 0; }
  explicit Text(std::string_view text) {
    small_.size = 0;
    assign(text);
  }
  Text(const Text& other) : Text(other.view()) {}
  Text(Text&& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, sizeof *this);
    other.small_.size = 0;
  }
  Text& operator=(const Text& other) {
    assign(other);
    return *this;
  }
  Text& operator=(Text&& other) noexcept {
    if (this != &other) {
      release();
      std::memcpy(static_cast<void*>(this), &other, sizeof *this);
      other.small_.size = 0;
    }
    return *this;
  }
  Text& operator=(std::string_view text) {
    assign(text);
    return *this;
  }
  Text& operator=(const char* text) { return *this = std::string_view(text); }
  Text& operator=(const std::string& text) { return *this = std::string_view(text); }
  ~Text() { release(); }

  void assign(std::string_view text) {
    if (text.size() <= inline_capacity) {
      // `text` may be this one's own letters: the heap block is freed only after the copy.
      char* old = on_heap() ? heap_.data : nullptr;
      copy_short(small_.chars, text.data(), text.size());
      small_.size = static_cast<std::uint8_t>(text.size());
      delete[] old;
      return;
    }
    char* data = new char[text.size()];
    std::memcpy(data, text.data(), text.size());
    release();
    heap_.data = data;
    heap_.size = text.size();
    small_.size = heap_tag;
  }
  // Another Text's letters: when both are inline, the whole 24 bytes at once (no length to test).
  void assign(const Text& other) {
    if (this == &other) return;
    if (!other.on_heap() && !on_heap()) {
      std::memcpy(static_cast<void*>(this), &other, sizeof *this);
      return;
    }
    assign(other.view());
  }
  void clear() noexcept {
    release();
    small_.size = 0;
  }

  bool empty() const noexcept { return small_.size == 0; }
  std::size_t size() const noexcept { return on_heap() ? heap_.size : small_.size; }
  const char* data() const noexcept { return on_heap() ? heap_.data : small_.chars; }
  std::string_view view() const noexcept { return {data(), size()}; }
  std::string str() const { return std::string(view()); }
  operator std::string_view() const noexcept { return view(); }  // NOLINT(google-explicit-constructor): reads as text
  operator std::string() const { return str(); }                 // NOLINT(google-explicit-constructor)

  friend bool operator==(const Text& a, const Text& b) noexcept { return a == b.view(); }
  // An inline text is compared in a few fixed-size pieces (ids, names, conversation ids are
  // compared on every lookup): no call to memcmp.
  friend bool operator==(const Text& a, std::string_view b) noexcept {
    if (a.on_heap()) return a.view() == b;
    return a.small_.size == b.size() && equal_short(a.small_.chars, b.data(), b.size());
  }
  friend bool operator==(const Text& a, const char* b) noexcept { return a == std::string_view(b); }
  friend bool operator==(const Text& a, const std::string& b) noexcept { return a == std::string_view(b); }
  friend std::ostream& operator<<(std::ostream& out, const Text& text) { return out << text.view(); }
  friend std::string operator+(std::string a, const Text& b) { return std::move(a.append(b.view())); }
  friend std::string operator+(const char* a, const Text& b) { return std::string(a).append(b.view()); }
  friend std::string operator+(const Text& a, std::string_view b) { return a.str().append(b); }
  friend std::string operator+(const Text& a, const char* b) { return a.str().append(b); }

 private:
  static constexpr std::uint8_t heap_tag = 0xFF;
  // Copies n <= 32 bytes as two fixed-size pieces that may overlap (a few moves, no call to memcpy),
  // every byte read before any is written, so `from` may overlap `to`.
  static void copy_short(char* to, const char* from, std::size_t n) noexcept {
    auto pieces = [&](auto tag) {
      using Piece = decltype(tag);
      Piece first, last;
      std::memcpy(&first, from, sizeof(Piece));
      std::memcpy(&last, from + n - sizeof(Piece), sizeof(Piece));
      std::memcpy(to, &first, sizeof(Piece));
      std::memcpy(to + n - sizeof(Piece), &last, sizeof(Piece));
    };
    struct Sixteen {
      char bytes[16];
    };
    if (n >= 16) {
      pieces(Sixteen{});
    } else if (n >= 8) {
      pieces(std::uint64_t{});
    } else if (n >= 4) {
      pieces(std::uint32_t{});
    } else if (n >= 2) {
      pieces(std::uint16_t{});
    } else if (n == 1) {
      to[0] = from[0];
    }
  }
  // Whether n <= 23 bytes at `a` and `b` are equal: the first and last pieces of a fixed size, which
  // may overlap, read only within the n bytes.
  static bool equal_short(const char* a, const char* b, std::size_t n) noexcept {
    auto same = [&](auto tag, std::size_t at) {
      using Piece = decltype(tag);
      Piece x, y;
      std::memcpy(&x, a + at, sizeof(Piece));
      std::memcpy(&y, b + at, sizeof(Piece));
      return x == y;
    };
    if (n >= 8) {
      return same(std::uint64_t{}, 0) && same(std::uint64_t{}, n - 8) && (n <= 16 || same(std::uint64_t{}, 8));
    }
    if (n >= 4) return same(std::uint32_t{}, 0) && same(std::uint32_t{}, n - 4);
    if (n == 0) return true;
    return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
  }
  bool on_heap() const noexcept { return small_.size == heap_tag; }
  void release() noexcept {
    if (on_heap()) delete[] heap_.data;
  }

  union {
    struct {
      char chars[inline_capacity];
      std::uint8_t size;  // 0..23 inline; heap_tag: the text is on the heap
    } small_;
    struct {
      char* data;
      std::size_t size;
      char unused[inline_capacity - 2 * sizeof(std::size_t)];
      std::uint8_t tag;  // the same byte as small_.size
    } heap_;
  };
};
static_assert(sizeof(Text) == 24);

}  // namespace router::core
