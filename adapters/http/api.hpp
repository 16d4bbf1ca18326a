// The daemon's HTTP API as a function from Request to Response (SPEC §5): routing by method and
// path, authentication and scopes, workspace isolation, the error model. Beast-free: the Server
// feeds it from sockets; the engine applies what it decides.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/http/auth_options.hpp"
#include "adapters/http/message.hpp"
#include "adapters/platforms/source_options.hpp"

namespace router::adapters::engine {
class Engine;
}
namespace router::adapters::delivery {
class DeliveryService;
}

namespace router::adapters::http {

struct ApiConfig {
  std::vector<TokenSpec> tokens;
  std::vector<platforms::SourceSpec> sources;
};

// Every route the API serves, for the documentation check (docs/openapi.yaml lists the same).
struct RouteInfo {
  const char* method;
  const char* path;  // with {placeholders}
};
const std::vector<RouteInfo>& api_routes();

class Api {
 public:
  explicit Api(engine::Engine* engine = nullptr, ApiConfig config = {});
  ~Api();

  void set_ready(bool ready) noexcept { ready_.store(ready, std::memory_order_release); }
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

  // Tokens and sources, swapped atomically on reload.
  void reconfigure(ApiConfig config);
  // POST /v1/admin/reload: runs the daemon's reload; the callback gets "" or the error.
  using ReloadHook = std::function<void(std::function<void(std::string error)>)>;
  void set_reload_hook(ReloadHook hook) { reload_hook_ = std::move(hook); }
  void set_deliveries(delivery::DeliveryService* deliveries) { deliveries_ = deliveries; }

  void handle(Request request, Respond respond);

  struct Context;  // per-configuration state, immutable once built

 private:
  std::shared_ptr<const Context> context() const;
  void handle_routes(Request request, Respond respond);
  void metrics_response(Respond respond);

  engine::Engine* engine_;
  std::atomic<bool> ready_{false};
  mutable std::mutex mutex_;
  std::shared_ptr<const Context> context_;
  ReloadHook reload_hook_;
  delivery::DeliveryService* deliveries_ = nullptr;
};

}  // namespace router::adapters::http
