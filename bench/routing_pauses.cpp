// The routing benchmark's loop, each cycle timed on its own: the distribution of one cycle's time
// (a resolve and an arrival) and the longest cycles, to find pauses that a throughput number hides
// (index growth, compaction of the id order, table rehashes).
//   cmake --build build/bench -j2 --target routing_pauses && build/bench/bench/routing_pauses 400000
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "routing_workload.hpp"

int main(int argc, char** argv) {
  using namespace router::core;
  const long cycles = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 400'000;
  if (cycles <= 0) {
    std::fprintf(stderr, "usage: routing_pauses [cycles > 0]\n");
    return 2;
  }
  bench::SteadyState steady;
  constexpr std::size_t batch = 4096;  // arrival inputs built ahead, outside the timed part
  std::vector<Input> inputs;
  std::vector<double> micros;
  micros.reserve(static_cast<std::size_t>(cycles));
  for (long i = 0; i < cycles; ++i) {
    const auto at = static_cast<std::size_t>(i) % batch;
    if (at == 0) {
      inputs.clear();
      for (std::size_t k = 0; k < batch; ++k) inputs.push_back(steady.next_arrival());
    }
    Outcome resolved, arrived;
    const auto start = std::chrono::steady_clock::now();
    steady.cycle(inputs[at], resolved, arrived);
    const auto end = std::chrono::steady_clock::now();
    micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::vector<double> sorted = micros;
  std::sort(sorted.begin(), sorted.end());
  const auto quantile = [&](double q) { return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))]; };
  std::printf("%ld cycles (one resolve and one arrival each), microseconds: p50 %.1f  p99 %.1f  p99.9 %.1f  p99.99 %.1f  max %.1f\n",
              cycles, quantile(0.5), quantile(0.99), quantile(0.999), quantile(0.9999), sorted.back());
  int shown = 0;
  for (long i = 0; i < cycles && shown < 10; ++i) {
    if (micros[static_cast<std::size_t>(i)] > 500) {
      std::printf("  cycle %ld: %.0f us\n", i, micros[static_cast<std::size_t>(i)]);
      ++shown;
    }
  }
  return 0;
}
