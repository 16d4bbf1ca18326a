// Logging set-up: spdlog to stderr (journald captures it), text or JSON lines, UTC timestamps.
#pragma once

#include "daemon/config.hpp"

namespace router::daemon {

// (Re)configures the default logger. Safe to call again on reload.
void configure_logging(const LogOptions& options);

}  // namespace router::daemon
