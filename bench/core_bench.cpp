// Core microbenchmarks (SPEC §10): routing decisions per second with 1,000 agents and 10,000 queued
// escalations, expression evaluation cost, and bytes per open escalation.
//   cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DROUTER_BUILD_TESTS=OFF && cmake --build build/bench -j2 --target core_bench
//   build/bench/bench/core_bench
#include <benchmark/benchmark.h>
#include <malloc.h>
#ifdef ROUTER_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include <cstdlib>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

#include "ordered_run.hpp"
#include "router/core/expr.hpp"
#include "router/core/router.hpp"
#include "routing_workload.hpp"

// Counts every operator new, to report allocations per routing decision.
namespace {
std::uint64_t allocation_count = 0;  // the benchmarks run on one thread: no atomic on the hot path
}  // namespace

void* operator new(std::size_t size) {
  ++allocation_count;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// Arrays too (the escalation histories' blocks are char arrays): libstdc++'s own operator new[]
// does not reach the replacement above.
void* operator new[](std::size_t size) {
  ++allocation_count;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// GCC sees these free() calls inlined into code whose pointers came from `new` and warns of a
// mismatch (-Wmismatched-new-delete); here new is malloc by construction, so the pair does match.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace router::core {
namespace {

// Bytes the allocator has handed out and not taken back.
std::size_t heap_in_use() {
#ifdef ROUTER_WITH_JEMALLOC
  std::uint64_t epoch = 1;
  std::size_t size = sizeof epoch;
  mallctl("epoch", &epoch, &size, &epoch, size);  // refresh the statistics
  std::size_t allocated = 0;
  size = sizeof allocated;
  mallctl("stats.allocated", &allocated, &size, nullptr, 0);
  return allocated;
#else
  malloc_trim(0);
  return mallinfo2().uordblks;
#endif
}

// The allocator and its huge-page setting, as jemalloc read it (MALLOC_CONF=thp:always turns them
// on): the label of the benchmarks whose memory reads it changes.
std::string allocator_label() {
#ifdef ROUTER_WITH_JEMALLOC
  const char* thp = nullptr;
  std::size_t size = sizeof thp;
  if (mallctl("opt.thp", &thp, &size, nullptr, 0) != 0 || thp == nullptr) return "jemalloc";
  return std::string("jemalloc thp:") + thp;
#else
  return "libc malloc";
#endif
}

using bench::arrival;
using bench::rules;

// The routing workload (bench/routing_workload.hpp): 1,000 agents busy, 10,000 escalations waiting,
// the window of kept closed escalations full. Each iteration resolves one assignment (its agent pulls
// the best waiting escalation: a decision) and adds one arrival (routed, placement tried: a decision).
void BM_RoutingDecisions(benchmark::State& state) {
  bench::SteadyState steady;
  std::int64_t decisions = 0;
  // The arrivals are made outside the timed part, a batch at a time: what is measured is the core
  // deciding, not the harness spelling its events (in the daemon, the adapters' decoders do that).
  constexpr std::size_t batch = 4096;
  std::vector<Input> arrivals;
  std::size_t next_arrival = 0;
  std::uint64_t harness_allocations = 0;
  // One pair of outcomes for the run, as an engine draining its inputs keeps one: cleared by each
  // apply, their events' capacity reused.
  Outcome resolved, arrived;
  const std::uint64_t allocations_before = allocation_count;
  for (auto _ : state) {
    if (next_arrival == arrivals.size()) {
      state.PauseTiming();
      const std::uint64_t before = allocation_count;
      arrivals.clear();
      for (std::size_t i = 0; i < batch; ++i) arrivals.push_back(steady.next_arrival());
      next_arrival = 0;
      harness_allocations += allocation_count - before;
      state.ResumeTiming();
    }
    steady.cycle(arrivals[next_arrival++], resolved, arrived);
    decisions += 2;
    benchmark::DoNotOptimize(resolved);
    benchmark::DoNotOptimize(arrived);
  }
  state.SetItemsProcessed(decisions);
  state.SetLabel(allocator_label());
  state.counters["allocs_per_decision"] =
      static_cast<double>(allocation_count - allocations_before - harness_allocations) /
      static_cast<double>(std::max<std::int64_t>(decisions, 1));
  const Router& router = steady.router();
  state.counters["queued"] = static_cast<double>(router.open_escalation_count() - steady.assigned_count());
  state.counters["agents"] = bench::workspace_count * bench::agents_per_workspace;
  double idle = 0;
  for (AgentIndex i = 0; i < bench::workspace_count * bench::agents_per_workspace; ++i) {
    if (const Agent* agent = router.agent_at(i); agent != nullptr && agent->load < agent->capacity) ++idle;
  }
  state.counters["agents_with_room"] = idle;  // none eligible for anything waiting (work-conserving)
}
BENCHMARK(BM_RoutingDecisions)->Unit(benchmark::kNanosecond)->MinTime(2.0);

// Agents with room: each arrival is routed and assigned at once, then resolved.
void BM_ArrivalAssignedImmediately(benchmark::State& state) {
  Router router(RouterOptions{1});
  router.load_rules(rules(1000));
  TimestampMs now = 1'773'309'900'000;
  std::uint64_t n = 0;
  for (auto _ : state) {
    now += 1;
    Outcome out = router.apply(Input{now, arrival(n++)});
    router.apply(Input{now, ResolveCommand{out.escalation_id, ""}});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ArrivalAssignedImmediately)->MinTime(1.0);

void BM_ExpressionEvaluate(benchmark::State& state) {
  SymbolTable symbols;
  auto expr = Expression::compile(R"("billing" in agent.skills and escalation.language in agent.languages)",
                                  ExpressionScope::escalation_and_agent, symbols);
  Escalation esc;
  esc.language = symbols.intern("vi");
  esc.skills = {symbols.intern("billing")};
  Agent agent;
  agent.skills = {symbols.intern("sales"), symbols.intern("billing")};
  agent.languages = {symbols.intern("en"), symbols.intern("vi")};
  const EvalContext ctx{&esc, &agent, 0, &symbols};
  for (auto _ : state) {
    benchmark::DoNotOptimize(expr->evaluate(ctx));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExpressionEvaluate);

void BM_ExpressionEvaluateAttributes(benchmark::State& state) {
  SymbolTable symbols;
  auto expr = Expression::compile(R"(escalation.contact.attributes.tier == "vip" and escalation.priority >= 2)",
                                  ExpressionScope::escalation_only, symbols);
  Escalation esc;
  esc.priority = 3;
  esc.contact.attributes = {{"plan", std::string("pro")}, {"tier", std::string("vip")}};
  const EvalContext ctx{&esc, nullptr, 0, &symbols};
  for (auto _ : state) {
    benchmark::DoNotOptimize(expr->evaluate(ctx));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExpressionEvaluateAttributes);

// Heap bytes per open (queued) escalation, counted by the allocator (jemalloc stats.allocated, or glibc mallinfo2), at N open.
void BM_BytesPerOpenEscalation(benchmark::State& state) {
  const auto count = static_cast<std::uint64_t>(state.range(0));
  double per = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::size_t before = heap_in_use();
    state.ResumeTiming();
    {
      Router router(RouterOptions{1});
      RuleSet queued_only = rules(1);
      queued_only.agents.clear();  // nobody to assign to: everything stays open and queued
      router.load_rules(queued_only);
      TimestampMs now = 1'773'309'900'000;
      for (std::uint64_t n = 0; n < count; ++n) {
        router.apply(Input{now + static_cast<TimestampMs>(n / 100), arrival(n)});
      }
      state.PauseTiming();
      const std::size_t after = heap_in_use();
      per = static_cast<double>(after - before) / static_cast<double>(count);
      state.ResumeTiming();
    }
  }
  state.counters["bytes_per_open_escalation"] = per;
  state.counters["sizeof_Escalation"] = sizeof(Escalation);
}
BENCHMARK(BM_BytesPerOpenEscalation)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

// A queue's line (core/src/ordered_run.hpp) against the ranked red-black tree it replaced
// (__gnu_pbds::tree with order statistics), at N waiting: each iteration takes the head, queues an
// arrival in one of three priority lanes (so mostly into the middle) and asks its position.
struct LineKey {
  std::uint64_t lane;
  std::int64_t queued_at;
  std::uint64_t seq;
  bool operator<(const LineKey& o) const {
    if (lane != o.lane) return lane < o.lane;
    if (queued_at != o.queued_at) return queued_at < o.queued_at;
    return seq < o.seq;
  }
};
using LineTree = __gnu_pbds::tree<LineKey, std::uint32_t, std::less<LineKey>, __gnu_pbds::rb_tree_tag,
                                  __gnu_pbds::tree_order_statistics_node_update>;
using LineRun = OrderedRun<LineKey, std::uint32_t, true>;

template <typename Line>
void BM_QueueLine(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Line line;
  std::uint64_t seq = 0, rng = 88172645463325252ULL;
  auto next_key = [&] {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    ++seq;
    return LineKey{rng % 3, static_cast<std::int64_t>(seq), seq};
  };
  for (std::size_t i = 0; i < n; ++i) {
    const LineKey key = next_key();
    if constexpr (std::is_same_v<Line, LineTree>) {
      line.insert({key, 1});
    } else {
      line.insert(key, 1);
    }
  }
  std::size_t positions = 0;
  for (auto _ : state) {
    const LineKey head = line.begin()->first;
    line.erase(head);
    const LineKey key = next_key();
    if constexpr (std::is_same_v<Line, LineTree>) {
      line.insert({key, 1});
      positions += line.order_of_key(key);
    } else {
      line.insert(key, 1);
      positions += line.rank(key);
    }
  }
  benchmark::DoNotOptimize(positions);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QueueLine<LineRun>)->Arg(500)->Arg(50'000)->Arg(1'000'000);
BENCHMARK(BM_QueueLine<LineTree>)->Arg(500)->Arg(50'000)->Arg(1'000'000);

// Context for the routing numbers, not the core: what one dependent load costs on this machine
// when the data is spread over N MiB (a pointer chase through a random cycle of 64-byte lines).
// The routing benchmark's state (10,000 queued, 100,000 closed kept, 50,000 contacts) spans a few
// hundred MiB, so its index lookups and the escalations they lead to cost loads like these.
void BM_DependentLoad(benchmark::State& state) {
  const std::size_t lines = static_cast<std::size_t>(state.range(0)) * 1024 * 1024 / 64;
  struct Line {
    std::size_t next;
    char pad[56];  // one cache line each
  };
  std::vector<Line> memory(lines);
  std::vector<std::size_t> order(lines);
  for (std::size_t i = 0; i < lines; ++i) order[i] = i;
  std::uint64_t seed = 88172645463325252ULL;
  for (std::size_t i = lines - 1; i > 0; --i) {  // Fisher-Yates with xorshift: one random cycle
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    std::swap(order[i], order[seed % (i + 1)]);
  }
  for (std::size_t i = 0; i < lines; ++i) memory[order[i]].next = order[(i + 1) % lines];
  std::size_t at = order[0];
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) at = memory[at].next;
  }
  benchmark::DoNotOptimize(at);
  state.SetItemsProcessed(state.iterations() * 1000);
  state.counters["ns_per_load"] = benchmark::Counter(static_cast<double>(state.iterations()) * 1000,
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_DependentLoad)->Arg(1)->Arg(16)->Arg(256)->Arg(2048)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace router::core

BENCHMARK_MAIN();
