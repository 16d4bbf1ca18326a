// An open-addressing index from a key's hash to a 32-bit value (an escalation slot). The
// keys live in the objects the values name; the caller hashes a key and says, given a value,
// whether its object has that key. A slot is 8 bytes (32 bits of the hash, the value), so a lookup
// reads one cache line of the table and then the object it finds: the object the caller wanted
// anyway. Linear probing, at most half full; erasing shifts the following entries back (no
// tombstones), so lookups never slow down with churn; the table halves when it is an eighth full,
// so a burst's memory goes back once it has passed.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace router::core {

// 0-7 bytes as one word without a call to memcpy: 4-7 as two 4-byte reads that may overlap, 1-3 as
// first, middle and last byte. With the length, the word determines the bytes.
inline std::uint64_t short_word(const char* p, std::size_t n) noexcept {
  if (n >= 4) {
    std::uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    return first | std::uint64_t{last} << 32;
  }
  if (n > 0) {
    return static_cast<unsigned char>(p[0]) | std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
           std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16;
  }
  return 0;
}

// A 64-bit hash of text, eight bytes at a time (ids and conversation ids are 10-40 characters).
inline std::uint64_t hash_text(std::string_view text, std::uint64_t seed = 0) {
  constexpr std::uint64_t k = 0x9E3779B97F4A7C15ULL;
  std::uint64_t h = (seed ^ text.size()) * k;
  std::size_t at = 0;
  for (; at + 8 <= text.size(); at += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + at, 8);
    h = (h ^ w) * k;
    h ^= h >> 29;
  }
  h = (h ^ short_word(text.data() + at, text.size() - at)) * k;  // the last 0-7 bytes (length mixed in above)
  return h ^ (h >> 32);
}

class FlatIndex {
 public:
  static constexpr std::uint32_t none = 0xFFFFFFFFu;

  // The value whose object `matches`, or none.
  template <typename Matches>
  std::uint32_t find(std::uint64_t hash, Matches&& matches) const {
    if (slots_.empty()) return none;
    const std::uint32_t tag = tag_of(hash);
    for (std::size_t at = home(tag);; at = (at + 1) & mask_) {
      const Slot& slot = slots_[at];
      if (slot.tag == 0) return none;
      if (slot.tag == tag && matches(slot.value)) return slot.value;
    }
  }

  // Adds `value` under `hash`; the caller knows its key is not in the index yet.
  void insert(std::uint64_t hash, std::uint32_t value) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    place(Slot{tag_of(hash), value});
    ++count_;
  }

  // Removes the entry whose object `matches`; false if there is none.
  template <typename Matches>
  bool erase(std::uint64_t hash, Matches&& matches) {
    if (slots_.empty()) return false;
    const std::uint32_t tag = tag_of(hash);
    std::size_t at = home(tag);
    for (;; at = (at + 1) & mask_) {
      const Slot& slot = slots_[at];
      if (slot.tag == 0) return false;
      if (slot.tag == tag && matches(slot.value)) break;
    }
    // Backward shift: move each following entry of the run into the hole when its home allows.
    std::size_t hole = at;
    for (std::size_t next = (hole + 1) & mask_; slots_[next].tag != 0; next = (next + 1) & mask_) {
      const std::size_t want = home(slots_[next].tag);
      // `next` may move to `hole` unless its home lies cyclically in (hole, next].
      const bool stays = hole <= next ? (hole < want && want <= next) : (hole < want || want <= next);
      if (!stays) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = Slot{};
    --count_;
    // Shrink when an eighth full (a burst has passed): at most a quarter full after, so the next
    // doubling is as far away as the last halving.
    if (count_ * 8 < slots_.size() && slots_.size() > 16) rehash(slots_.size() / 2);
    return true;
  }

  // The slot probing starts from for `hash` in a table of `capacity` slots (a power of two, 16 or
  // more; the table starts at 16 and doubles). For tests that need keys to collide in given places.
  static std::size_t home_in(std::uint64_t hash, std::size_t capacity) {
    unsigned bits = 0;
    while ((std::size_t{1} << bits) < capacity) ++bits;
    return static_cast<std::uint32_t>(tag_of(hash) * 0x9E3779B1u) >> (32 - bits);
  }

  // Asks the CPU for the table line a lookup of `hash` starts at, ahead of the lookup (a hint: it
  // changes nothing, and a wrong guess costs one wasted load).
  void prefetch(std::uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(tag_of(hash))]);
  }

  std::size_t size() const { return count_; }
  std::size_t capacity() const { return slots_.size(); }
  void clear() {
    slots_.clear();
    mask_ = 0;
    count_ = 0;
  }
  // Calls f(value) for every entry, in no particular order.
  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& slot : slots_) {
      if (slot.tag != 0) f(slot.value);
    }
  }

 private:
  struct Slot {
    std::uint32_t tag = 0;  // 0: empty; else 32 bits of the hash, never 0
    std::uint32_t value = 0;
  };

  static std::uint32_t tag_of(std::uint64_t hash) {
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    return tag == 0 ? 1 : tag;
  }
  // The slot a tag starts probing from: its bits multiplied out (Fibonacci hashing), so keys whose
  // hashes differ only in low bits still spread.
  std::size_t home(std::uint32_t tag) const { return (static_cast<std::uint32_t>(tag * 0x9E3779B1u) >> shift_) & mask_; }

  void place(Slot s) {
    std::size_t at = home(s.tag);
    while (slots_[at].tag != 0) at = (at + 1) & mask_;
    slots_[at] = s;
  }

  void grow() { rehash(slots_.empty() ? 16 : slots_.size() * 2); }

  void rehash(std::size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 32;
    for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;  // 32 - log2(capacity)
    for (const Slot& s : old) {
      if (s.tag != 0) place(s);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 32;
  std::size_t count_ = 0;
};

}  // namespace router::core
