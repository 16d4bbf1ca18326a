// EscalationSlots (the router's escalations by slot, in chunks that never move): slots start empty,
// hold what is made in them, keep their address while more chunks are added, start on a cache line,
// and free what their escalations own when dropped (ASan's leak check sees a miss).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "escalation_slots.hpp"

namespace router::core {
namespace {

// An escalation that owns heap memory in every kind of member that can: strings, lists, and a trail
// and messages past their inline rooms.
void fill(Escalation& esc, std::uint32_t n) {
  esc.id = Id::of("slot-" + std::to_string(n));
  esc.reason = std::string(40, 'r') + std::to_string(n);
  esc.skills = {n, n + 1, n + 2};
  esc.contact.id = "customer-with-a-long-identifier-" + std::to_string(n);
  for (int i = 0; i < 6; ++i) {
    esc.trail.push_back(DecisionParts{.at = n, .action = "waiting", .queue = "a-queue-with-a-rather-long-name",
                                      .words = "words long enough to leave the inline room in a few entries"});
  }
  for (int i = 0; i < 6; ++i) esc.messages.push_back(MessageRole::customer, "", std::string(60, 'm'), n);
}

TEST(EscalationSlots, SlotsStartEmptyAndHoldWhatIsMadeInThemUntilDropped) {
  EscalationSlots slots;
  EXPECT_TRUE(slots.empty());
  slots.resize(5);
  ASSERT_EQ(slots.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(slots[i], nullptr);
  Escalation& made = slots.emplace(3);
  EXPECT_EQ(made.status, EscalationStatus::queued);  // made as a default escalation
  EXPECT_EQ(made.version, 1u);
  EXPECT_TRUE(made.trail.empty());
  fill(made, 3);
  ASSERT_EQ(slots[3], &made);
  EXPECT_EQ(slots[3]->id, Id::of("slot-3"));
  EXPECT_EQ(slots[2], nullptr);
  slots.reset(3);
  EXPECT_EQ(slots[3], nullptr);
  slots.reset(3);  // an empty slot: nothing to drop
  Escalation& again = slots.emplace(3);
  EXPECT_TRUE(again.id.empty());
  EXPECT_TRUE(again.trail.empty());
  slots.resize(2);  // never fewer
  EXPECT_EQ(slots.size(), 5u);
}

TEST(EscalationSlots, AnEscalationKeepsItsAddressWhileSlotsAreAddedAndStartsOnACacheLine) {
  EscalationSlots slots;
  std::vector<const Escalation*> where;
  for (std::uint32_t i = 0; i < 3 * EscalationSlots::chunk_size + 7; ++i) {
    slots.emplace_back();
    Escalation& esc = slots.emplace(i);
    fill(esc, i);
    where.push_back(&esc);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&esc) % 64, 0u);
    EXPECT_EQ(slots.address(i), static_cast<const void*>(&esc));
  }
  for (std::uint32_t i = 0; i < where.size(); ++i) {
    ASSERT_EQ(slots[i], where[i]) << i;
    EXPECT_EQ(slots[i]->id, Id::of("slot-" + std::to_string(i)));
    EXPECT_EQ(slots[i]->trail.size(), 6u);
  }
  // Dropped in place, then made again from a moved escalation.
  slots.reset(EscalationSlots::chunk_size);
  Escalation moved;
  fill(moved, 99);
  Escalation& placed = slots.emplace(EscalationSlots::chunk_size, std::move(moved));
  EXPECT_EQ(&placed, where[EscalationSlots::chunk_size]);
  EXPECT_EQ(placed.id, Id::of("slot-99"));
  EXPECT_EQ(placed.messages.size(), 6u);
  slots.clear();  // drops all that are held; ASan reports any member's memory not freed
  EXPECT_TRUE(slots.empty());
}

}  // namespace
}  // namespace router::core
