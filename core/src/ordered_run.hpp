// Internal: an ordered set of (key, value) pairs kept in sorted chunks, with the rank of a key (how
// many entries are before it) when Ranked.
//
// The waiting escalations of a queue and of each of its eligibility classes are kept in it. Almost
// every change is near one end (an arrival goes after the others of its priority, a pull takes the
// head of a class), a queue holds from a few to a million entries, and the position of an
// escalation is asked for each time one is queued. A balanced tree with ranks in its nodes (what
// this replaced) allocates a node per entry, and an insert, an erase or a rank walks a path of
// scattered nodes; here a change moves entries within one chunk, allocates only when a chunk
// splits, and the keys searched are contiguous: the last key of each chunk in one array, then the
// chunk. A chunk grows and shrinks at both ends, so taking the head moves nothing.
//
// Chunks hold 63 entries (2 KiB) while the run is small and up to 2,047 (64 KiB) in a run of a
// million: a new chunk's capacity is about the square root of the run's size, so the number of
// chunks stays near the number of entries per chunk, and the work on the chunk list (the search,
// the Fenwick tree, the vectors' moves when a chunk comes or goes) stays small at any size.
//
// Rank: a Fenwick tree over the chunks' sizes, rebuilt when a chunk splits, merges or goes, updated
// in O(log chunks) otherwise.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace router::core {

template <typename Key, typename Value, bool Ranked>
class OrderedRun {
 public:
  // Plain and trivially copyable, so entries move by memmove (structured bindings work as on a pair).
  struct Entry {
    Key first;
    Value second;
  };
  static_assert(std::is_trivially_copyable_v<Key> && std::is_trivially_copyable_v<Value>);
  // Capacities of chunks, in entries: 2^k - 1, so that with the header a chunk is a 2^k * 32-byte
  // allocation (2 KiB to 64 KiB).
  static constexpr std::uint32_t min_chunk_capacity = 63;
  static constexpr std::uint32_t max_chunk_capacity = 2047;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using pointer = const Entry*;
    using reference = const Entry&;
    const_iterator() = default;
    const_iterator(const OrderedRun* run, std::size_t chunk) : run_(run), chunk_(chunk) {
      if (chunk_ < run_->chunks_.size()) at_ = run_->chunks_[chunk_]->begin;
    }
    reference operator*() const { return run_->chunks_[chunk_]->items()[at_]; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      if (++at_ == run_->chunks_[chunk_]->end) {
        ++chunk_;
        at_ = chunk_ < run_->chunks_.size() ? run_->chunks_[chunk_]->begin : 0;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const const_iterator& o) const { return chunk_ == o.chunk_ && at_ == o.at_; }

   private:
    const OrderedRun* run_ = nullptr;
    std::size_t chunk_ = 0;
    std::uint32_t at_ = 0;
  };

  OrderedRun() = default;
  OrderedRun(OrderedRun&&) noexcept = default;
  OrderedRun& operator=(OrderedRun&&) noexcept = default;
  OrderedRun(const OrderedRun&) = delete;
  OrderedRun& operator=(const OrderedRun&) = delete;

