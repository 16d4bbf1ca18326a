// A small append-only JSON writer: the one way the project spells JSON out (API bodies, events).
// It escapes strings per RFC 8259 and replaces invalid UTF-8 with U+FFFD, so output is always valid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "router/core/id.hpp"
#include "router/core/text.hpp"

namespace router::core {

class JsonWriter {
 public:
  JsonWriter() = default;
  explicit JsonWriter(std::string buffer) : out_(std::move(buffer)) { out_.clear(); }

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(const Id& id) { return value(id.view()); }
  JsonWriter& value(const Text& text) { return value(text.view()); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(unsigned number) { return value(static_cast<std::uint64_t>(number)); }
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  JsonWriter& raw(std::string_view json);  // an already-serialized JSON value

  // key + value in one call.
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const& { return out_; }
  std::string str() && { return std::move(out_); }

 private:
  void separate();

  std::string out_;
  bool need_comma_ = false;
};

// Appends `text` to `out` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view text);

}  // namespace router::core
