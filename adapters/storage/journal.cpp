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
#include <sstream>

#include "adapters/metrics/registry.hpp"
#include "adapters/storage/crc32c.hpp"

namespace router::adapters::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t header_bytes = 16;
constexpr std::uint64_t max_segment_bytes = 64ULL << 20;
constexpr std::uint32_t max_record_bytes = 32U << 20;
constexpr std::string_view snapshot_magic = "ERSNAPF1";

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string numbered(const std::string& dir, const char* prefix, std::uint64_t n, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%020llu%s", prefix, static_cast<unsigned long long>(n), suffix);
  return (fs::path(dir) / name).string();
}

// Files "<prefix><number><suffix>" in dir, sorted by number.
std::vector<std::pair<std::uint64_t, std::string>> list(const std::string& dir, std::string_view prefix, std::string_view suffix) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
    out.emplace_back(std::stoull(digits), entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool read_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return true;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Writes `content` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
bool write_durably(const std::string& dir, const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool ok = write_all(fd, content) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  fsync_dir(dir);
  return true;
}

void put_u32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put_u64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t v;
  std::memcpy(&v, in.data() + at, 4);
  return v;
}
std::uint64_t get_u64(std::string_view in, std::size_t at) {
  std::uint64_t v;
  std::memcpy(&v, in.data() + at, 8);
  return v;
}

std::uint32_t record_crc(std::uint64_t seq, std::string_view payload) {
  return crc32c(payload, crc32c(std::string_view(reinterpret_cast<const char*>(&seq), 8)));
}

core::Result<std::uint64_t> load_or_create_identity(const std::string& dir) {
  const std::string path = (fs::path(dir) / "router.meta").string();
  std::string text;
  if (read_file(path, text)) {
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

}  // namespace

Journal::Journal(StorageOptions options, std::uint64_t next_seq, std::uint64_t id_seed)
    : options_(std::move(options)), id_seed_(id_seed), next_seq_(next_seq), committed_seq_(next_seq - 1) {}

core::Result<std::unique_ptr<Journal>> Journal::open(const StorageOptions& options, RecoveryVisitor& visitor,
                                                     RecoveryReport& report) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return core::invalid_argument("cannot create storage.dir " + options.dir + ": " + ec.message());
  auto seed = load_or_create_identity(options.dir);
  if (!seed) return std::move(seed).error();
  visitor.on_identity(*seed);

  // The newest snapshot that verifies.
  auto snapshots = list(options.dir, "snapshot-", ".bin");
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    std::string bytes;
    std::string why;
    if (!read_file(it->second, bytes)) {
      why = "unreadable";
    } else if (bytes.size() < 28 || std::string_view(bytes).substr(0, 8) != snapshot_magic) {
      why = "not a snapshot";
    } else {
      const std::uint64_t seq = get_u64(bytes, 8);
      const std::uint64_t length = get_u64(bytes, 16);
      const std::uint32_t crc = get_u32(bytes, 24);
      const std::string_view payload = std::string_view(bytes).substr(28);
      if (payload.size() != length || crc32c(payload) != crc) {
        why = "checksum mismatch";
      } else if (auto status = visitor.on_snapshot(seq, payload); !status) {
        why = status.error().message;
      } else {
        report.snapshot_seq = seq;
        break;
      }
    }
    report.warnings.push_back("skipping snapshot " + it->second + ": " + why);
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
    if (!read_file(path, data)) return core::invalid_argument(sys_error("cannot read " + path));
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
  journal->writer_ = std::thread([j = journal.get()] { j->run(); });
  return journal;
}

bool Journal::open_segment(std::uint64_t first_seq, std::string& error) {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
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
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

std::uint64_t Journal::append(std::string payload, Committed committed) {
  std::lock_guard lock(mutex_);
  const std::uint64_t seq = next_seq_++;
  if (pending_.empty()) pending_first_seq_ = seq;
  put_u32(pending_, static_cast<std::uint32_t>(payload.size()));
  put_u32(pending_, record_crc(seq, payload));
  put_u64(pending_, seq);
  pending_ += payload;
  pending_callbacks_.push_back(std::move(committed));
  if (options_.fsync != FsyncMode::batch) wake_.notify_one();
  else if (pending_callbacks_.size() == 1) wake_.notify_one();
  return seq;
}

void Journal::write_snapshot(std::uint64_t seq, std::string bytes) {
  std::lock_guard lock(mutex_);
  snapshots_.push_back({seq, std::move(bytes)});
  wake_.notify_one();
}

void Journal::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = next_seq_ - 1;
  flushed_.wait(lock, [&] { return committed_seq_ >= target; });
}

