// The snapshot file: [8 magic "ERSNAPF2"][u64 seq][u64 length][u32 crc32c][u64 events][payload],
// events being the outbound sequence at that record; "ERSNAPF1" files (28-byte header, no events)
// are still read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace router::adapters::storage {

inline constexpr std::string_view snapshot_magic_v1 = "ERSNAPF1";
inline constexpr std::string_view snapshot_magic = "ERSNAPF2";
inline constexpr std::size_t snapshot_header_v1 = 28;
inline constexpr std::size_t snapshot_header = 36;

struct SnapshotHeader {
  std::uint64_t seq = 0;
  std::uint64_t length = 0;
  std::uint32_t crc = 0;
  std::uint64_t events = 0;
  bool has_events = false;
  std::size_t size = 0;  // of the header
};

// The header of a snapshot file's first bytes; nullopt when it is not one.
std::optional<SnapshotHeader> parse_snapshot_header(std::string_view bytes);
std::string encode_snapshot_file(std::uint64_t seq, std::uint64_t events, std::string_view payload);
std::string snapshot_name(std::uint64_t seq);  // "snapshot-<seq, 20 digits>.bin"

}  // namespace router::adapters::storage