  std::size_t size() const { return size_; }
  std::size_t chunk_count() const { return chunks_.size(); }
  bool empty() const { return size_ == 0; }
  const_iterator begin() const { return size_ == 0 ? end() : const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, chunks_.size()); }
  const Entry& front() const { return chunks_.front()->items()[chunks_.front()->begin]; }  // not empty()

  // Adds (key, value); a key already present is left as it is (returns false).
  bool insert(const Key& key, const Value& value) {
    if (chunks_.empty()) {
      chunks_.push_back(make_chunk(min_chunk_capacity));
      last_.push_back(key);
      if constexpr (Ranked) fenwick_.assign(1, 0);
    }
    // After every key with room at the end (an arrival behind the others): no search.
    if (Chunk& back = *chunks_.back(); back.end < back.capacity && (size_ == 0 || last_.back() < key)) {
      back.items()[back.end++] = Entry{key, value};
      last_.back() = key;
      ++size_;
      if constexpr (Ranked) {
        add(chunks_.size() - 1, 1);
        remember_rank(key, size_ - 1);
      }
      return true;
    }
    // Before every key with room at the front (an arrival that goes first): no search.
    if (Chunk& head = *chunks_.front(); head.begin > 0 && key < front().first) {
      head.items()[--head.begin] = Entry{key, value};
      ++size_;
      if constexpr (Ranked) {
        add(0, 1);
        remember_rank(key, 0);
      }
      return true;
    }
    std::size_t c = chunk_for(key);
    if (c == chunks_.size()) c = chunks_.size() - 1;  // after every key: into the last chunk
    Chunk* chunk = chunks_[c].get();
    if (chunk->count() == chunk->capacity) {
      split(c);
      return insert(key, value);  // into one of the two halves
    }
    Entry* items = chunk->items();
    std::uint32_t at =
        static_cast<std::uint32_t>(std::upper_bound(items + chunk->begin, items + chunk->end, key,
                                                    [](const Key& k, const Entry& e) { return k < e.first; }) -
                                   items);
    if (at != chunk->begin && !(items[at - 1].first < key)) return false;  // equal key
    // Open a gap at `at` by moving the shorter side that has room.
    const bool room_after = chunk->end < chunk->capacity;
    const bool room_before = chunk->begin > 0;
    if (room_after && (!room_before || chunk->end - at <= at - chunk->begin)) {
      std::memmove(static_cast<void*>(items + at + 1), items + at, (chunk->end - at) * sizeof(Entry));
      ++chunk->end;
    } else {
      std::memmove(static_cast<void*>(items + chunk->begin - 1), items + chunk->begin,
                   (at - chunk->begin) * sizeof(Entry));
      --chunk->begin;
      --at;
    }
    items[at] = Entry{key, value};
    last_[c] = items[chunk->end - 1].first;
    ++size_;
    if constexpr (Ranked) {
      add(c, 1);
      remember_rank(key, prefix(c) + (at - chunk->begin));
    }
    return true;
  }

  // Removes the entry of key; false when there is none.
  bool erase(const Key& key) {
    if (size_ == 0) return false;
    newest_valid_ = false;
    // The first entry (a class's head, taken by a pull): no search.
    const bool first = !(front().first < key) && !(key < front().first);
    const std::size_t c = first ? 0 : chunk_for(key);
    if (c == chunks_.size()) return false;
    Chunk* chunk = chunks_[c].get();
    Entry* items = chunk->items();
    const std::uint32_t at = first ? chunk->begin : lower_bound_in(*chunk, key);
    if (at == chunk->end || key < items[at].first) return false;
    // Close the gap from the shorter side: taking the head (a pull) moves nothing.
    if (at - chunk->begin < chunk->end - at - 1) {
      std::memmove(static_cast<void*>(items + chunk->begin + 1), items + chunk->begin,
                   (at - chunk->begin) * sizeof(Entry));
      ++chunk->begin;
    } else {
      std::memmove(static_cast<void*>(items + at), items + at + 1, (chunk->end - at - 1) * sizeof(Entry));
      --chunk->end;
    }
    --size_;
    if (chunk->count() == 0 && chunks_.size() == 1) {
      // The last chunk stays: a line that empties and fills again (a queue whose agents keep up)
      // allocates nothing.
      chunk->begin = chunk->end = 0;
      if constexpr (Ranked) add(c, -1);
      return true;
    }
    if (chunk->count() == 0) {
      chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));
      last_.erase(last_.begin() + static_cast<std::ptrdiff_t>(c));
      if constexpr (Ranked) rebuild();
      return true;
    }
    last_[c] = items[chunk->end - 1].first;
    if constexpr (Ranked) add(c, -1);
    // A chunk a quarter full joins its successor when both fit in half a chunk: no long run of
    // near-empty chunks after erases in the middle.
    if (chunk->count() < chunk->capacity / 4 && c + 1 < chunks_.size() &&
        chunk->count() + chunks_[c + 1]->count() <= chunk->capacity / 2) {
      merge_next(c);
    }
    return true;
  }

  bool contains(const Key& key) const { return find_value(key) != nullptr; }

  // The value of key, or nullptr.
  const Value* find_value(const Key& key) const {
    const std::size_t c = chunk_for(key);
    if (c == chunks_.size()) return nullptr;
    const Chunk* chunk = chunks_[c].get();
    const std::uint32_t at = lower_bound_in(*chunk, key);
    if (at == chunk->end || key < chunk->items()[at].first) return nullptr;
    return &chunk->items()[at].second;
  }

  // How many entries have a key before key.
  // The rank of the entry added last is kept until the next change (a queued escalation's
  // position is asked for right after it is queued): no search then.
  std::size_t rank(const Key& key) const requires Ranked {
    if (newest_valid_ && !(key < newest_) && !(newest_ < key)) return newest_rank_;
    const std::size_t c = chunk_for(key);
    if (c == chunks_.size()) return size_;
    return prefix(c) + (lower_bound_in(*chunks_[c], key) - chunks_[c]->begin);
  }

  // For the invariant checks: chunks in order, none empty or over capacity, last keys right, and
  // the Fenwick tree adds up.
  bool consistent() const {
    if (chunks_.size() != last_.size()) return false;
    std::size_t total = 0;
    const Key* previous = nullptr;
    for (std::size_t c = 0; c < chunks_.size(); ++c) {
      const Chunk& chunk = *chunks_[c];
      if (chunk.end > chunk.capacity || chunk.begin > chunk.end) return false;
      if (chunk.begin == chunk.end) {
        if (chunks_.size() != 1 || size_ != 0) return false;  // only a run's last chunk stays empty
        continue;
      }
      for (std::uint32_t i = chunk.begin; i < chunk.end; ++i) {
        if (previous != nullptr && !(*previous < chunk.items()[i].first)) return false;
        previous = &chunk.items()[i].first;
      }
      const Key& last = chunk.items()[chunk.end - 1].first;
      if (last_[c] < last || last < last_[c]) return false;
      if constexpr (Ranked) {
        std::size_t through = 0;
        for (std::size_t i = c + 1; i > 0; i -= i & (~i + 1)) through += fenwick_[i - 1];
        if (through != total + chunk.count()) return false;
      }
      total += chunk.count();
    }
    return total == size_;
  }

 private:
  // Entries items()[begin, end) of capacity: a chunk grows and shrinks at both ends. The entries
  // follow the header in the same allocation; only those in [begin, end) are ever read.
  struct alignas(16) Chunk {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::uint32_t capacity = 0;
    std::uint32_t count() const { return end - begin; }
    Entry* items() { return reinterpret_cast<Entry*>(reinterpret_cast<char*>(this) + sizeof(Chunk)); }
    const Entry* items() const {
      return reinterpret_cast<const Entry*>(reinterpret_cast<const char*>(this) + sizeof(Chunk));
    }
  };
  struct FreeChunk {
    void operator()(Chunk* chunk) const {
      const std::size_t bytes = sizeof(Chunk) + std::size_t{chunk->capacity} * sizeof(Entry);
      chunk->~Chunk();
#ifdef __cpp_sized_deallocation
      ::operator delete(static_cast<void*>(chunk), bytes);
#else  // clang before 19 without -fsized-deallocation (the fuzzers' build)
      static_cast<void>(bytes);
      ::operator delete(static_cast<void*>(chunk));
#endif
    }
  };
  using ChunkPtr = std::unique_ptr<Chunk, FreeChunk>;
  static_assert(sizeof(Chunk) % alignof(Entry) == 0);

  static ChunkPtr make_chunk(std::uint32_t capacity) {
    void* bytes = ::operator new (sizeof(Chunk) + std::size_t{capacity} * sizeof(Entry));
    ChunkPtr chunk(new (bytes) Chunk{});
    chunk->capacity = capacity;
    return chunk;
  }

  // The capacity for a new chunk of a run of `size` entries: about its square root.
  static std::uint32_t capacity_for(std::size_t size) {
    std::uint32_t capacity = min_chunk_capacity;
    while (capacity < max_chunk_capacity && std::size_t{capacity + 1} * (capacity + 1) < size)
      capacity = capacity * 2 + 1;
    return capacity;
  }

  // The position in chunk of the first entry whose key is not before key (chunk.end: none).
  static std::uint32_t lower_bound_in(const Chunk& chunk, const Key& key) {
    const Entry* items = chunk.items();
    const Entry* at = std::lower_bound(items + chunk.begin, items + chunk.end, key,
                                       [](const Entry& e, const Key& k) { return e.first < k; });
    return static_cast<std::uint32_t>(at - items);
  }

  // The first chunk whose last key is not before key (chunks_.size(): after every key).
  std::size_t chunk_for(const Key& key) const {
    return static_cast<std::size_t>(std::lower_bound(last_.begin(), last_.end(), key) - last_.begin());
  }

  // A full chunk into two halves, each in a new chunk of the capacity for the run's size now.
  void split(std::size_t c) {
    const Chunk& full = *chunks_[c];
    const std::uint32_t capacity = std::max(full.capacity, capacity_for(size_ + 1));
    ChunkPtr lower = make_chunk(capacity);
    ChunkPtr upper = make_chunk(capacity);
    const std::uint32_t keep = full.count() / 2;
    const std::uint32_t moved = full.count() - keep;
    std::memcpy(static_cast<void*>(lower->items()), full.items() + full.begin, keep * sizeof(Entry));
    lower->end = keep;
    std::memcpy(static_cast<void*>(upper->items()), full.items() + full.begin + keep, moved * sizeof(Entry));
    upper->end = moved;
    const Key lower_last = lower->items()[keep - 1].first;
    chunks_[c] = std::move(lower);
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(c) + 1, std::move(upper));
    last_.insert(last_.begin() + static_cast<std::ptrdiff_t>(c), lower_last);
    if constexpr (Ranked) rebuild();
  }

  void merge_next(std::size_t c) {
    Chunk& into = *chunks_[c];
    const Chunk& next = *chunks_[c + 1];
    std::memmove(static_cast<void*>(into.items()), into.items() + into.begin, into.count() * sizeof(Entry));
    into.end = into.count();
    into.begin = 0;
    std::memcpy(static_cast<void*>(into.items() + into.end), next.items() + next.begin, next.count() * sizeof(Entry));
    into.end += next.count();
    last_[c] = into.items()[into.end - 1].first;
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c) + 1);
    last_.erase(last_.begin() + static_cast<std::ptrdiff_t>(c) + 1);
    if constexpr (Ranked) rebuild();
  }

  void add(std::size_t c, int delta) {
    for (std::size_t i = c + 1; i <= fenwick_.size(); i += i & (~i + 1)) {
      fenwick_[i - 1] = static_cast<std::uint32_t>(static_cast<int>(fenwick_[i - 1]) + delta);
    }
  }

  // Entries in the chunks before chunk c.
  std::size_t prefix(std::size_t c) const {
    std::size_t before = 0;
    for (std::size_t i = c; i > 0; i -= i & (~i + 1)) before += fenwick_[i - 1];
    return before;
  }

  void remember_rank(const Key& key, std::size_t rank) {
    newest_ = key;
    newest_rank_ = rank;
    newest_valid_ = true;
  }

  void rebuild() {
    fenwick_.assign(chunks_.size(), 0);
    for (std::size_t i = 1; i <= fenwick_.size(); ++i) {
      fenwick_[i - 1] += chunks_[i - 1]->count();
      const std::size_t parent = i + (i & (~i + 1));
      if (parent <= fenwick_.size()) fenwick_[parent - 1] += fenwick_[i - 1];
    }
  }

  std::vector<ChunkPtr> chunks_;
  std::vector<Key> last_;               // the last key of each chunk, for the search
  std::vector<std::uint32_t> fenwick_;  // Ranked: sizes of the chunks, as a Fenwick tree
  std::size_t size_ = 0;
  // Ranked: the key added last and its rank, while nothing else changed (rank()).
  Key newest_{};
  std::size_t newest_rank_ = 0;
  bool newest_valid_ = false;
};

}  // namespace router::core
