// An id the core makes (escalation and event ULIDs): 26 characters kept inline, so handing one
// around (events, indexes, contact histories) never allocates. A std::string would: 26 characters
// are past libstdc++'s 15-character small-string buffer.
#pragma once

#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>

namespace router::core {

class Id {
 public:
  static constexpr std::size_t capacity = 26;  // a ULID's length

  Id() = default;
  // Ids longer than `capacity` are never made by the core; from_text refuses them (false).
  static bool from_text(std::string_view text, Id& out) {
    if (text.size() > capacity) return false;
    out.size_ = static_cast<std::uint8_t>(text.size());
    std::memcpy(out.data_, text.data(), text.size());
    out.data_[text.size()] = '\0';
    return true;
  }

  // For text known to fit (tests, literals): anything past `capacity` is cut off.
  static Id of(std::string_view text) {
    Id out;
    from_text(text.substr(0, capacity), out);
    return out;
  }

  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Sets a full-length id from its characters packed eight to a word, the first character in the
  // lowest byte: `chars0_7`, `chars8_15`, `chars16_23`, and the last two in `chars24_25`. Written as
  // words, so a copy that reads them soon after is not held up (a store of single characters read
  // back as a word waits for the store to reach the cache).
  void assign_packed(std::uint64_t chars0_7, std::uint64_t chars8_15, std::uint64_t chars16_23,
                     std::uint16_t chars24_25) {
    if constexpr (std::endian::native == std::endian::big) {
      chars0_7 = __builtin_bswap64(chars0_7), chars8_15 = __builtin_bswap64(chars8_15);
      chars16_23 = __builtin_bswap64(chars16_23), chars24_25 = __builtin_bswap16(chars24_25);
    }
    std::memcpy(data_, &chars0_7, 8);
    std::memcpy(data_ + 8, &chars8_15, 8);
    std::memcpy(data_ + 16, &chars16_23, 8);
    std::memcpy(data_ + 24, &chars24_25, 2);
    data_[capacity] = '\0';
    size_ = static_cast<std::uint8_t>(capacity);
  }

  std::string_view view() const { return {data_, size_}; }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor): reads as text
  std::string str() const { return std::string(view()); }
  operator std::string() const { return str(); }  // NOLINT(google-explicit-constructor)

  friend bool operator==(const Id& a, const Id& b) {
    if (a.size_ == capacity && b.size_ == capacity) {
      return a.word(0) == b.word(0) && a.word(8) == b.word(8) && a.word(16) == b.word(16) && a.tail() == b.tail();
    }
    return a.view() == b.view();
  }
  // Two full-length ids (every id the core makes) compare as three big-endian words and a tail:
  // the same order as their text, without a call to memcmp (the id index compares ~17 per lookup).
  friend std::strong_ordering operator<=>(const Id& a, const Id& b) {
    if (a.size_ == capacity && b.size_ == capacity) {
      for (std::size_t at : {0, 8, 16}) {
        if (const auto wa = a.word(at), wb = b.word(at); wa != wb) return wa <=> wb;
      }
      return a.tail() <=> b.tail();
    }
    return a.view() <=> b.view();
  }
  friend bool operator==(const Id& a, std::string_view b) { return a.view() == b; }
  friend std::strong_ordering operator<=>(const Id& a, std::string_view b) { return a.view() <=> b; }

 private:
  // Eight characters from `at`, most significant first (text order).
  std::uint64_t word(std::size_t at) const {
    std::uint64_t w;
    std::memcpy(&w, data_ + at, sizeof w);
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
    return w;
  }
  std::uint32_t tail() const {  // characters 24 and 25
    return static_cast<std::uint32_t>(static_cast<unsigned char>(data_[24])) << 8 | static_cast<unsigned char>(data_[25]);
  }

  char data_[capacity + 1] = {};
  std::uint8_t size_ = 0;
};

inline std::string operator+(const std::string& a, const Id& b) { return a + std::string(b.view()); }
inline std::string operator+(const char* a, const Id& b) { return a + std::string(b.view()); }
inline std::string operator+(const Id& a, std::string_view b) { return std::string(a.view()).append(b); }
inline std::string operator+(const Id& a, const char* b) { return std::string(a.view()).append(b); }
inline std::string operator+(std::string&& a, const Id& b) { return std::move(a.append(b.view())); }

inline std::ostream& operator<<(std::ostream& os, const Id& id) { return os << id.view(); }

}  // namespace router::core
