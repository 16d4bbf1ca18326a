#include "adapters/platforms/json_reader.hpp"

namespace router::adapters::platforms {

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

core::Result<simdjson::dom::element> parse_object(simdjson::dom::parser& parser, std::string_view json) {
  simdjson::dom::element root;
  // The DOM parser validates the whole document, including fields nobody reads, and its UTF-8.
  const simdjson::padded_string padded(json);
  if (auto error = parser.parse(padded).get(root); error) {
    return core::invalid_argument(std::string("body is not valid JSON: ") + simdjson::error_message(error));
  }
  if (!root.is_object()) {
    return core::invalid_argument("body must be a JSON object");
  }
  return root;
}

std::pair<simdjson::dom::object, std::string> unwrap(simdjson::dom::object object, std::string_view key) {
  simdjson::dom::object inner;
  if (object.at_key(key).get_object().get(inner) == simdjson::SUCCESS) {
    return {inner, std::string(key)};
  }
  return {object, ""};
}

bool ObjectReader::has(std::string_view key) const { return object_.at_key(key).error() == simdjson::SUCCESS; }

bool ObjectReader::is_null(std::string_view key) const {
  auto v = object_.at_key(key);
  return v.error() == simdjson::SUCCESS && v.value().is_null();
}

std::optional<simdjson::dom::element> ObjectReader::get(std::string_view key) const {
  simdjson::dom::element e;
  if (object_.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) {
    return std::nullopt;
  }
  return e;
}

void ObjectReader::fail(std::string message) {
  if (!error_) {
    error_ = core::invalid_argument(std::move(message));
  }
}

void ObjectReader::require(std::string_view key, std::string_view what) {
  fail(field_path(key) + ": required" + (what.empty() ? "" : " (" + std::string(what) + ")"));
}

std::optional<std::string> ObjectReader::string(std::string_view key, std::size_t max_bytes, bool allow_empty) {
  auto e = get(key);
  if (!e) return std::nullopt;
  std::string_view text;
  if (e->get_string().get(text) != simdjson::SUCCESS) {
    fail(field_path(key) + ": must be a string");
    return std::nullopt;
  }
  if (text.size() > max_bytes) {
    fail(field_path(key) + ": longer than " + std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  }
  if (text.empty() && !allow_empty) {
    fail(field_path(key) + ": must not be empty");
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                                  bool allow_numeric_string) {
  auto e = get(key);
  if (!e) return std::nullopt;
  std::int64_t value = 0;
  if (e->get_int64().get(value) != simdjson::SUCCESS) {
    std::string_view text;
    bool parsed = false;
    if (allow_numeric_string && e->get_string().get(text) == simdjson::SUCCESS && !text.empty() && text.size() <= 12) {
      parsed = true;
      value = 0;
      for (char c : text) {
        if (c < '0' || c > '9') {
          parsed = false;
          break;
        }
        value = value * 10 + (c - '0');
      }
    }
    if (!parsed) {
      fail(field_path(key) + ": must be an integer");
      return std::nullopt;
    }
  }
  if (value < min || value > max) {
    fail(field_path(key) + ": must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ObjectReader::boolean(std::string_view key) {
  auto e = get(key);
  if (!e) return std::nullopt;
  bool value = false;
  if (e->get_bool().get(value) != simdjson::SUCCESS) {
    fail(field_path(key) + ": must be true or false");
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> ObjectReader::strings(std::string_view key, std::size_t max_items, std::size_t max_bytes) {
  auto e = get(key);
  if (!e) return std::nullopt;
  simdjson::dom::array array;
  if (e->get_array().get(array) != simdjson::SUCCESS) {
    fail(field_path(key) + ": must be an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::size_t index = 0;
  for (simdjson::dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS || text.empty() || text.size() > max_bytes) {
      fail(field_path(key) + "[" + std::to_string(index) + "]: must be a non-empty string of at most " +
           std::to_string(max_bytes) + " bytes");
      return std::nullopt;
    }
    out.emplace_back(text);
    ++index;
  }
  if (out.size() > max_items) {
    fail(field_path(key) + ": at most " + std::to_string(max_items) + " items");
    return std::nullopt;
  }
  return out;
}

namespace {
std::optional<core::Scalar> scalar_of(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING: return core::Scalar{std::string(e.get_string().value())};
    case simdjson::dom::element_type::BOOL: return core::Scalar{e.get_bool().value()};
    case simdjson::dom::element_type::INT64: return core::Scalar{static_cast<double>(e.get_int64().value())};
    case simdjson::dom::element_type::UINT64: return core::Scalar{static_cast<double>(e.get_uint64().value())};
    case simdjson::dom::element_type::DOUBLE: return core::Scalar{e.get_double().value()};
    case simdjson::dom::element_type::NULL_VALUE: return core::Scalar{};
    default: return std::nullopt;
  }
}
}  // namespace

std::optional<core::Attributes> ObjectReader::attributes(std::string_view key) {
  auto e = get(key);
  if (!e) return std::nullopt;
  simdjson::dom::object object;
  if (e->get_object().get(object) != simdjson::SUCCESS) {
    fail(field_path(key) + ": must be an object");
    return std::nullopt;
  }
  core::Attributes out;
  for (auto [name_view, value] : object) {
    const std::string name(name_view);  // a plain local: lambdas below capture it (clang 14)
    const std::string path = field_path(key) + "." + name;
    if (name.empty() || name.size() > 128) {
      fail(field_path(key) + ": attribute names must have 1 to 128 bytes");
      return std::nullopt;
    }
    if (auto scalar = scalar_of(value)) {
      std::visit([&](auto&& s) { out.emplace_back(name, core::AttributeValue{s}); }, *scalar);
    } else if (value.is_array()) {
      std::vector<core::Scalar> items;
      const simdjson::dom::array list = value.get_array().value();  // a local: the result object is a temporary
      for (simdjson::dom::element item : list) {
        auto s = scalar_of(item);
        if (!s) {
          fail(path + ": a list may hold only strings, numbers, booleans and null");
          return std::nullopt;
        }
        items.push_back(*s);
      }
      if (items.size() > 100) {
        fail(path + ": at most 100 items");
        return std::nullopt;
      }
      out.emplace_back(name, core::AttributeValue{std::move(items)});
    } else {
      fail(path + ": must be a string, number, boolean, null or a list of those");
      return std::nullopt;
    }
    if (std::holds_alternative<std::string>(out.back().second) && std::get<std::string>(out.back().second).size() > 4096) {
      fail(path + ": longer than 4096 bytes");
      return std::nullopt;
    }
  }
  if (out.size() > 64) {
    fail(field_path(key) + ": at most 64 attributes");
    return std::nullopt;
  }
  return out;
}

std::optional<simdjson::dom::object> ObjectReader::object(std::string_view key) {
  auto e = get(key);
  if (!e) return std::nullopt;
  simdjson::dom::object object;
  if (e->get_object().get(object) != simdjson::SUCCESS) {
    fail(field_path(key) + ": must be an object");
    return std::nullopt;
  }
  return object;
}

}  // namespace router::adapters::platforms
