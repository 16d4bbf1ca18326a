#include "adapters/storage/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace router::adapters::storage {

namespace fs = std::filesystem;

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

namespace {

// Reads at most `limit` bytes from fd into `out` (shorter at the end of the file); closes fd.
bool read_up_to(int fd, std::size_t limit, std::string& out) {
  out.resize(limit);
  std::size_t done = 0;
  while (done < limit) {
    const ssize_t n = ::read(fd, out.data() + done, limit - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return true;
}
}  // namespace

bool read_whole_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  return read_up_to(fd, static_cast<std::size_t>(st.st_size), out);
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


// Reads at most `limit` bytes of the start of a file.
bool read_prefix(const std::string& path, std::size_t limit, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  return read_up_to(fd, limit, out);
}

}  // namespace router::adapters::storage
