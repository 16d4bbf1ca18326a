// How long a snapshot stops input processing (SPEC §10: at most 10 ms at 1,000,000 open
// escalations). Builds a core with N open escalations (nobody to assign to: all stay queued), then
// measures, on the same state:
//   inline  router.snapshot() on the calling thread: what a snapshot stopped before the fork
//   fork    Journal::fork_snapshot: the caller stops only for fork(); the child serializes its copy
//           and writes the file. Reported: the caller's pause, then how long the child took.
// Usage: snapshot_pause [open escalations, default 1000000] [rounds, default 5]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "adapters/storage/journal.hpp"
#include "routing_workload.hpp"

namespace {

using namespace router;
using clock_type = std::chrono::steady_clock;

class NoRecovery final : public adapters::storage::RecoveryVisitor {
 public:
  void on_identity(std::uint64_t) override {}
  core::Status on_snapshot(std::uint64_t, std::string_view) override { return core::Ok{}; }
  core::Status on_record(std::uint64_t, std::string_view) override { return core::Ok{}; }
};

double rss_mib() {
  long pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long size = 0;
    if (std::fscanf(f, "%ld %ld", &size, &pages) != 2) pages = 0;
    std::fclose(f);
  }
  return static_cast<double>(pages) * 4096.0 / (1 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t open = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  core::Router router(core::RouterOptions{1});
  core::RuleSet queued_only = core::bench::rules(1);
  queued_only.agents.clear();
  router.load_rules(queued_only);
  const core::TimestampMs now = 1'773'309'900'000;
  for (std::uint64_t n = 0; n < open; ++n) router.apply_quietly(core::Input{now + static_cast<core::TimestampMs>(n / 100), core::bench::arrival(n)});
  std::printf("%zu open escalations, RSS %.0f MiB\n", router.open_escalation_count(), rss_mib());

  char pattern[] = "/tmp/snapshot-pause-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  adapters::storage::StorageOptions options;
  options.dir = dir;
  options.fsync = adapters::storage::FsyncMode::none;
  NoRecovery none;
  adapters::storage::RecoveryReport report;
  auto journal = adapters::storage::Journal::open(options, none, report);
  if (!journal) return std::fprintf(stderr, "%s\n", journal.error().message.c_str()), 1;

  std::vector<double> inline_ms, fork_ms, child_ms;
  std::size_t bytes = 0;
  for (int round = 0; round < rounds; ++round) {
    const auto start = clock_type::now();
    bytes = router.snapshot().size();
    inline_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());

    const std::uint64_t before = (*journal)->stats().snapshots;
    const auto forked = clock_type::now();
    if (!(*journal)->fork_snapshot(static_cast<std::uint64_t>(round + 1), router.sequence(), [&] { return router.snapshot(); })) {
      return std::fprintf(stderr, "fork failed\n"), 1;
    }
    fork_ms.push_back((*journal)->stats().last_snapshot_fork_ms);
    while ((*journal)->stats().snapshots == before) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    child_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - forked).count());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto worst = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  std::printf("snapshot: %.1f MiB\n", static_cast<double>(bytes) / (1 << 20));
  std::printf("inline snapshot pause (ms): median %.1f  max %.1f\n", median(inline_ms), worst(inline_ms));
  std::printf("child writes it in (ms): median %.1f  max %.1f\n", median(child_ms), worst(child_ms));
  std::printf("fork pause (ms, target <= 10): median %.2f  max %.2f\n", median(fork_ms), worst(fork_ms));
  journal->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
