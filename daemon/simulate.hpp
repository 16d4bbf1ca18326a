// `escalation-routerd simulate`: runs the routing core offline over recorded events (JSON lines)
// and prints every outbound event with the decision behind it, one JSON object per line.
#pragma once

#include <iosfwd>
#include <string>

#include "daemon/config.hpp"

namespace router::daemon {

// Returns the exit code: 0 when every line was read, 1 when a line was malformed (it is reported
// in the output and skipped).
int run_simulation(const Config& config, std::istream& events, std::ostream& out);

}  // namespace router::daemon
