#include "escalation_slots.hpp"

namespace router::core {

namespace {
constexpr std::align_val_t line{64};
constexpr std::size_t chunk_bytes = EscalationSlots::chunk_size * EscalationSlots::stride;
}  // namespace

void EscalationSlots::emplace_back() { resize(size() + 1); }

void EscalationSlots::resize(std::size_t count) {
  if (count <= live_.size()) return;
  const std::size_t chunks = (count + chunk_size - 1) >> chunk_shift;
  chunks_.reserve(chunks);
  while (chunks_.size() < chunks) chunks_.push_back(static_cast<std::byte*>(::operator new(chunk_bytes, line)));
  live_.resize(count, 0);
}

Escalation& EscalationSlots::emplace(std::size_t index) {
  // Default-initialised, not value-initialised: every member has its initialiser, and the inline
  // rooms of the trail and messages need no zeroing (nothing reads past what was written).
  Escalation* esc = ::new (static_cast<void*>(slot_bytes(index))) Escalation;
  live_[index] = 1;
  return *esc;
}

Escalation& EscalationSlots::emplace(std::size_t index, Escalation&& from) {
  Escalation* esc = ::new (static_cast<void*>(slot_bytes(index))) Escalation(std::move(from));
  live_[index] = 1;
  return *esc;
}

void EscalationSlots::reset(std::size_t index) noexcept {
  if (live_[index] == 0) return;
  object(index)->~Escalation();
  live_[index] = 0;
}

void EscalationSlots::clear() noexcept {
  for (std::size_t i = 0; i < live_.size(); ++i) reset(i);
  for (std::byte* chunk : chunks_) ::operator delete(chunk, line);
  chunks_.clear();
  live_.clear();
}

}  // namespace router::core
