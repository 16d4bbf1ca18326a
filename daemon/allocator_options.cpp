// jemalloc's options for the executables that link it (CMake's router_allocator adds this file to
// each of them). jemalloc reads this symbol once, at its first allocation; MALLOC_CONF in the
// environment is read after it and overrides it (MALLOC_CONF=thp:default undoes the line below).
//
// thp:always: the heap is asked for transparent huge pages (madvise(MADV_HUGEPAGE), which a kernel
// whose THP setting is "madvise", Debian's default, honours). The core's working set is a few hundred
// MiB of escalations, indexes and queues read in no order a prefetcher could guess; with 4 KiB pages
// most of those reads also miss the TLB, and under a hypervisor each TLB miss is a two-level page
// walk. Measured (BENCHMARKS.md): a dependent load over 2 GiB 220 -> 154 ns, BM_RoutingDecisions
// +7% (median of interleaved runs). The cost: memory is backed 2 MiB at a time, so a small heap's
// resident size rounds up by a few MiB.
extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): jemalloc's documented hook
extern const char* malloc_conf;
const char* malloc_conf = "thp:always";
}
