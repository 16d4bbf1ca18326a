// The journal: every input the core applies, appended to segment files in storage.dir before it is
// acknowledged, and snapshots of the whole core state that bound replay time.
//
//   journal-<first seq>.log   records: [u32 length][u32 crc32c][u64 seq][payload]
//   snapshot-<seq>.bin        [8 magic][u64 seq][u64 length][u32 crc32c][payload]
//   router.meta               the instance's id seed (deterministic ULIDs across restarts)
//
// A writer thread group-commits: everything appended while the previous write+fsync ran goes out
// in the next one. fsync = always: fsync before the callbacks run; batch: at least every
// fsync_interval; none: write only (tests).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/storage/storage_options.hpp"
#include "router/core/result.hpp"

namespace router::adapters::storage {

// What recovery found, handed over in order: at most one snapshot, then every later record.
class RecoveryVisitor {
 public:
  virtual ~RecoveryVisitor() = default;
  virtual void on_identity(std::uint64_t id_seed) = 0;  // first: the instance's id seed
  virtual core::Status on_snapshot(std::uint64_t seq, std::string_view bytes) = 0;
  virtual core::Status on_record(std::uint64_t seq, std::string_view payload) = 0;
};

struct RecoveryReport {
  std::uint64_t snapshot_seq = 0;  // 0: none
  std::uint64_t records_replayed = 0;
  std::uint64_t last_seq = 0;
  bool truncated_torn_tail = false;
  std::vector<std::string> warnings;
};

struct JournalStats {
  std::uint64_t commits = 0;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  double last_fsync_ms = 0;
  double max_fsync_ms = 0;
};

class Journal {
 public:
  // Opens storage.dir: recovers (snapshot + tail, torn tail truncated; corruption in the middle is an
  // error naming the segment and offset), then starts the writer.
  static core::Result<std::unique_ptr<Journal>> open(const StorageOptions& options, RecoveryVisitor& visitor,
                                                     RecoveryReport& report);
  ~Journal();  // flushes, fsyncs, stops the writer
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one record; `committed` runs on the writer thread once it is durable (per fsync mode),
  // in append order. Returns the record's sequence number.
  using Committed = std::function<void()>;
  std::uint64_t append(std::string payload, Committed committed);

  // Writes a snapshot of the state after record `seq` (off the caller's thread), then removes the
  // segments it covers.
  void write_snapshot(std::uint64_t seq, std::string bytes);

  void flush();  // waits until everything appended so far is committed
  std::uint64_t last_seq() const;
  std::uint64_t id_seed() const { return id_seed_; }
  JournalStats stats() const;

 private:
  Journal(StorageOptions options, std::uint64_t next_seq, std::uint64_t id_seed);
  void run();
  bool open_segment(std::uint64_t first_seq, std::string& error);
  void remove_covered_segments(std::uint64_t seq);

  StorageOptions options_;
  std::uint64_t id_seed_ = 0;
  int fd_ = -1;
  std::string segment_path_;
  std::uint64_t segment_bytes_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::string pending_;
  std::vector<Committed> pending_callbacks_;
  std::uint64_t pending_first_seq_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t committed_seq_ = 0;
  struct SnapshotJob {
    std::uint64_t seq;
    std::string bytes;
  };
  std::vector<SnapshotJob> snapshots_;
  JournalStats stats_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace router::adapters::storage
