// The journal on a real directory: commit order, recovery, torn tails, corruption, snapshots.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

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
    f.seekp(30);
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
  // Group commit: far fewer fsyncs than records.
  EXPECT_LT((*journal)->stats().commits, 800u);
}

}  // namespace
}  // namespace router::adapters::storage
