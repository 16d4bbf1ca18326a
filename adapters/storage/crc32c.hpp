// CRC-32C (Castagnoli), the checksum of journal records and snapshot files.
#pragma once

#include <cstdint>
#include <string_view>

namespace router::adapters::storage {

std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace router::adapters::storage
