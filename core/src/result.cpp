#include "router/core/result.hpp"

namespace router::core {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "INVALID_ARGUMENT";
    case ErrorCode::unauthenticated: return "UNAUTHENTICATED";
    case ErrorCode::permission_denied: return "PERMISSION_DENIED";
    case ErrorCode::not_found: return "NOT_FOUND";
    case ErrorCode::conflict: return "CONFLICT";
    case ErrorCode::payload_too_large: return "PAYLOAD_TOO_LARGE";
    case ErrorCode::unsupported_media: return "UNSUPPORTED_MEDIA_TYPE";
    case ErrorCode::unavailable: return "UNAVAILABLE";
    case ErrorCode::internal: return "INTERNAL";
  }
  return "INTERNAL";
}

}  // namespace router::core
