// The storage directory's file helpers: numbered files, whole and partial reads, durable writes,
// little-endian fields. Shared by the journal and the snapshot file format.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace router::adapters::storage {

// "what: <strerror(errno)>".
std::string sys_error(const std::string& what);
// dir/<prefix><n, 20 digits><suffix>
std::string numbered(const std::string& dir, const char* prefix, std::uint64_t n, const char* suffix);
// Files "<prefix><number><suffix>" in dir, sorted by number.
std::vector<std::pair<std::uint64_t, std::string>> list(const std::string& dir, std::string_view prefix, std::string_view suffix);

bool read_whole_file(const std::string& path, std::string& out);
// At most `limit` bytes of the start of a file.
bool read_prefix(const std::string& path, std::size_t limit, std::string& out);
bool write_all(int fd, std::string_view data);
void fsync_dir(const std::string& dir);
// Writes `content` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
bool write_durably(const std::string& dir, const std::string& path, std::string_view content);

inline void put_u32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
inline void put_u64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
inline std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t v;
  std::memcpy(&v, in.data() + at, 4);
  return v;
}
inline std::uint64_t get_u64(std::string_view in, std::size_t at) {
  std::uint64_t v;
  std::memcpy(&v, in.data() + at, 8);
  return v;
}

}  // namespace router::adapters::storage
