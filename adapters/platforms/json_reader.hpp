// Internal to the platform decoders: typed, path-naming access to a simdjson DOM object.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "router/core/events.hpp"
#include "router/core/result.hpp"

namespace router::adapters::platforms {

// A DOM parser per thread, reused: it keeps its buffers between documents. A document parsed with
// it stays valid until the next parse on the same thread.
simdjson::dom::parser& thread_parser();

// Parses `json` fully (syntax and UTF-8 everywhere); the top level must be an object.
core::Result<simdjson::dom::element> parse_object(simdjson::dom::parser& parser, std::string_view json);

// The object itself, or the one under `key` when the payload is an envelope ({"data": {...}}); the
// path names where it was found, for error messages.
std::pair<simdjson::dom::object, std::string> unwrap(simdjson::dom::object object, std::string_view key);

class ObjectReader {
 public:
  ObjectReader(simdjson::dom::object object, std::string path) : object_(object), path_(std::move(path)) {}

  std::string field_path(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }
  bool has(std::string_view key) const;
  bool is_null(std::string_view key) const;
  std::optional<simdjson::dom::element> get(std::string_view key) const;

  // Each returns nullopt when absent (or null); sets error() when present with the wrong type/limits.
  std::optional<std::string> string(std::string_view key, std::size_t max_bytes = 256, bool allow_empty = false);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max, bool allow_numeric_string = false);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::vector<std::string>> strings(std::string_view key, std::size_t max_items, std::size_t max_bytes);
  std::optional<core::Attributes> attributes(std::string_view key);
  std::optional<simdjson::dom::object> object(std::string_view key);

  void require(std::string_view key, std::string_view what);  // sets a "missing" error
  void fail(std::string message);
  bool ok() const { return !error_; }
  const core::Error& error() const { return *error_; }

 private:
  simdjson::dom::object object_;
  std::string path_;
  std::optional<core::Error> error_;
};

}  // namespace router::adapters::platforms
