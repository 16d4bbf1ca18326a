// Time as the core sees it: plain integers carried in by its inputs. The core never reads a clock.
// Timestamps are milliseconds since the Unix epoch (UTC); durations are milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "router/core/result.hpp"

namespace router::core {

using TimestampMs = std::int64_t;
using DurationMs = std::int64_t;

// "2026-03-12T10:05:00.000Z": RFC 3339, UTC, always with milliseconds.
std::string format_rfc3339_ms(TimestampMs at);

// Accepts RFC 3339 date-times: 'T' or ' ' separator, optional fraction (any digits, truncated to
// milliseconds), 'Z' or a numeric offset. Rejects everything else, including out-of-range fields.
std::optional<TimestampMs> parse_rfc3339(std::string_view text);

// Durations with units, as the configuration writes them: "250ms", "30s", "10m", "1h", "1h30m",
// and "0". A bare number other than 0 is rejected: the unit must be explicit.
Result<DurationMs> parse_duration(std::string_view text);

// The shortest exact spelling of a duration in the units above ("90s" -> "1m30s").
std::string format_duration(DurationMs duration);

}  // namespace router::core