std::uint64_t Journal::last_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

JournalStats Journal::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Journal::run() {
  using clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(std::max<core::DurationMs>(1, options_.fsync_interval_ms));
  auto last_sync = clock::now();
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty() || !snapshots_.empty(); });
    if (stopping_ && pending_.empty() && snapshots_.empty()) break;
    if (options_.fsync == FsyncMode::batch && !stopping_ && !pending_.empty()) {
      // Collect for the rest of the interval: one fsync for all of it.
      wake_.wait_until(lock, last_sync + interval, [&] { return stopping_; });
    }
    std::string buffer;
    buffer.swap(pending_);
    std::vector<Committed> callbacks;
    callbacks.swap(pending_callbacks_);
    std::vector<SnapshotJob> snapshots;
    snapshots.swap(snapshots_);
    const std::uint64_t first_seq = pending_first_seq_;
    const std::uint64_t last_seq = next_seq_ - 1;
    lock.unlock();

    double fsync_ms = 0;
    if (!buffer.empty()) {
      std::string error;
      if (segment_bytes_ >= max_segment_bytes && !open_segment(first_seq, error)) {
        spdlog::critical("journal: {}; stopping: nothing more can be acknowledged", error);
        std::abort();
      }
      if (!write_all(fd_, buffer)) {
        spdlog::critical("journal: write to {} failed: {}; stopping: nothing more can be acknowledged", segment_path_,
                         std::strerror(errno));
        std::abort();
      }
      segment_bytes_ += buffer.size();
      if (options_.fsync != FsyncMode::none) {
        const auto start = clock::now();
        if (::fdatasync(fd_) != 0) {
          spdlog::critical("journal: fdatasync of {} failed: {}; stopping", segment_path_, std::strerror(errno));
          std::abort();
        }
        fsync_ms = std::chrono::duration<double, std::milli>(clock::now() - start).count();
        static auto& fsync_seconds = metrics::registry().histogram(
            "escalation_router_journal_fsync_duration_seconds", "Time of one journal fdatasync (one group commit)",
            {{"journal", options_.dir.size() >= 11 && options_.dir.compare(options_.dir.size() - 11, 11, "/deliveries") == 0 ? "deliveries" : "inputs"}});
        fsync_seconds.observe(fsync_ms / 1000.0);
      }
      static auto& committed_bytes = metrics::registry().counter("escalation_router_journal_bytes_total", "Bytes written to journals");
      committed_bytes.add(buffer.size());
      last_sync = clock::now();
    }
    for (auto& callback : callbacks) callback();
    for (const SnapshotJob& job : snapshots) {
      std::string file;
      file.reserve(job.bytes.size() + 28);
      file.append(snapshot_magic);
      put_u64(file, job.seq);
      put_u64(file, job.bytes.size());
      put_u32(file, crc32c(job.bytes));
      file += job.bytes;
      const std::string path = numbered(options_.dir, "snapshot-", job.seq, ".bin");
      if (!write_durably(options_.dir, path, file)) {
        spdlog::error("journal: cannot write snapshot {}: {}", path, std::strerror(errno));
        continue;
      }
      spdlog::info("journal: snapshot at record {} written ({} bytes)", job.seq, file.size());
      remove_covered_segments(job.seq);
    }

    lock.lock();
    if (!callbacks.empty()) {
      committed_seq_ = last_seq;
      ++stats_.commits;
      stats_.records += callbacks.size();
      stats_.bytes += buffer.size();
      stats_.last_fsync_ms = fsync_ms;
      stats_.max_fsync_ms = std::max(stats_.max_fsync_ms, fsync_ms);
    }
    flushed_.notify_all();
  }
}

void Journal::remove_covered_segments(std::uint64_t seq) {
  auto segments = list(options_.dir, "journal-", ".log");
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i + 1].first <= seq + 1 && segments[i].second != segment_path_) {
      ::unlink(segments[i].second.c_str());
    }
  }
  auto snapshots = list(options_.dir, "snapshot-", ".bin");
  for (std::size_t i = 0; i + 2 < snapshots.size(); ++i) {  // keep the two newest
    ::unlink(snapshots[i].second.c_str());
  }
}

}  // namespace router::adapters::storage
