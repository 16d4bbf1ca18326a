#include "daemon/systemd_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace router::daemon::systemd {

void notify_ready() { sd_notify(0, "READY=1\nSTATUS=ready"); }

void notify_reloading() {
  // MONOTONIC_USEC lets systemd >= 253 (Type=notify-reload) match the reload to this message.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1'000'000ULL + static_cast<unsigned long long>(now.tv_nsec / 1000);
  const std::string message = "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=" + std::to_string(usec);
  sd_notify(0, message.c_str());
}

void notify_stopping() { sd_notify(0, "STOPPING=1\nSTATUS=stopping"); }

void notify_status(std::string_view status) {
  const std::string message = "STATUS=" + std::string(status);
  sd_notify(0, message.c_str());
}

void notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_ping_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    return std::chrono::microseconds(usec / 2);
  }
  return std::nullopt;
}

}  // namespace router::daemon::systemd
