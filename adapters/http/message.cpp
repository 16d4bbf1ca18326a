#include "adapters/http/message.hpp"

#include "router/core/json_writer.hpp"

namespace router::adapters::http {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) {
      return false;
    }
  }
  return true;
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return {};
}

int http_status(core::ErrorCode code) noexcept {
  switch (code) {
    case core::ErrorCode::invalid_argument: return 400;
    case core::ErrorCode::unauthenticated: return 401;
    case core::ErrorCode::permission_denied: return 403;
    case core::ErrorCode::not_found: return 404;
    case core::ErrorCode::conflict: return 409;
    case core::ErrorCode::payload_too_large: return 413;
    case core::ErrorCode::unsupported_media: return 415;
    case core::ErrorCode::unavailable: return 503;
    case core::ErrorCode::internal: return 500;
  }
  return 500;
}

Response error_response(const core::Error& error) {
  core::JsonWriter w;
  w.begin_object().key("error").begin_object();
  w.field("code", core::error_code_name(error.code)).field("message", error.message);
  w.end_object().end_object();
  Response response;
  response.status = http_status(error.code);
  response.body = std::move(w).str();
  if (error.code == core::ErrorCode::unavailable) {
    response.headers.emplace_back("Retry-After", "1");
  }
  if (error.code == core::ErrorCode::unauthenticated) {
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return response;
}

Response error_response(core::ErrorCode code, std::string message) {
  return error_response(core::Error{code, std::move(message)});
}

Response json_response(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace router::adapters::http
