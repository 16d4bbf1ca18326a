#include "adapters/storage/journal.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <limits>
#include <optional>
#include <sstream>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "adapters/metrics/registry.hpp"
#include "adapters/storage/crc32c.hpp"
#include "adapters/storage/files.hpp"
#include "adapters/storage/snapshot_file.hpp"

namespace router::adapters::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t header_bytes = 16;
constexpr std::uint64_t max_segment_bytes = 64ULL << 20;
constexpr std::uint32_t max_record_bytes = 32U << 20;

std::uint32_t record_crc(std::uint64_t seq, std::string_view payload) {
  return crc32c(payload, crc32c(std::string_view(reinterpret_cast<const char*>(&seq), 8)));
}

core::Result<std::uint64_t> load_or_create_identity(const std::string& dir) {
  const std::string path = (fs::path(dir) / "router.meta").string();
  std::string text;
  if (read_whole_file(path, text)) {
    const std::string key = "id_seed=";
    const std::size_t at = text.find(key);
    if (at == std::string::npos) return core::invalid_argument(path + ": no id_seed");
    return static_cast<std::uint64_t>(std::stoull(text.substr(at + key.size())));
  }
  std::random_device random;
  const std::uint64_t seed = (static_cast<std::uint64_t>(random()) << 32) ^ random() ^
                             static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  if (!write_durably(dir, path, "id_seed=" + std::to_string(seed) + "\n")) {
    return core::invalid_argument(sys_error("cannot write " + path));
  }
  return seed;
}

metrics::Histogram& fsync_histogram(const std::string& dir) {
  const bool deliveries = dir.size() >= 11 && dir.compare(dir.size() - 11, 11, "/deliveries") == 0;
  return metrics::registry().histogram("escalation_router_journal_fsync_duration_seconds",
                                       "Time of one journal fdatasync (one group commit)",
                                       {{"journal", deliveries ? "deliveries" : "inputs"}});
}

}  // namespace


Journal::Journal(StorageOptions options, std::uint64_t next_seq, std::uint64_t id_seed)
    : options_(std::move(options)), id_seed_(id_seed), next_seq_(next_seq), written_seq_(next_seq - 1), synced_seq_(next_seq - 1) {}

