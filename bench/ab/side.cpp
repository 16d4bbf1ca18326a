// One side of an in-process A/B (see run.sh): the benchmark's steady state built against one copy
// of the core, whose namespace run.sh renames (-Drouter=router_<side>) so that two copies link into
// one program. SIDE_make / SIDE_block are renamed per side the same way.
#include <chrono>
#include <vector>

#include "routing_workload.hpp"

namespace {

struct Side {
  router::core::bench::SteadyState steady;
  router::core::Outcome resolved, arrived;  // one pair for the run, as core_bench keeps
  std::vector<router::core::Input> inputs;
};

}  // namespace

extern "C" void* SIDE_make() { return new Side; }

// Microseconds per cycle over `cycles` cycles; the arrivals are built before the clock starts.
extern "C" double SIDE_block(void* side, int cycles) {
  Side& s = *static_cast<Side*>(side);
  s.inputs.clear();
  for (int i = 0; i < cycles; ++i) s.inputs.push_back(s.steady.next_arrival());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < cycles; ++i) s.steady.cycle(s.inputs[static_cast<std::size_t>(i)], s.resolved, s.arrived);
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / cycles;
}
