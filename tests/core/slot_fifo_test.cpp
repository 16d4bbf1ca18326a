// SlotFifo (the closed escalations' order) against std::deque: pushes, pops and reads by position,
// growing while its head has moved round the ring.
#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "router_state.hpp"

namespace router::core {
namespace {

TEST(SlotFifo, IsAFifoReadableByPositionLikeADeque) {
  std::mt19937 rng(5);
  SlotFifo fifo;
  std::deque<std::uint32_t> want;
  for (int step = 0; step < 50'000; ++step) {
    // Phases of growth and of shrinking, so the ring grows with its head anywhere.
    const bool grow = (step / 1000) % 3 != 2;
    if (!want.empty() && rng() % 4 >= (grow ? 3u : 1u)) {
      ASSERT_EQ(fifo.front(), want.front());
      fifo.pop_front();
      want.pop_front();
    } else {
      const auto v = static_cast<std::uint32_t>(rng());
      fifo.push_back(v);
      want.push_back(v);
    }
    ASSERT_EQ(fifo.size(), want.size());
    if (!want.empty()) {
      const std::size_t at = rng() % want.size();
      ASSERT_EQ(fifo[at], want[at]) << "step " << step;
    }
  }
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(fifo[i], want[i]);
}

}  // namespace
}  // namespace router::core