core::Result<std::unique_ptr<Journal>> Journal::open(const StorageOptions& options, RecoveryVisitor& visitor,
                                                     RecoveryReport& report) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return core::invalid_argument("cannot create storage.dir " + options.dir + ": " + ec.message());
  auto seed = load_or_create_identity(options.dir);
  if (!seed) return std::move(seed).error();
  visitor.on_identity(*seed);
  // A snapshot child stopped halfway (the daemon killed with its process group) leaves a temporary file.
  for (const auto& entry : fs::directory_iterator(options.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("snapshot-", 0) == 0 && name.size() > 8 && name.compare(name.size() - 8, 8, ".bin.tmp") == 0) {
      fs::remove(entry.path(), ec);
    }
  }

  // The newest snapshot that verifies and that the visitor can use (its outbound sequence is not
  // past what the sinks confirmed); failing that, the oldest one that verifies.
  auto snapshots = list(options.dir, "snapshot-", ".bin");
  auto try_load = [&](const std::string& path) -> std::string {
    std::string bytes;
    if (!read_whole_file(path, bytes)) return "unreadable";
    auto header = parse_snapshot_header(bytes);
    if (!header) return "not a snapshot";
    const std::string_view payload = std::string_view(bytes).substr(header->size);
    if (payload.size() != header->length || crc32c(payload) != header->crc) return "checksum mismatch";
    if (auto status = visitor.on_snapshot(header->seq, payload); !status) return status.error().message;
    report.snapshot_seq = header->seq;
    return "";
  };
  std::vector<std::string> too_new;  // newest first
  bool loaded = false;
  for (auto it = snapshots.rbegin(); it != snapshots.rend() && !loaded; ++it) {
    std::string prefix;
    std::optional<SnapshotHeader> header;
    if (read_prefix(it->second, snapshot_header, prefix)) header = parse_snapshot_header(prefix);
    if (header && header->has_events && !visitor.snapshot_usable(header->events)) {
      too_new.push_back(it->second);
      continue;
    }
    const std::string why = try_load(it->second);
    if (why.empty()) {
      loaded = true;
    } else {
      report.warnings.push_back("skipping snapshot " + it->second + ": " + why);
    }
  }
  for (auto it = too_new.rbegin(); it != too_new.rend() && !loaded; ++it) {
    const std::string why = try_load(*it);
    if (why.empty()) {
      loaded = true;
      report.warnings.push_back("every snapshot is newer than what the outbound sinks confirmed; starting from the oldest, " + *it +
                                ": the events before it cannot be sent again");
    } else {
      report.warnings.push_back("skipping snapshot " + *it + ": " + why);
    }
  }

  // The records after it, in order.
  auto segments = list(options.dir, "journal-", ".log");
  std::uint64_t last = report.snapshot_seq;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const bool last_segment = i + 1 == segments.size();
    if (!last_segment && segments[i + 1].first <= report.snapshot_seq + 1) {
      continue;  // wholly covered by the snapshot
    }
    const std::string& path = segments[i].second;
    std::string data;
    if (!read_whole_file(path, data)) return core::invalid_argument(sys_error("cannot read " + path));
    std::size_t offset = 0;
    while (offset < data.size()) {
      const std::size_t remaining = data.size() - offset;
      std::string problem;
      std::uint32_t length = 0;
      if (remaining < header_bytes) {
        problem = "incomplete record header";
      } else {
        length = get_u32(data, offset);
        if (length > max_record_bytes) {
          problem = "impossible record length " + std::to_string(length);
        } else if (remaining < header_bytes + length) {
          problem = "incomplete record";
        } else if (record_crc(get_u64(data, offset + 8), std::string_view(data).substr(offset + header_bytes, length)) !=
                   get_u32(data, offset + 4)) {
          problem = "checksum mismatch";
        }
      }
      if (!problem.empty()) {
        const bool at_end = remaining < header_bytes || length > max_record_bytes || remaining <= header_bytes + length;
        if (last_segment && at_end) {
          // A write that a crash cut short: the record was never acknowledged.
          report.warnings.push_back("truncating a torn last record in " + path + " at offset " + std::to_string(offset) +
                                    " (" + problem + ")");
          if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) {
            return core::invalid_argument(sys_error("cannot truncate " + path));
          }
          report.truncated_torn_tail = true;
          break;
        }
        return core::invalid_argument("journal corrupt in " + path + " at offset " + std::to_string(offset) + ": " + problem +
                                      ". The records from there on cannot be read. To start anyway, move this segment "
                                      "(and any later ones) out of storage.dir, or truncate it at that offset; the "
                                      "records after it are lost.");
      }
      const std::uint64_t seq = get_u64(data, offset + 8);
      if (seq > report.snapshot_seq) {
        if (seq != last + 1) {
          return core::invalid_argument("journal gap in " + path + " at offset " + std::to_string(offset) + ": record " +
                                        std::to_string(seq) + " follows " + std::to_string(last));
        }
        auto status = visitor.on_record(seq, std::string_view(data).substr(offset + header_bytes, length));
        if (!status) {
          return core::invalid_argument("record " + std::to_string(seq) + " in " + path + " at offset " +
                                        std::to_string(offset) + " cannot be replayed: " + status.error().message);
        }
        last = seq;
        ++report.records_replayed;
      }
      offset += header_bytes + length;
    }
  }
  report.last_seq = last;

  std::unique_ptr<Journal> journal(new Journal(options, last + 1, *seed));
  std::string error;
  if (!segments.empty() && fs::file_size(segments.back().second, ec) < max_segment_bytes) {
    journal->fd_ = ::open(segments.back().second.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    journal->segment_path_ = segments.back().second;
    journal->segment_bytes_ = fs::file_size(segments.back().second, ec);
    if (journal->fd_ < 0) return core::invalid_argument(sys_error("cannot open " + segments.back().second));
  } else if (!journal->open_segment(last + 1, error)) {
    return core::invalid_argument(error);
  }
  journal->sync_thread_ = std::thread([j = journal.get()] { j->run_sync(); });
  return journal;
}

