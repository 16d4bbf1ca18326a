#include "adapters/storage/snapshot_file.hpp"

#include <cstdio>

#include "adapters/storage/crc32c.hpp"
#include "adapters/storage/files.hpp"

namespace router::adapters::storage {

std::optional<SnapshotHeader> parse_snapshot_header(std::string_view bytes) {
  SnapshotHeader h;
  if (bytes.size() >= snapshot_header && bytes.substr(0, 8) == snapshot_magic) {
    h.events = get_u64(bytes, 28);
    h.has_events = true;
    h.size = snapshot_header;
  } else if (bytes.size() >= snapshot_header_v1 && bytes.substr(0, 8) == snapshot_magic_v1) {
    h.size = snapshot_header_v1;
  } else {
    return std::nullopt;
  }
  h.seq = get_u64(bytes, 8);
  h.length = get_u64(bytes, 16);
  h.crc = get_u32(bytes, 24);
  return h;
}

std::string encode_snapshot_file(std::uint64_t seq, std::uint64_t events, std::string_view bytes) {
  std::string file;
  file.reserve(bytes.size() + snapshot_header);
  file.append(snapshot_magic);
  put_u64(file, seq);
  put_u64(file, bytes.size());
  put_u32(file, crc32c(bytes));
  put_u64(file, events);
  file += bytes;
  return file;
}

std::string snapshot_name(std::uint64_t seq) {
  char name[64];
  std::snprintf(name, sizeof name, "snapshot-%020llu.bin", static_cast<unsigned long long>(seq));
  return name;
}

}  // namespace router::adapters::storage
