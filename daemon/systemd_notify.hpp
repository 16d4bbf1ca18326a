// sd_notify(3) for Type=notify services: READY, RELOADING, STOPPING and watchdog pings.
// Every call is a no-op when the daemon does not run under systemd (NOTIFY_SOCKET unset).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace router::daemon::systemd {

void notify_ready();
void notify_reloading();
void notify_stopping();
void notify_status(std::string_view status);
void notify_watchdog();

// The interval to ping at (half of WatchdogSec), when the watchdog is enabled for this process.
std::optional<std::chrono::microseconds> watchdog_ping_interval();

}  // namespace router::daemon::systemd