bool Journal::open_segment(std::uint64_t first_seq, std::string& error) {
  if (fd_ >= 0) retired_fds_.push_back(fd_);  // the sync thread fdatasyncs and closes it
  segment_path_ = numbered(options_.dir, "journal-", first_seq, ".log");
  fd_ = ::open(segment_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    error = sys_error("cannot create " + segment_path_);
    return false;
  }
  segment_bytes_ = 0;
  fsync_dir(options_.dir);
  return true;
}

Journal::~Journal() {
  {
    std::lock_guard lock(mutex_);
    if (!buffer_.empty()) write_buffer_locked();
    stopping_ = true;
  }
  sync_wake_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  {
    // A snapshot still being written is given up: its temporary file is removed at the next open,
    // and the journal it would have shortened is all there. Stopping is never held up by it.
    std::lock_guard lock(mutex_);
    if (snapshot_child_ > 0) ::kill(snapshot_child_, SIGKILL);
  }
  if (reaper_.joinable()) reaper_.join();
  for (int fd : retired_fds_) {
    ::fdatasync(fd);
    ::close(fd);
  }
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

std::uint64_t Journal::append(std::string_view payload) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  if (buffer_.empty()) buffer_first_seq_ = seq;
  put_u32(buffer_, static_cast<std::uint32_t>(payload.size()));
  put_u32(buffer_, record_crc(seq, payload));
  put_u64(buffer_, seq);
  buffer_ += payload;
  return seq;
}

void Journal::write_buffer_locked() {
  std::string error;
  if (segment_bytes_ >= max_segment_bytes && !open_segment(buffer_first_seq_, error)) {
    spdlog::critical("journal: {}; stopping: nothing more can be acknowledged", error);
    std::abort();
  }
  if (!write_all(fd_, buffer_)) {
    spdlog::critical("journal: write to {} failed: {}; stopping: nothing more can be acknowledged", segment_path_,
                     std::strerror(errno));
    std::abort();
  }
  segment_bytes_ += buffer_.size();
  stats_.commits += 1;
  stats_.records += next_seq_ - 1 - written_seq_;
  stats_.bytes += buffer_.size();
  static auto& committed_bytes = metrics::registry().counter("escalation_router_journal_bytes_total", "Bytes written to journals");
  committed_bytes.add(buffer_.size());
  written_seq_ = next_seq_ - 1;
  if (options_.fsync == FsyncMode::none) synced_seq_ = written_seq_;
  if (buffer_.capacity() > (4U << 20)) {
    std::string().swap(buffer_);  // a burst (a reload's requeues) is not kept
  } else {
    buffer_.clear();
  }
}

void Journal::commit(Committed committed) {
  std::unique_lock lock(mutex_);
  const bool was_synced = synced_seq_ == written_seq_;
  if (!buffer_.empty()) write_buffer_locked();
  if (options_.fsync == FsyncMode::always) {
    if (synced_seq_ == written_seq_ && waiting_.empty() && !round_running_) {
      lock.unlock();  // nothing unsynced, no callback of the sync thread still running: in order
      if (committed) committed();
      return;
    }
    waiting_.emplace_back(written_seq_, std::move(committed));
    sync_wake_.notify_one();
    return;
  }
  // batch: the sync thread sleeps until something is unsynced; tell it once.
  if (options_.fsync == FsyncMode::batch && was_synced && written_seq_ != synced_seq_) sync_wake_.notify_one();
  lock.unlock();
  if (committed) committed();
}

std::uint64_t Journal::append(std::string_view payload, Committed committed) {
  std::uint64_t seq = 0;
  {
    // One lock for both, so that concurrent callers' records and callbacks keep one order.
    std::lock_guard order(commit_order_);
    seq = append(payload);
    commit(std::move(committed));
  }
  return seq;
}

void Journal::write_snapshot(std::uint64_t seq, std::string bytes, std::uint64_t events) {
  std::lock_guard lock(mutex_);
  snapshots_.push_back({seq, events, std::move(bytes)});
  sync_wake_.notify_one();
}

void Journal::write_file(std::string name, std::string content) {
  std::lock_guard lock(mutex_);
  for (auto& [waiting, text] : files_) {
    if (waiting == name) {
      text = std::move(content);
      return;
    }
  }
  files_.emplace_back(std::move(name), std::move(content));
  sync_wake_.notify_one();
}

