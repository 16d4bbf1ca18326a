// jemalloc's options, read when it initializes (the environment's MALLOC_CONF is applied after).
// Transparent huge pages for the heap: the state of a million open escalations is mapped by ~550
// page-table entries of 2 MiB instead of ~280,000 of 4 KiB, so the fork that writes a snapshot
// copies almost no page tables (bench/snapshot_pause: 18-43 ms -> ~4 ms at 1,000,000 open), and the
// kernel copies a changed page at 4 KiB while the child runs. Where THP is "never", nothing changes.
#ifdef ROUTER_WITH_JEMALLOC
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's
const char* malloc_conf = "thp:always,metadata_thp:auto";
}
#endif
