#include <gtest/gtest.h>

#include "router/core/json_writer.hpp"

namespace router::core {
namespace {

TEST(JsonWriter, WritesNestedObjectsAndArraysWithCommas) {
  JsonWriter w;
  w.begin_object().field("a", 1).key("b").begin_array().value("x").value(true).null().end_array();
  w.key("c").begin_object().end_object().field("d", 2.5).end_object();
  EXPECT_EQ(w.str(), R"({"a":1,"b":["x",true,null],"c":{},"d":2.5})");
}

TEST(JsonWriter, EscapesControlCharactersQuotesAndBackslashes) {
  JsonWriter w;
  w.value(std::string_view("q\"b\\n\n\t\x01", 8));
  EXPECT_EQ(w.str(), R"("q\"b\\n\n\t\u0001")");
}

TEST(JsonWriter, KeepsValidUtf8AndReplacesInvalidBytes) {
  JsonWriter ok;
  ok.value("Tôi muốn khiếu nại 😀");
  EXPECT_EQ(ok.str(), "\"Tôi muốn khiếu nại 😀\"");
  JsonWriter bad;
  bad.value(std::string_view("a\xff" "b\xc3", 4));  // stray byte, truncated sequence
  EXPECT_EQ(bad.str(), "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
  JsonWriter surrogate;
  surrogate.value("\xED\xA0\x80");  // an encoded UTF-16 surrogate is not UTF-8
  EXPECT_EQ(surrogate.str(), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(JsonWriter, WritesIntegralDoublesWithoutFractionAndNonFiniteAsNull) {
  JsonWriter w;
  w.begin_array().value(3.0).value(-0.25).value(1.0 / 0.0).value(std::int64_t{-9}).value(std::uint64_t{18446744073709551615ULL}).end_array();
  EXPECT_EQ(w.str(), "[3,-0.25,null,-9,18446744073709551615]");
}

}  // namespace
}  // namespace router::core