bool Journal::fork_snapshot(std::uint64_t seq, std::uint64_t events, const std::function<std::string()>& serialize) {
  {
    std::lock_guard lock(mutex_);
    if (snapshot_child_ > 0) return false;
  }
  if (reaper_.joinable()) reaper_.join();  // it has finished: it clears snapshot_child_ last
  const auto started = std::chrono::steady_clock::now();
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' runtime (GCC 12) is not fork-safe in a threaded process: a child can hang on
  // a lock another thread held at the fork. Sanitizer builds serialize here and write on the sync thread.
  write_snapshot(seq, serialize(), events);
  std::lock_guard lock(mutex_);
  stats_.last_snapshot_fork_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  ++stats_.snapshots;
  return true;
#endif
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Dies with the thread that forked it (a daemon killed meanwhile leaves no orphan behind).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // The child: a copy of the parent's memory at this instant, one thread. Memory and files only.
    // It runs only on CPU time nothing else wants, and writes at idle I/O priority: a snapshot
    // never competes with the requests the parent serves meanwhile.
    sched_param idle{};
    ::sched_setscheduler(0, SCHED_IDLE, &idle);
    constexpr int ioprio_class_idle = 3;
    constexpr int ioprio_class_shift = 13;
    ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, ioprio_class_idle << ioprio_class_shift);
    const std::string bytes = serialize();
    const std::string file = encode_snapshot_file(seq, events, bytes);
    ::_exit(write_durably(options_.dir, (fs::path(options_.dir) / snapshot_name(seq)).string(), file) ? 0 : 1);
  }
  const double fork_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (pid < 0) {
    spdlog::error("journal: cannot fork to write a snapshot: {}", std::strerror(errno));
    return false;
  }
  {
    std::lock_guard lock(mutex_);
    snapshot_child_ = pid;
    stats_.last_snapshot_fork_ms = fork_ms;
  }
  reaper_ = std::thread([this, pid, seq, fork_ms] {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      spdlog::info("journal: snapshot at record {} written (input stopped {:.1f} ms for the fork)", seq, fork_ms);
      remove_covered_segments();
      std::lock_guard lock(mutex_);
      ++stats_.snapshots;
    } else {
      spdlog::error("journal: the snapshot child for record {} failed (status {}); the journal is kept", seq, status);
    }
    std::lock_guard lock(mutex_);
    snapshot_child_ = -1;
  });
  return true;
}

void Journal::flush() {
  std::unique_lock lock(mutex_);
  if (!buffer_.empty()) write_buffer_locked();
  const std::uint64_t target = written_seq_;
  auto done = [&] { return synced_seq_ >= target && waiting_.empty() && snapshots_.empty() && files_.empty() && !round_running_; };
  if (done()) return;
  flush_requested_ = true;
  sync_wake_.notify_one();
  synced_.wait(lock, done);
}

std::uint64_t Journal::last_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

