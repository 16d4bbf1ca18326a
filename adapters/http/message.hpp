// HTTP requests and responses as handlers see them: plain values, no Beast, so request handling is a
// function that tests can call without a socket. The server converts to and from Beast at the edge.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "router/core/result.hpp"

namespace router::adapters::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: path and query
  std::string path;    // target up to '?'
  std::string query;   // after '?', still percent-encoded
  Headers headers;
  std::string body;
  std::string remote_address;

  // First header of that name (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;  // extra headers (Retry-After, Allow, ...)
  std::string body;
};

// The HTTP status of a core error code (INVALID_ARGUMENT 400, NOT_FOUND 404, CONFLICT 409, ...).
int http_status(core::ErrorCode code) noexcept;

// {"error": {"code": "...", "message": "..."}} with the status the code maps to.
Response error_response(const core::Error& error);
Response error_response(core::ErrorCode code, std::string message);
Response json_response(int status, std::string body);

// Hands the response back to the server. Call it exactly once, from any thread.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Request, Respond)>;

bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace router::adapters::http
