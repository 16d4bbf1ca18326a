#include "support/daemon_process.hpp"

#include "support/http_client.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace router::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "router-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const std::string path = file(name);
  std::ofstream out(path, std::ios::binary);
  out << content;
  return path;
}

DaemonProcess::DaemonProcess(const std::vector<std::string>& args, const std::string& log_path,
                             const std::map<std::string, std::string>& env)
    : log_path_(log_path) {
  std::vector<std::string> argv_storage{ROUTER_DAEMON_PATH};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (env.count(name) == 0 && name != "NOTIFY_SOCKET" && name != "WATCHDOG_USEC") {
      env_storage.push_back(entry);
    }
  }
  for (const auto& [name, value] : env) {
    env_storage.push_back(name + "=" + value);
  }
  std::vector<char*> envp;
  for (auto& entry : env_storage) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("posix_spawn " + argv_storage[0] + " failed: " + std::to_string(rc));
  }
}

DaemonProcess::~DaemonProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
}

void DaemonProcess::signal(int sig) const { ::kill(pid_, sig); }

bool DaemonProcess::running() {
  if (exit_code_) {
    return false;
  }
  return !wait_exit(std::chrono::milliseconds(0)).has_value();
}

std::optional<int> DaemonProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) {
    return exit_code_;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string DaemonProcess::output() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool DaemonProcess::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (output().find(needle) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return output().find(needle) != std::string::npos;
}

int DaemonProcess::wait_for_port(std::chrono::milliseconds timeout, bool probe_readiness) const {
  const std::string marker = "listening on ";
  if (!wait_for_output(marker, timeout)) {
    return 0;
  }
  const std::string text = output();
  std::size_t at = text.find(marker) + marker.size();
  const std::size_t space = text.find(' ', at);
  const std::string endpoint = text.substr(at, space - at);
  const int port = std::atoi(endpoint.substr(endpoint.rfind(':') + 1).c_str());
  if (!probe_readiness) {
    return port;  // e.g. HTTPS: the caller probes readiness itself
  }
  // Listening is not ready: wait for /readyz (the journal is replayed first), as an orchestrator would.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (http_request(port, "GET", "/readyz").status == 200) {
      return port;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

CommandResult run_daemon_command(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  TempDir dir;
  DaemonProcess process(args, dir.file("output.log"), env);
  CommandResult result;
  result.exit_code = process.wait_exit(std::chrono::seconds(30)).value_or(-1000);
  result.output = process.output();
  return result;
}

}  // namespace router::testing
