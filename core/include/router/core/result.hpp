// Result<T>: a value or an Error, for the expected failure paths of the core and its callers.
// Errors carry a code from the product's error model (SPEC §5) so adapters can map them to HTTP.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace router::core {

// Why something was refused. The transports map them (HTTP: adapters/http/message.hpp).
enum class ErrorCode {
  invalid_argument,
  unauthenticated,
  permission_denied,
  not_found,
  conflict,
  payload_too_large,
  unsupported_media,
  unavailable,
  internal,
};

const char* error_code_name(ErrorCode code) noexcept;  // "INVALID_ARGUMENT", ...

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
};

inline Error invalid_argument(std::string message) { return {ErrorCode::invalid_argument, std::move(message)}; }
inline Error not_found(std::string message) { return {ErrorCode::not_found, std::move(message)}; }
inline Error conflict(std::string message) { return {ErrorCode::conflict, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(state_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Result of an operation that yields nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace router::core
