// Test support: the built escalation-routerd as a child process, its output captured in a file.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace router::testing {

// A directory removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& content) const;  // returns the path

 private:
  std::string path_;
};

class DaemonProcess {
 public:
  // Starts `ROUTER_DAEMON_PATH args...` with its stdout and stderr going to `log_path`.
  DaemonProcess(const std::vector<std::string>& args, const std::string& log_path,
                const std::map<std::string, std::string>& env = {});
  ~DaemonProcess();  // SIGKILLs a process still running
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // The exit code, once it exits within `timeout` (or -signal when killed by one).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

  std::string output() const;
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) const;
  // Waits for the "listening on host:PORT" log line, then (probe_readiness) for GET /readyz to answer
  // 200 over plain HTTP; returns PORT (0 on timeout).
  int wait_for_port(std::chrono::milliseconds timeout = std::chrono::seconds(20), bool probe_readiness = true) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

// Runs the daemon binary to completion (for check-config, --version): exit code and output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_daemon_command(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

}  // namespace router::testing
