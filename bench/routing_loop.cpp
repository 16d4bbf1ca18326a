// The routing benchmark's loop as a plain program, to count its work where timings are too noisy:
// instructions with callgrind, cache misses with cachegrind (here with the last level set to this
// machine's 2 MiB L2). Only routing_cycle() is counted: setup and warm-up are left out.
//   cmake -S . -B build/profilej -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROUTER_BUILD_TESTS=OFF
//   cmake --build build/profilej -j2 --target routing_loop
//   valgrind --tool=callgrind --toggle-collect='*routing_cycle*' build/profilej/bench/routing_loop 30000
//   (instructions per cycle: the "Collected" count / 30000; callgrind_annotate for where they go;
//   add --cache-sim=yes --LL=2097152,16,64 to see which functions miss)
//   valgrind --tool=cachegrind --cache-sim=yes --LL=2097152,16,64 build/profilej/bench/routing_loop 30000
//   (minus the same with 1 cycle, divided by 29999: misses beyond L2 per cycle, setup excluded)
// With jemalloc when it is installed, as the benchmark and the daemon; -DROUTER_JEMALLOC=OFF for glibc.
#include <cstdio>
#include <cstdlib>

#include "routing_workload.hpp"

namespace router::core::bench {

// One measured cycle: a resolve and an arrival, into one pair of outcomes kept for the run, as the
// benchmark (and an engine draining its inputs) keeps them.
__attribute__((noinline)) void routing_cycle(SteadyState& steady, Input& arrival_input, Outcome& resolved,
                                             Outcome& arrived) {
  steady.cycle(arrival_input, resolved, arrived);
}

}  // namespace router::core::bench

int main(int argc, char** argv) {
  using namespace router::core;
  const long cycles = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 30'000;
  if (cycles <= 0) {
    std::fprintf(stderr, "usage: routing_loop [cycles > 0]\n");
    return 2;
  }
  bench::SteadyState steady;
  Outcome resolved, arrived;
  for (long i = 0; i < cycles; ++i) {
    Input input = steady.next_arrival();  // built outside the counted part, as core_bench does
    bench::routing_cycle(steady, input, resolved, arrived);
  }
  std::printf("%ld cycles; %zu open escalations\n", cycles, steady.router().open_escalation_count());
  return 0;
}
