// The daemon's HTTP API as a function from Request to Response: routing by method and path, the
// error model of SPEC §5. Beast-free: tests call it directly; the Server feeds it from sockets.
#pragma once

#include <atomic>

#include "adapters/http/message.hpp"

namespace router::adapters::http {

class Api {
 public:
  Api() = default;

  void set_ready(bool ready) noexcept { ready_.store(ready, std::memory_order_release); }
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

  void handle(Request request, Respond respond);

 private:
  std::atomic<bool> ready_{false};
};

}  // namespace router::adapters::http
