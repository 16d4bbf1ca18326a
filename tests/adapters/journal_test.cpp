// The journal on a real directory: commit order, recovery, torn tails, corruption, snapshots.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "adapters/storage/crc32c.hpp"
#include "adapters/storage/journal.hpp"

namespace router::adapters::storage {
namespace {

namespace fs = std::filesystem;

class TempDirectory {
 public:
  TempDirectory() {
    std::string pattern = (fs::temp_directory_path() / "journal-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDirectory() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Collect final : RecoveryVisitor {
  std::uint64_t seed = 0;
  std::uint64_t snapshot_seq = 0;
  std::string snapshot;
  std::vector<std::pair<std::uint64_t, std::string>> records;
  void on_identity(std::uint64_t s) override { seed = s; }
  core::Status on_snapshot(std::uint64_t seq, std::string_view bytes) override {
    snapshot_seq = seq;
    snapshot = std::string(bytes);
    return core::Ok{};
  }
  core::Status on_record(std::uint64_t seq, std::string_view payload) override {
    records.emplace_back(seq, std::string(payload));
    return core::Ok{};
  }
};

StorageOptions options(const std::string& dir, FsyncMode mode = FsyncMode::always) {
  StorageOptions o;
  o.dir = dir;
  o.fsync = mode;
  o.fsync_interval_ms = 2;
  return o;
}

std::vector<std::string> segments(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("journal-", 0) == 0) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Crc32c, MatchesTheKnownCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c("56789", crc32c("1234")), 0xE3069283u);  // incremental
}

TEST(Journal, CommitsInOrderAndRecoversEveryRecord) {
  TempDirectory dir;
  std::uint64_t seed = 0;
  for (FsyncMode mode : {FsyncMode::always, FsyncMode::batch, FsyncMode::none}) {
    fs::remove_all(dir.path());
    Collect first;
    RecoveryReport report;
    auto journal = Journal::open(options(dir.path(), mode), first, report);
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    std::vector<std::uint64_t> committed;
    std::mutex m;
    for (int i = 0; i < 500; ++i) {
      const std::uint64_t seq = (*journal)->append("record-" + std::to_string(i), [&, i] {
        std::lock_guard lock(m);
        committed.push_back(static_cast<std::uint64_t>(i));
      });
      EXPECT_EQ(seq, static_cast<std::uint64_t>(i + 1));
    }
    (*journal)->flush();
    {
      std::lock_guard lock(m);
      ASSERT_EQ(committed.size(), 500u);
      for (std::size_t i = 0; i < committed.size(); ++i) EXPECT_EQ(committed[i], i);
    }
    EXPECT_GE((*journal)->stats().commits, 1u);
    seed = (*journal)->id_seed();
    journal->reset();

    Collect second;
    RecoveryReport again;
    auto reopened = Journal::open(options(dir.path(), mode), second, again);
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    EXPECT_EQ(second.seed, seed);  // the identity survives restarts
    ASSERT_EQ(second.records.size(), 500u);
    EXPECT_EQ(second.records[499].first, 500u);
    EXPECT_EQ(second.records[499].second, "record-499");
    EXPECT_EQ(again.last_seq, 500u);
    EXPECT_EQ((*reopened)->append("next", [] {}), 501u);  // the sequence continues
  }
}

TEST(Journal, ATornLastRecordIsTruncatedWithAWarning) {
  TempDirectory dir;
  {
    Collect c;
    RecoveryReport r;
    auto journal = Journal::open(options(dir.path()), c, r);
    ASSERT_TRUE(journal.ok());
    for (int i = 0; i < 10; ++i) (*journal)->append("payload-" + std::to_string(i), [] {});
    (*journal)->flush();
  }
  const std::string segment = segments(dir.path()).back();
  const auto size = fs::file_size(segment);
  fs::resize_file(segment, size - 3);  // the last write cut short
  Collect c;
  RecoveryReport report;
  auto journal = Journal::open(options(dir.path()), c, report);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_TRUE(report.truncated_torn_tail);
  ASSERT_FALSE(report.warnings.empty());
  EXPECT_NE(report.warnings[0].find("truncating a torn last record"), std::string::npos);
  EXPECT_EQ(c.records.size(), 9u);
  EXPECT_EQ((*journal)->append("again", [] {}), 10u);  // record 10 was never acknowledged: reused
}

TEST(Journal, CorruptionInTheMiddleStopsWithSegmentAndOffset) {
  TempDirectory dir;
  {
    Collect c;
    RecoveryReport r;
    auto journal = Journal::open(options(dir.path()), c, r);
    ASSERT_TRUE(journal.ok());
    for (int i = 0; i < 10; ++i) (*journal)->append("payload-" + std::to_string(i), [] {});
    (*journal)->flush();
  }
  const std::string segment = segments(dir.path()).back();
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16 + 9 + 16 + 3);  // inside the second record's payload
    f.put('X');
  }
  Collect c;
  RecoveryReport report;
  auto journal = Journal::open(options(dir.path()), c, report);
  ASSERT_FALSE(journal.ok());
  const std::string message = journal.error().message;
  EXPECT_NE(message.find("journal corrupt in " + segment + " at offset 25: checksum mismatch"), std::string::npos) << message;
  EXPECT_NE(message.find("move this segment"), std::string::npos);
}

