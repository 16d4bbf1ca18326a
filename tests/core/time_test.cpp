#include <gtest/gtest.h>

#include "router/core/time.hpp"

namespace router::core {
namespace {

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1'773'309'900'123), "2026-03-12T10:05:00.123Z");
}

TEST(Rfc3339, FormatsBeforeTheEpoch) { EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z"); }

TEST(Rfc3339, ParsesWhatItFormats) {
  for (TimestampMs at : {TimestampMs{0}, TimestampMs{1'773'309'900'123}, TimestampMs{951'782'400'000}}) {
    EXPECT_EQ(parse_rfc3339(format_rfc3339_ms(at)), at);
  }
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("2026-03-12T10:05:00Z"), 1'773'309'900'000);
  EXPECT_EQ(parse_rfc3339("2026-03-12T12:05:00+02:00"), 1'773'309'900'000);
  EXPECT_EQ(parse_rfc3339("2026-03-12T09:35:00-00:30"), 1'773'309'900'000);
  EXPECT_EQ(parse_rfc3339("2026-03-12T10:05:00.5Z"), 1'773'309'900'500);
  EXPECT_EQ(parse_rfc3339("2026-03-12T10:05:00.123456789Z"), 1'773'309'900'123);
  EXPECT_EQ(parse_rfc3339("2026-03-12 10:05:00Z"), 1'773'309'900'000);
}

TEST(Rfc3339, RejectsMalformedAndOutOfRange) {
  for (const char* bad : {"", "2026-03-12", "2026-03-12T10:05:00", "2026-02-30T10:05:00Z", "2026-13-01T00:00:00Z",
                          "2026-03-12T24:00:00Z", "2026-03-12T10:60:00Z", "2026-03-12T10:05:00.Z",
                          "2026-03-12T10:05:00+0200", "2026-03-12T10:05:00Zjunk", "x026-03-12T10:05:00Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Duration, ParsesEveryUnitAndCombinations) {
  EXPECT_EQ(*parse_duration("250ms"), 250);
  EXPECT_EQ(*parse_duration("30s"), 30'000);
  EXPECT_EQ(*parse_duration("10m"), 600'000);
  EXPECT_EQ(*parse_duration("1h"), 3'600'000);
  EXPECT_EQ(*parse_duration("1h30m"), 5'400'000);
  EXPECT_EQ(*parse_duration("1m30s500ms"), 90'500);
  EXPECT_EQ(*parse_duration("0"), 0);
  EXPECT_EQ(*parse_duration("0s"), 0);
}

TEST(Duration, RejectsMissingOrUnknownUnits) {
  for (const char* bad : {"", "10", "s", "10x", "10 s", "-5s", "1.5s", "10sec", "9999999999h"}) {
    auto parsed = parse_duration(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::invalid_argument);
  }
}

TEST(Duration, FormatsTheShortestExactSpelling) {
  EXPECT_EQ(format_duration(0), "0");
  EXPECT_EQ(format_duration(90'000), "1m30s");
  EXPECT_EQ(format_duration(3'600'250), "1h250ms");
  for (const char* text : {"250ms", "30s", "10m", "1h", "1h30m"}) {
    EXPECT_EQ(format_duration(*parse_duration(text)), text);
  }
}

}  // namespace
}  // namespace router::core
