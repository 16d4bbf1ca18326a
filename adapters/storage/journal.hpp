// The journal: every input the core applies, appended to segment files in storage.dir before it is
// acknowledged, and snapshots of the whole core state that bound replay time.
//
//   journal-<first seq>.log   records: [u32 length][u32 crc32c][u64 seq][payload]
//   snapshot-<seq>.bin        [8 magic "ERSNAPF2"][u64 seq][u64 length][u32 crc32c][u64 events][payload]
//                             (events: the outbound sequence at that record; "ERSNAPF1" files have none)
//   router.meta               the instance's id seed (deterministic ULIDs across restarts)
//
// The caller buffers records with append() and writes them with commit(): one write() per batch, on
// the caller's thread. Durability per storage.fsync:
//   always  the sync thread runs commit()'s callback after the fdatasync that covers it; while one
//           fdatasync runs, the next commits gather behind it (group commit)
//   batch   the callback runs at once (the records are in the kernel: they survive a crash of the
//           process); the sync thread fdatasyncs at least every fsync_interval
//   none    the callback runs at once; no fdatasync (tests)
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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
  // Whether a snapshot taken when the outbound sequence was `events` may be used (newest first).
  // When none may, the oldest readable one is used anyway (with a warning in the report).
  virtual bool snapshot_usable(std::uint64_t /*events*/) { return true; }
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
  std::uint64_t commits = 0;  // write() calls
  std::uint64_t syncs = 0;    // fdatasync calls
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  double last_fsync_ms = 0;
  double max_fsync_ms = 0;
  std::uint64_t snapshots = 0;
  double last_snapshot_fork_ms = 0;  // how long the fork stopped the caller
};

class Journal {
 public:
  // Opens storage.dir: recovers (snapshot + tail, torn tail truncated; corruption in the middle is an
  // error naming the segment and offset), then starts the sync thread.
  static core::Result<std::unique_ptr<Journal>> open(const StorageOptions& options, RecoveryVisitor& visitor,
                                                     RecoveryReport& report);
  ~Journal();  // commits what is buffered, fdatasyncs, stops the sync thread, waits for a snapshot child
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Buffers one record; returns its sequence number. Nothing is written until commit().
  std::uint64_t append(std::string_view payload);
  // Writes every buffered record with one write(). `committed` (may be empty) runs once they are
  // durable per storage.fsync: on this thread at once (batch, none) or on the sync thread (always).
  // Callbacks run in commit order.
  using Committed = std::function<void()>;
  void commit(Committed committed);
  // append() and commit() in one (tests, the deliveries' journal).
  std::uint64_t append(std::string_view payload, Committed committed);

  // Writes a snapshot of the state after record `seq` (on the sync thread), then removes the
  // segments it covers.
  void write_snapshot(std::uint64_t seq, std::string bytes, std::uint64_t events = 0);
  // Forks a child that calls `serialize` on its copy of the memory and writes the snapshot, so the
  // caller stops only for the fork; a thread of this process waits for the child, then removes the
  // covered segments. The child must touch nothing but memory and files (no locks, no logging).
  // Returns false (and does nothing) while an earlier snapshot child still runs.
  bool fork_snapshot(std::uint64_t seq, std::uint64_t events, const std::function<std::string()>& serialize);
  // Segments and snapshots are kept back to the newest snapshot whose outbound sequence is at most
  // this (the sinks' confirmed position), so that what they have not confirmed can be sent again.
  void retain_events_after(std::function<std::uint64_t()> confirmed) { retain_ = std::move(confirmed); }

  // Writes a small file in storage.dir atomically, on the sync thread (the newest content of a name
  // wins when several wait).
  void write_file(std::string name, std::string content);

  void flush();  // commits what is buffered and waits until everything so far is fdatasynced
  std::uint64_t last_seq() const;
  std::uint64_t id_seed() const { return id_seed_; }
  const std::string& dir() const { return options_.dir; }
  JournalStats stats() const;

 private:
  Journal(StorageOptions options, std::uint64_t next_seq, std::uint64_t id_seed);
  void run_sync();
  bool open_segment(std::uint64_t first_seq, std::string& error);
  void remove_covered_segments();
  void write_buffer_locked();

  StorageOptions options_;
  std::uint64_t id_seed_ = 0;
  std::function<std::uint64_t()> retain_;

  std::mutex commit_order_;  // append(payload, committed) from several threads
  mutable std::mutex mutex_;
  std::condition_variable sync_wake_;
  std::condition_variable synced_;
  int fd_ = -1;
  std::string segment_path_;
  std::uint64_t segment_bytes_ = 0;
  std::vector<int> retired_fds_;  // full segments not yet fdatasynced; the sync thread closes them
  std::string buffer_;            // appended, not yet written
  std::uint64_t buffer_first_seq_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t written_seq_ = 0;  // in the kernel
  std::uint64_t synced_seq_ = 0;   // fdatasynced (or, fsync = none, written)
  bool flush_requested_ = false;
  std::vector<std::pair<std::uint64_t, Committed>> waiting_;  // always: run after the sync covering seq
  struct SnapshotJob {
    std::uint64_t seq;
    std::uint64_t events;
    std::string bytes;
  };
  std::vector<SnapshotJob> snapshots_;
  std::vector<std::pair<std::string, std::string>> files_;
  bool round_running_ = false;  // the sync thread works on what it took: its callbacks have not all run
  JournalStats stats_;
  bool stopping_ = false;
  std::mutex files_mutex_;  // listing and removing files: the sync thread and the snapshot reaper
  pid_t snapshot_child_ = -1;
  std::thread reaper_;
  std::thread sync_thread_;
};

}  // namespace router::adapters::storage
