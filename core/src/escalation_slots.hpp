// The router's escalations by slot, in chunks that never move.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "router/core/model.hpp"

namespace router::core {

// Escalations live in chunks of `chunk_size` slots, each chunk one aligned block. A slot's address
// is computed from its number: finding an escalation reads no pointer, so a lookup that misses the
// cache waits once (for the object), not twice (for a pointer, then the object), and a hint can ask
// for an escalation's lines without first reading where it is. An escalation is made and dropped in
// place, with no allocation; a slot left empty is reused by the next one made (the router's free
// list). Whether a slot holds an escalation is one byte per slot, apart.
class EscalationSlots {
 public:
  static constexpr std::size_t chunk_shift = 10;
  static constexpr std::size_t chunk_size = std::size_t{1} << chunk_shift;  // 1,024 slots, 896 KiB
  // Slots start on a cache line, so an escalation's fields fall in the lines its layout intends.
  static constexpr std::size_t stride = (sizeof(Escalation) + 63) / 64 * 64;

  EscalationSlots() = default;
  EscalationSlots(const EscalationSlots&) = delete;
  EscalationSlots& operator=(const EscalationSlots&) = delete;
  ~EscalationSlots() { clear(); }

  std::size_t size() const noexcept { return live_.size(); }
  bool empty() const noexcept { return live_.empty(); }

  // The escalation in slot `index` (< size()), or null when the slot is empty.
  Escalation* operator[](std::size_t index) noexcept { return live_[index] != 0 ? object(index) : nullptr; }
  const Escalation* operator[](std::size_t index) const noexcept {
    return live_[index] != 0 ? object(index) : nullptr;
  }
  // Where slot `index` keeps its escalation, whether it holds one or not: for cache hints only.
  const void* address(std::size_t index) const noexcept { return slot_bytes(index); }

  // One more slot, empty.
  void emplace_back();
  // Slots up to `count`, the new ones empty; never fewer than now.
  void resize(std::size_t count);
  // A new escalation in slot `index`, which must be empty: default-made, or moved from `from`.
  Escalation& emplace(std::size_t index);
  Escalation& emplace(std::size_t index, Escalation&& from);
  // Drops the escalation in slot `index`, if any; the slot stays, empty.
  void reset(std::size_t index) noexcept;
  // Drops every escalation and every slot.
  void clear() noexcept;

 private:
  std::byte* slot_bytes(std::size_t index) const noexcept {
    return chunks_[index >> chunk_shift] + (index & (chunk_size - 1)) * stride;
  }
  Escalation* object(std::size_t index) const noexcept {
    return std::launder(reinterpret_cast<Escalation*>(slot_bytes(index)));
  }

  std::vector<std::byte*> chunks_;  // each chunk_size * stride bytes, line-aligned
  std::vector<std::uint8_t> live_;  // per slot: 1 while it holds an escalation
};

}  // namespace router::core