TEST(Journal, RecoversFromTheLatestSnapshotPlusTheTailAndDropsCoveredSegments) {
  TempDirectory dir;
  {
    Collect c;
    RecoveryReport r;
    auto journal = Journal::open(options(dir.path()), c, r);
    ASSERT_TRUE(journal.ok());
    for (int i = 1; i <= 100; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->write_snapshot(100, "state-after-100");
    for (int i = 101; i <= 120; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->flush();
  }
  Collect c;
  RecoveryReport report;
  auto journal = Journal::open(options(dir.path()), c, report);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_EQ(report.snapshot_seq, 100u);
  EXPECT_EQ(c.snapshot, "state-after-100");
  ASSERT_EQ(c.records.size(), 20u);
  EXPECT_EQ(c.records.front().first, 101u);
  EXPECT_EQ(c.records.back().second, "r120");
}

TEST(Journal, ACorruptSnapshotFallsBackToAnOlderOne) {
  TempDirectory dir;
  {
    Collect c;
    RecoveryReport r;
    auto journal = Journal::open(options(dir.path()), c, r);
    ASSERT_TRUE(journal.ok());
    for (int i = 1; i <= 10; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->write_snapshot(10, "ten");
    for (int i = 11; i <= 20; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->write_snapshot(20, "twenty");
    (*journal)->flush();
  }
  // Damage the newest snapshot.
  std::string newest;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    const std::string name = e.path().filename().string();
    if (name.rfind("snapshot-", 0) == 0 && name > fs::path(newest).filename().string()) newest = e.path().string();
  }
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(38);  // in the payload (the header is 36 bytes)
    f.put('#');
  }
  Collect c;
  RecoveryReport report;
  auto journal = Journal::open(options(dir.path()), c, report);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_EQ(report.snapshot_seq, 10u);
  EXPECT_EQ(c.snapshot, "ten");
  EXPECT_EQ(c.records.size(), 10u);  // 11..20 replayed on top
  ASSERT_FALSE(report.warnings.empty());
  EXPECT_NE(report.warnings[0].find("checksum mismatch"), std::string::npos);
}

TEST(Journal, AppendsFromManyThreadsAreAllDurableAndOrderedBySequence) {
  TempDirectory dir;
  Collect c;
  RecoveryReport r;
  auto journal = Journal::open(options(dir.path(), FsyncMode::always), c, r);
  ASSERT_TRUE(journal.ok());
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) (*journal)->append("t" + std::to_string(t), [&] { ++done; });
    });
  }
  for (auto& thread : threads) thread.join();
  (*journal)->flush();
  EXPECT_EQ(done.load(), 800);
  // Group commit: far fewer fdatasyncs than commits.
  EXPECT_EQ((*journal)->stats().commits, 800u);
  EXPECT_LT((*journal)->stats().syncs, 800u);
}

struct Selective final : RecoveryVisitor {
  std::uint64_t usable_up_to = 0;
  std::string snapshot;
  std::vector<std::uint64_t> records;
  void on_identity(std::uint64_t) override {}
  bool snapshot_usable(std::uint64_t events) override { return events <= usable_up_to; }
  core::Status on_snapshot(std::uint64_t, std::string_view bytes) override {
    snapshot = std::string(bytes);
    return core::Ok{};
  }
  core::Status on_record(std::uint64_t seq, std::string_view) override {
    records.push_back(seq);
    return core::Ok{};
  }
};