JournalStats Journal::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Journal::run_sync() {
  using clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(std::max<core::DurationMs>(1, options_.fsync_interval_ms));
  const bool syncing = options_.fsync != FsyncMode::none;
  auto& fsync_seconds = fsync_histogram(options_.dir);
  auto last_sync = clock::now();
  std::unique_lock lock(mutex_);
  for (;;) {
    auto work = [&] {
      return stopping_ || flush_requested_ || !snapshots_.empty() || !files_.empty() || !retired_fds_.empty() || !waiting_.empty() ||
             (syncing && written_seq_ > synced_seq_);
    };
    sync_wake_.wait(lock, work);
    if (options_.fsync == FsyncMode::batch && !stopping_ && !flush_requested_ && snapshots_.empty()) {
      // No one waits for this fdatasync: let the interval pass, then one covers all of it.
      sync_wake_.wait_until(lock, last_sync + interval, [&] { return stopping_ || flush_requested_; });
    }
    const bool stop = stopping_;
    flush_requested_ = false;
    const std::uint64_t target = written_seq_;
    const int fd = fd_;
    std::vector<int> retired;
    retired.swap(retired_fds_);
    std::vector<std::pair<std::uint64_t, Committed>> callbacks;
    callbacks.swap(waiting_);
    std::vector<SnapshotJob> jobs;
    jobs.swap(snapshots_);
    std::vector<std::pair<std::string, std::string>> files;
    files.swap(files_);
    round_running_ = true;
    const bool needs_sync = syncing && target > synced_seq_;
    lock.unlock();

    for (int old : retired) {
      if (syncing) ::fdatasync(old);
      ::close(old);
    }
    double fsync_ms = 0;
    if (needs_sync) {
      const auto start = clock::now();
      if (::fdatasync(fd) != 0) {
        spdlog::critical("journal: fdatasync of {} failed: {}; stopping", segment_path_, std::strerror(errno));
        std::abort();
      }
      fsync_ms = std::chrono::duration<double, std::milli>(clock::now() - start).count();
      fsync_seconds.observe(fsync_ms / 1000.0);
      last_sync = clock::now();
    }
    lock.lock();
    if (needs_sync) {
      synced_seq_ = std::max(synced_seq_, target);
      ++stats_.syncs;
      stats_.last_fsync_ms = fsync_ms;
      stats_.max_fsync_ms = std::max(stats_.max_fsync_ms, fsync_ms);
    } else if (!syncing) {
      synced_seq_ = written_seq_;
    }
    lock.unlock();
    for (auto& [seq, callback] : callbacks) {
      if (callback) callback();  // every one of them is covered: they waited for written_seq_ <= target
    }
    for (const auto& [name, content] : files) {
      if (!write_durably(options_.dir, (fs::path(options_.dir) / name).string(), content)) {
        spdlog::error("journal: cannot write {}: {}", name, std::strerror(errno));
      }
    }
    for (const SnapshotJob& job : jobs) {
      const std::string name = snapshot_name(job.seq);
      if (!write_durably(options_.dir, (fs::path(options_.dir) / name).string(), encode_snapshot_file(job.seq, job.events, job.bytes))) {
        spdlog::error("journal: cannot write snapshot {}: {}", name, std::strerror(errno));
        continue;
      }
      spdlog::info("journal: snapshot at record {} written ({} bytes)", job.seq, job.bytes.size());
      remove_covered_segments();
    }
    lock.lock();
    round_running_ = false;
    synced_.notify_all();
    if (stop && written_seq_ <= synced_seq_ && waiting_.empty() && snapshots_.empty() && files_.empty() && retired_fds_.empty()) break;
  }
}

void Journal::remove_covered_segments() {
  std::lock_guard files(files_mutex_);
  // The snapshots, oldest first, with the outbound sequence each was taken at.
  auto snapshots = list(options_.dir, "snapshot-", ".bin");
  if (snapshots.empty()) return;
  std::vector<std::uint64_t> events(snapshots.size(), 0);
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    std::string prefix;
    if (read_prefix(snapshots[i].second, snapshot_header, prefix)) {
      if (auto header = parse_snapshot_header(prefix); header && header->has_events) events[i] = header->events;
    }
  }
  // Keep from the newest snapshot the sinks have caught up with (at least the two newest, at most four).
  const std::uint64_t confirmed = retain_ ? retain_() : std::numeric_limits<std::uint64_t>::max();
  std::size_t keep_from = 0;
  for (std::size_t i = snapshots.size(); i-- > 0;) {
    if (events[i] <= confirmed) {
      keep_from = i;
      break;
    }
  }
  if (snapshots.size() >= 2) keep_from = std::min(keep_from, snapshots.size() - 2);
  if (snapshots.size() > 4) keep_from = std::max(keep_from, snapshots.size() - 4);
  const std::uint64_t base = snapshots[keep_from].first;
  std::string current;
  {
    std::lock_guard lock(mutex_);
    current = segment_path_;
  }
  auto segments = list(options_.dir, "journal-", ".log");
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i + 1].first <= base + 1 && segments[i].second != current) {
      ::unlink(segments[i].second.c_str());
    }
  }
  for (std::size_t i = 0; i < keep_from; ++i) ::unlink(snapshots[i].second.c_str());
}

}  // namespace router::adapters::storage
