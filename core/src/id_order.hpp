// The kept escalations in id order (creation order: ULIDs sort by time), for listings, snapshots and
// restore. Ids are made in increasing order, so a new one is appended; a dropped one leaves a hole
// (its id stays, so the order can still be searched) until its segment is tidied.
//
// Entries live in segments of up to 1,024, oldest first. An entry's place, which the caller keeps
// (SlotLinks::id_order), is its segment's number and its offset in it: appends and drops never move
// other entries. A segment whose entries have all been dropped is freed when it is the oldest; one
// whose live entries fall to a quarter of its entries (neither the oldest nor the newest) is
// compacted on its own, and only its live entries get new places. One flat array with holes, compacted whole when
// the holes outnumbered the rest, moved ~200,000 entries and renumbered every kept escalation in one
// input (a pause of 1.6-2.6 ms every ~112,000 closes at the default window; BENCHMARKS.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string_view>
#include <utility>
#include <vector>

#include "router/core/id.hpp"

namespace router::core {

class IdOrder {
 public:
  struct Entry {
    Id id;
    std::uint32_t slot;  // hole: dropped
  };
  static constexpr std::uint32_t hole = 0xFFFFFFFFu;
  static constexpr std::uint32_t offset_bits = 10;
  static constexpr std::uint32_t segment_size = 1u << offset_bits;
  // Segment numbers wrap at 2^22; places stay unique while fewer than that many segments are kept.
  // An escalation kept open while two billion others are created after it (the oldest segment stays
  // while it does) would come near that: the order is then rebuilt, once, in fresh segments.
  static constexpr std::uint32_t number_mask = (1u << (32 - offset_bits)) - 1;

  IdOrder() = default;
  explicit IdOrder(std::size_t max_segments) : max_segments_(max_segments) {}  // tests: a lower limit

  // Appends `id`, above every id in the order, for `slot`; returns its place. An id that is not above
  // the last (never made by the core, but cheap to keep right) is put in its place: the order is then
  // rebuilt, and `moved(slot, place)` is called for every live entry, that one included.
  template <typename Moved>
  std::uint32_t add(const Id& id, std::uint32_t slot, Moved&& moved) {
    if (!segments_.empty() && !segments_.back().entries.empty() && !(segments_.back().entries.back().id < id)) {
      return insert_rebuilding(id, slot, moved);
    }
    const bool needs_segment = segments_.empty() || segments_.back().entries.size() == segment_size;
    if (needs_segment && segments_.size() >= max_segments_ && live_ < max_segments_ / 2 * segment_size) {
      return insert_rebuilding(id, slot, moved);  // mostly holes and emptied segments: start afresh
    }
    return push(Entry{id, slot});
  }

  // Drops the entry at `place` (as returned by add or moved). May tidy its segment: `moved(slot,
  // place)` for each live entry of that segment that gets a new place.
  template <typename Moved>
  void erase(std::uint32_t place, Moved&& moved) {
    const std::size_t s = segment_index(place);
    Segment& seg = segments_[s];
    seg.entries[place & (segment_size - 1)].slot = hole;
    --seg.live;
    --live_;
    if (s == 0 && seg.live == 0) {
      while (!segments_.empty() && segments_.front().live == 0) {
        segments_.pop_front();
        front_number_ = (front_number_ + 1) & number_mask;
      }
      if (segments_.empty()) front_number_ = 0;
      return;
    }
    // Neither the newest (appends go there) nor the oldest (drops mostly come in creation order, so it
    // is about to be freed; kept by a long-open escalation, it costs at most one segment's room).
    if (s != 0 && s + 1 < segments_.size() && seg.live * 4 <= seg.entries.size() && seg.entries.size() >= 64) {
      compact(s, moved);
    }
  }

  // The entry at `place`, or null if there is none (for a cache hint).
  const Entry* find(std::uint32_t place) const {
    const std::size_t s = segment_index(place);
    if (s >= segments_.size()) return nullptr;
    const std::size_t offset = place & (segment_size - 1);
    return offset < segments_[s].entries.size() ? &segments_[s].entries[offset] : nullptr;
  }

  std::size_t live() const { return live_; }
  bool empty() const { return live_ == 0; }
  std::size_t segment_count() const { return segments_.size(); }
  std::size_t entry_count() const {
    std::size_t n = 0;
    for (const Segment& seg : segments_) n += seg.entries.size();
    return n;
  }

  void clear() {
    segments_.clear();
    front_number_ = 0;
    live_ = 0;
  }

  // Replaces the order with `sorted` (increasing ids, no holes); `moved(slot, place)` for each.
  template <typename Moved>
  void assign(const std::vector<Entry>& sorted, Moved&& moved) {
    clear();
    for (const Entry& e : sorted) moved(e.slot, push(e));
  }

