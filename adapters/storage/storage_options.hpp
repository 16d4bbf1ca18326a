// Options of the journal and snapshots (config section [storage]).
#pragma once

#include <cstdint>
#include <string>

#include "router/core/time.hpp"

namespace router::adapters::storage {

enum class FsyncMode : std::uint8_t { always, batch, none };

struct StorageOptions {
  std::string dir = "./data";
  FsyncMode fsync = FsyncMode::batch;
  core::DurationMs fsync_interval_ms = 10;
  std::uint64_t snapshot_every = 100'000;  // journal records between snapshots
};

}  // namespace router::adapters::storage
