#include "adapters/http/api.hpp"

namespace router::adapters::http {
namespace {

Response method_not_allowed(const Request& request, std::string_view allow) {
  Response response = error_response(core::ErrorCode::invalid_argument,
                                     "method " + request.method + " is not allowed on " + request.path);
  response.status = 405;
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

}  // namespace

void Api::handle(Request request, Respond respond) {
  if (request.path == "/healthz") {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(method_not_allowed(request, "GET, HEAD"));
    }
    return respond(json_response(200, R"({"status":"ok"})"));
  }
  if (request.path == "/readyz") {
    if (request.method != "GET" && request.method != "HEAD") {
      return respond(method_not_allowed(request, "GET, HEAD"));
    }
    if (!ready()) {
      return respond(error_response(core::ErrorCode::unavailable, "not ready: the journal is being replayed"));
    }
    return respond(json_response(200, R"({"status":"ready"})"));
  }
  respond(error_response(core::ErrorCode::not_found, "no route for " + request.method + " " + request.path));
}

}  // namespace router::adapters::http
