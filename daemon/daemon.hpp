// The running daemon: wires the configuration to the adapters, serves until SIGTERM/SIGINT (drain,
// then exit 0), reloads on SIGHUP (a bad file is rejected and the running config kept).
#pragma once

#include <memory>

#include "daemon/config.hpp"

namespace router::daemon {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Blocks until shutdown. Returns the process exit code.
  int run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace router::daemon
