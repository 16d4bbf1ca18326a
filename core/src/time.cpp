#include "router/core/time.hpp"

#include <chrono>
#include <cstdio>

namespace router::core {
namespace {

namespace chrono = std::chrono;

bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, int& out) {
  if (pos + count > text.size()) {
    return false;
  }
  int value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += count;
  out = value;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

std::string format_rfc3339_ms(TimestampMs at) {
  const chrono::sys_time<chrono::milliseconds> tp{chrono::milliseconds{at}};
  const auto day = chrono::floor<chrono::days>(tp);
  const chrono::year_month_day ymd{day};
  const chrono::hh_mm_ss hms{tp - day};
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                              static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                              static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                              static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<TimestampMs> parse_rfc3339(std::string_view text) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') || !read_digits(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return std::nullopt;
  }
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') || !read_digits(text, pos, 2, minute) ||
      !expect(text, pos, ':') || !read_digits(text, pos, 2, second)) {
    return std::nullopt;
  }
  int millis = 0;
  if (expect(text, pos, '.')) {
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) {
        millis = millis * 10 + (text[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (std::size_t i = digits; i < 3; ++i) {
      millis *= 10;
    }
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!read_digits(text, pos, 2, oh) || !expect(text, pos, ':') || !read_digits(text, pos, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const chrono::year_month_day ymd{chrono::year{year}, chrono::month{static_cast<unsigned>(month)},
                                   chrono::day{static_cast<unsigned>(day)}};
  // A leap second (:60) is accepted and folded into the next minute, as RFC 3339 allows it.
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const auto days = chrono::sys_days{ymd}.time_since_epoch();
  const std::int64_t ms = chrono::duration_cast<chrono::milliseconds>(days).count() +
                          ((hour * 60LL + minute - offset_minutes) * 60LL + second) * 1000LL + millis;
  return ms;
}

Result<DurationMs> parse_duration(std::string_view text) {
  if (text == "0") {
    return DurationMs{0};
  }
  if (text.empty()) {
    return invalid_argument("empty duration: expected a number with a unit, like \"30s\"");
  }
  DurationMs total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] < '0' || text[pos] > '9') {
      return invalid_argument("invalid duration \"" + std::string(text) +
                              "\": expected a number with a unit (ms, s, m, h), like \"30s\"");
    }
    std::int64_t number = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      number = number * 10 + (text[pos] - '0');
      if (number > 1'000'000'000LL) {
        return invalid_argument("duration \"" + std::string(text) + "\" is too large");
      }
      ++pos;
    }
    std::int64_t unit = 0;
    if (text.substr(pos, 2) == "ms") {
      unit = 1;
      pos += 2;
    } else if (pos < text.size() && text[pos] == 's') {
      unit = 1000;
      ++pos;
    } else if (pos < text.size() && text[pos] == 'm') {
      unit = 60'000;
      ++pos;
    } else if (pos < text.size() && text[pos] == 'h') {
      unit = 3'600'000;
      ++pos;
    } else {
      return invalid_argument("invalid duration \"" + std::string(text) +
                              "\": every number needs a unit (ms, s, m, h), like \"30s\"");
    }
    total += number * unit;
    if (total > 366LL * 24 * 3'600'000) {
      return invalid_argument("duration \"" + std::string(text) + "\" is too large (at most a year)");
    }
  }
  return total;
}

std::string format_duration(DurationMs duration) {
  if (duration == 0) {
    return "0";
  }
  std::string out;
  if (duration < 0) {
    out += '-';
    duration = -duration;
  }
  const std::int64_t hours = duration / 3'600'000;
  const std::int64_t minutes = duration / 60'000 % 60;
  const std::int64_t seconds = duration / 1000 % 60;
  const std::int64_t millis = duration % 1000;
  if (hours != 0) {
    out += std::to_string(hours) + "h";
  }
  if (minutes != 0) {
    out += std::to_string(minutes) + "m";
  }
  if (seconds != 0) {
    out += std::to_string(seconds) + "s";
  }
  if (millis != 0) {
    out += std::to_string(millis) + "ms";
  }
  return out;
}

}  // namespace router::core