  // Every entry, holes included, oldest first: f(place, entry).
  template <typename F>
  void for_each_entry(F&& f) const {
    for (std::size_t s = 0; s < segments_.size(); ++s) {
      const auto& entries = segments_[s].entries;
      for (std::size_t i = 0; i < entries.size(); ++i) f(place_of(s, i), entries[i]);
    }
  }

  // The live entries' slots, oldest first: f(id, slot).
  template <typename F>
  void for_each_live(F&& f) const {
    for (const Segment& seg : segments_) {
      for (const Entry& e : seg.entries) {
        if (e.slot != hole) f(e.id, e.slot);
      }
    }
  }

  // The live entries below `before` (all of them if it is empty), newest first: f(slot) until it
  // returns false.
  template <typename F>
  void walk_back(std::string_view before, F&& f) const {
    std::size_t s = segments_.size();
    std::size_t end = 0;  // entries of segment s-1 to walk (set below)
    if (before.empty()) {
      if (s == 0) return;
      end = segments_[s - 1].entries.size();
    } else {
      // The last segment whose first id is below `before` holds the boundary: every later one starts at
      // or above it (segments are in order, and a segment's entries are never below its first id).
      const auto below = [before](const Id& id) { return std::string_view(id) < before; };
      s = static_cast<std::size_t>(std::partition_point(segments_.begin(), segments_.end(),
                                                        [&](const Segment& seg) { return below(seg.first_id); }) -
                                   segments_.begin());
      if (s == 0) return;
      const auto& entries = segments_[s - 1].entries;
      end = static_cast<std::size_t>(
          std::partition_point(entries.begin(), entries.end(), [&](const Entry& e) { return below(e.id); }) -
          entries.begin());
    }
    for (; s > 0; --s) {
      const auto& entries = segments_[s - 1].entries;
      for (std::size_t i = end; i > 0; --i) {
        if (entries[i - 1].slot != hole && !f(entries[i - 1].slot)) return;
      }
      if (s > 1) end = segments_[s - 2].entries.size();
    }
  }

  // For the invariant checker: each segment's live count matches its entries, and the total.
  bool counts_consistent() const {
    std::size_t total = 0;
    for (const Segment& seg : segments_) {
      std::size_t live = 0;
      for (const Entry& e : seg.entries) live += e.slot != hole;
      if (live != seg.live || seg.entries.size() > segment_size) return false;
      if (!seg.entries.empty() && seg.entries.front().id < seg.first_id) return false;
      total += live;
    }
    return total == live_;
  }

 private:
  struct Segment {
    std::vector<Entry> entries;
    std::uint32_t live = 0;
    Id first_id;  // of its first entry ever: a lower bound of its ids, kept when its entries go
  };

  std::size_t segment_index(std::uint32_t place) const { return ((place >> offset_bits) - front_number_) & number_mask; }
  std::uint32_t place_of(std::size_t segment, std::size_t offset) const {
    return static_cast<std::uint32_t>(((front_number_ + segment) & number_mask) << offset_bits | offset);
  }

  // Appends `e` after every entry, in a new segment if the newest is full; returns its place.
  std::uint32_t push(const Entry& e) {
    if (segments_.empty() || segments_.back().entries.size() == segment_size) {
      Segment seg;
      seg.entries.reserve(segment_size);
      seg.first_id = e.id;
      segments_.push_back(std::move(seg));
    }
    Segment& back = segments_.back();
    back.entries.push_back(e);
    ++back.live;
    ++live_;
    return place_of(segments_.size() - 1, back.entries.size() - 1);
  }

  template <typename Moved>
  void compact(std::size_t s, Moved& moved) {
    auto& entries = segments_[s].entries;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].slot == hole) continue;
      if (kept != i) {
        entries[kept] = entries[i];
        moved(entries[kept].slot, place_of(s, kept));
      }
      ++kept;
    }
    entries.resize(kept);
    entries.shrink_to_fit();
  }

  template <typename Moved>
  std::uint32_t insert_rebuilding(const Id& id, std::uint32_t slot, Moved& moved) {
    std::vector<Entry> all;
    all.reserve(live_ + 1);
    bool placed = false;
    for (const Segment& seg : segments_) {
      for (const Entry& e : seg.entries) {
        if (e.slot == hole) continue;
        if (!placed && id < e.id) {
          all.push_back(Entry{id, slot});
          placed = true;
        }
        all.push_back(e);
      }
    }
    if (!placed) all.push_back(Entry{id, slot});
    std::uint32_t result = 0;
    assign(all, [&](std::uint32_t entry_slot, std::uint32_t place) {
      if (entry_slot == slot) result = place;
      moved(entry_slot, place);
    });
    return result;
  }

  std::deque<Segment> segments_;
  std::size_t max_segments_ = number_mask / 2;
  std::uint32_t front_number_ = 0;  // the number of segments_.front()
  std::size_t live_ = 0;
};

}  // namespace router::core
