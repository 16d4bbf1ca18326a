// escalation-routerd: run the daemon, check a configuration, or print the version.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.hpp"
#include "daemon/daemon.hpp"
#include "daemon/logging.hpp"
#include "daemon/simulate.hpp"

#include <fstream>
#include <iostream>

namespace {

constexpr const char* usage = R"(usage:
  escalation-routerd [--config FILE]      run the daemon (without --config: embedded defaults,
                                          127.0.0.1:8080, data in ./data, no Redis)
  escalation-routerd check-config FILE    validate FILE; prints file:line:col: message per problem,
                                          exits 0 when valid, 1 when not
  escalation-routerd simulate --config FILE --events FILE.jsonl
                                          run the routing core offline over recorded events;
                                          prints each outbound event with its decision (JSON lines)
  escalation-routerd --version            print the version
  escalation-routerd --help               this text
)";

int check_config(const std::string& path) {
  const auto result = router::daemon::load_config_file(path);
  for (const auto& error : result.errors) {
    std::fprintf(stderr, "%s\n", error.to_string().c_str());
  }
  if (!result.config) {
    std::fprintf(stderr, "%s: %zu error(s)\n", path.c_str(), result.errors.size());
    return 1;
  }
  const auto& config = *result.config;
  std::printf("%s: ok (%zu routes, %zu queues, %zu agents, %zu sources, %zu tokens)\n", path.c_str(),
              config.rules.routes.size(), config.rules.queues.size(), config.rules.agents.size(),
              config.sources.size(), config.tokens.size());
  return 0;
}

int bad_usage(const std::string& message) {
  std::fprintf(stderr, "escalation-routerd: %s\n%s", message.c_str(), usage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--version" || args[0] == "-V")) {
    std::printf("escalation-routerd %s\n", ROUTER_VERSION);
    return 0;
  }
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::printf("%s", usage);
    return 0;
  }
  if (!args.empty() && args[0] == "check-config") {
    if (args.size() != 2) {
      return bad_usage("check-config takes one FILE");
    }
    return check_config(std::string(args[1]));
  }

  if (!args.empty() && args[0] == "simulate") {
    std::string config_file;
    std::string events_file;
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--config" && i + 1 < args.size()) {
        config_file = std::string(args[++i]);
      } else if (args[i] == "--events" && i + 1 < args.size()) {
        events_file = std::string(args[++i]);
      } else {
        return bad_usage("simulate: unknown argument \"" + std::string(args[i]) + "\"");
      }
    }
    if (config_file.empty() || events_file.empty()) {
      return bad_usage("simulate needs --config FILE and --events FILE.jsonl");
    }
    auto loaded = router::daemon::load_config_file(config_file);
    if (!loaded.config) {
      for (const auto& error : loaded.errors) {
        std::fprintf(stderr, "%s\n", error.to_string().c_str());
      }
      return 1;
    }
    std::ifstream events(events_file);
    if (!events) {
      std::fprintf(stderr, "escalation-routerd: cannot open %s\n", events_file.c_str());
      return 1;
    }
    return router::daemon::run_simulation(*loaded.config, events, std::cout);
  }

  std::string config_path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config_path = std::string(args[++i]);
    } else if (args[i].rfind("--config=", 0) == 0) {
      config_path = std::string(args[i].substr(9));
    } else {
      return bad_usage("unknown argument \"" + std::string(args[i]) + "\"");
    }
  }

  router::daemon::Config config;
  if (config_path.empty()) {
    config = router::daemon::default_config();
  } else {
    auto result = router::daemon::load_config_file(config_path);
    if (!result.config) {
      for (const auto& error : result.errors) {
        std::fprintf(stderr, "%s\n", error.to_string().c_str());
      }
      std::fprintf(stderr, "escalation-routerd: not starting: %zu configuration error(s)\n", result.errors.size());
      return 1;
    }
    config = std::move(*result.config);
  }
  router::daemon::configure_logging(config.log);
  spdlog::info("escalation-routerd {} starting", ROUTER_VERSION);
  try {
    router::daemon::Daemon daemon(std::move(config));
    return daemon.run();
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
}