TEST(Journal, BatchModeAcknowledgesOnceWrittenWithoutWaitingForTheInterval) {
  TempDirectory dir;
  StorageOptions o = options(dir.path(), FsyncMode::batch);
  o.fsync_interval_ms = 60'000;  // no timer could be what acknowledges
  // A child process writes and acknowledges, then dies without closing anything (kill -9).
  const pid_t child = ::fork();
  if (child == 0) {
    Collect c;
    RecoveryReport r;
    auto journal = Journal::open(o, c, r);
    if (!journal.ok()) ::_exit(2);
    bool acknowledged = false;
    for (int i = 1; i <= 50; ++i) (*journal)->append("b" + std::to_string(i));
    (*journal)->commit([&] { acknowledged = true; });
    ::_exit(acknowledged ? 0 : 3);  // the callback ran inside commit(), before any fdatasync
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  Collect c;
  RecoveryReport report;
  auto journal = Journal::open(o, c, report);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  ASSERT_EQ(c.records.size(), 50u);  // in the kernel: survived the process
  EXPECT_EQ(c.records.back().second, "b50");
}

TEST(Journal, AlwaysModeAcknowledgesOnlyAfterTheFdatasync) {
  TempDirectory dir;
  Collect c;
  RecoveryReport r;
  auto journal = Journal::open(options(dir.path(), FsyncMode::always), c, r);
  ASSERT_TRUE(journal.ok());
  std::atomic<bool> acknowledged{false};
  (*journal)->append("a1");
  (*journal)->commit([&] { acknowledged = true; });
  (*journal)->flush();
  EXPECT_TRUE(acknowledged.load());
  EXPECT_GE((*journal)->stats().syncs, 1u);
}

TEST(Journal, AForkedSnapshotIsWrittenByTheChildAndRecovered) {
  TempDirectory dir;
  {
    Collect c;
    RecoveryReport r;
    auto journal = Journal::open(options(dir.path()), c, r);
    ASSERT_TRUE(journal.ok());
    for (int i = 1; i <= 30; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    std::string state = "state-after-30";
    ASSERT_TRUE((*journal)->fork_snapshot(30, 7, [&] { return state; }));
    state = "changed in the parent after the fork";  // the child has its own copy
    for (int i = 31; i <= 40; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    for (int i = 0; i < 500 && (*journal)->stats().snapshots == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ((*journal)->stats().snapshots, 1u);
  }
  Selective c;
  c.usable_up_to = 7;
  RecoveryReport report;
  auto journal = Journal::open(options(dir.path()), c, report);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_EQ(report.snapshot_seq, 30u);
  EXPECT_EQ(c.snapshot, "state-after-30");
  ASSERT_EQ(c.records.size(), 10u);
  EXPECT_EQ(c.records.front(), 31u);
}

TEST(Journal, RecoveryUsesTheNewestSnapshotTheSinksHaveCaughtUpWith) {
  TempDirectory dir;
  {
    Collect c;
    RecoveryReport r;
    auto journal = Journal::open(options(dir.path()), c, r);
    ASSERT_TRUE(journal.ok());
    (*journal)->retain_events_after([] { return 15; });  // the sinks confirmed events up to 15
    for (int i = 1; i <= 10; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->write_snapshot(10, "ten", 5);
    for (int i = 11; i <= 20; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->write_snapshot(20, "twenty", 12);
    for (int i = 21; i <= 30; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->write_snapshot(30, "thirty", 20);
    for (int i = 31; i <= 40; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->write_snapshot(40, "forty", 30);
    (*journal)->flush();
  }
  // "twenty" (events 12) is the newest at or before the mark: kept with the two newest; "ten" went.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (e.path().filename().string().rfind("snapshot-", 0) == 0) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 3u);
  EXPECT_NE(names.front().find("00000000000000000020"), std::string::npos);
  Selective c;
  c.usable_up_to = 15;
  RecoveryReport report;
  auto journal = Journal::open(options(dir.path()), c, report);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_EQ(report.snapshot_seq, 20u);
  EXPECT_EQ(c.snapshot, "twenty");
  ASSERT_EQ(c.records.size(), 20u);  // 21..40: their events are made again
  EXPECT_EQ(c.records.front(), 21u);
}

TEST(Journal, ATemporaryFileOfASnapshotChildStoppedHalfwayIsRemoved) {
  TempDirectory dir;
  const fs::path leftover = fs::path(dir.path()) / "snapshot-00000000000000000007.bin.tmp";
  std::ofstream(leftover) << "half a snapshot";
  Collect c;
  RecoveryReport report;
  auto journal = Journal::open(options(dir.path()), c, report);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_FALSE(fs::exists(leftover));
  EXPECT_EQ(report.snapshot_seq, 0u);
}

TEST(Journal, ReadsSnapshotsWrittenBeforeTheOutbox) {
  TempDirectory dir;
  {
    Collect c;
    RecoveryReport r;
    auto journal = Journal::open(options(dir.path()), c, r);
    ASSERT_TRUE(journal.ok());
    for (int i = 1; i <= 12; ++i) (*journal)->append("r" + std::to_string(i), [] {});
    (*journal)->flush();
  }
  // The earlier format: "ERSNAPF1", seq, length, crc, payload (no outbound sequence).
  const std::string payload = "old-format-state";
  std::string file = "ERSNAPF1";
  const std::uint64_t seq = 10;
  const std::uint64_t length = payload.size();
  const std::uint32_t crc = crc32c(payload);
  file.append(reinterpret_cast<const char*>(&seq), 8).append(reinterpret_cast<const char*>(&length), 8);
  file.append(reinterpret_cast<const char*>(&crc), 4).append(payload);
  std::ofstream(fs::path(dir.path()) / "snapshot-00000000000000000010.bin", std::ios::binary) << file;
  Selective c;
  c.usable_up_to = 0;  // it has no outbound sequence to compare: used as before
  RecoveryReport report;
  auto journal = Journal::open(options(dir.path()), c, report);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_EQ(report.snapshot_seq, 10u);
  EXPECT_EQ(c.snapshot, "old-format-state");
  EXPECT_EQ(c.records.size(), 2u);
}

}  // namespace
}  // namespace router::adapters::storage
