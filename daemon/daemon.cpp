#include "daemon/daemon.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <chrono>
#include <thread>

#include "adapters/engine/engine.hpp"
#include "adapters/http/api.hpp"
#include "adapters/http/server.hpp"
#include "adapters/delivery/delivery_service.hpp"
#include "adapters/metrics/event_metrics.hpp"
#include "adapters/metrics/registry.hpp"
#include "adapters/redis/publisher.hpp"
#include "adapters/redis/stream_consumer.hpp"
#include "router/core/events.hpp"

#include <mutex>
#include "daemon/logging.hpp"
#include "daemon/systemd_notify.hpp"

namespace router::daemon {

namespace asio = boost::asio;

namespace {

// Every outbound event in the log at debug level (log.level = "debug"), beside Redis and callbacks.
class LogSink final : public adapters::engine::EventSink {
 public:
  void publish(const adapters::engine::OutboundBatch& batch) override {
    if (!spdlog::should_log(spdlog::level::debug)) {
      return;
    }
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      // The engine serializes only when a sink (Redis) wants it; at debug level this one does it itself.
      spdlog::debug("event {}{}", i < batch.json.size() ? batch.json[i] : core::outbound_event_json(batch.events[i]),
                    batch.resent ? " (sent again)" : "");
    }
  }
};

// One io_context per HTTP I/O thread: its connections need no strand, and a batch's answers go
// back to each thread in one post. The main thread's context is the first of them: it also runs
// the accepting, the signals, Redis and the callbacks, so a batch run there publishes without a
// hand-off.
std::vector<std::unique_ptr<asio::io_context>> make_io_threads(unsigned count) {
  std::vector<std::unique_ptr<asio::io_context>> out;
  for (unsigned i = 0; i < count; ++i) out.push_back(std::make_unique<asio::io_context>(1));
  return out;
}

std::vector<asio::io_context*> pointers(asio::io_context& main, const std::vector<std::unique_ptr<asio::io_context>>& ios) {
  std::vector<asio::io_context*> out{&main};
  for (const auto& io : ios) out.push_back(io.get());
  return out;
}

adapters::http::ApiConfig api_config(const Config& config) { return {config.tokens, config.sources}; }

}  // namespace

struct Daemon::State {
  explicit State(Config c)
      : config(std::move(c)),
        http_ios(make_io_threads(config.server.threads - 1)),
        io(1),
        signals(io, SIGTERM, SIGINT, SIGHUP),
        watchdog(io),
        engine(adapters::engine::EngineOptions{}),
        api(&engine, api_config(config)),
        server(io, pointers(io, http_ios), config.server, [this](adapters::http::Request request, adapters::http::Respond respond) {
          api.handle(std::move(request), std::move(respond));
        }) {
    engine.add_sink(std::make_shared<LogSink>());
    engine.add_sink(std::make_shared<adapters::metrics::EventMetrics>());
    auto& registry = adapters::metrics::registry();
    registry.gauge("escalation_router_ready", "1 once the journal is replayed and the API serves");
    registry.gauge("escalation_router_http_connections", "Open HTTP connections");
    registry.gauge("escalation_router_build_info", "Build information");
    registry.add_collector([this](adapters::metrics::GaugeWriter& g) {
      g.set("escalation_router_ready", {}, api.ready() ? 1 : 0);
      g.set("escalation_router_http_connections", {}, static_cast<double>(server.connection_count()));
      g.set("escalation_router_build_info", {{"version", ROUTER_VERSION}}, 1);
    });
    deliveries = std::make_shared<adapters::delivery::DeliveryService>(io, config.sources, config.delivery, config.storage);
    engine.add_sink(deliveries);
    api.set_deliveries(deliveries.get());
    if (config.redis) {
      publisher = std::make_shared<adapters::redis::Publisher>(io, *config.redis);
      engine.add_sink(publisher);
      if (!config.redis->input_stream.empty()) {
        consumer = std::make_unique<adapters::redis::StreamConsumer>(io, *config.redis, engine);
      }
    }
    api.set_reload_hook([this](std::function<void(std::string)> done) { reload(std::move(done)); });
  }

  std::mutex config_mutex;  // reloads come from signals and from the API
  Config config;
  // Before io: its pending accept holds a socket of one of them, destroyed with io.
  std::vector<std::unique_ptr<asio::io_context>> http_ios;
  asio::io_context io;  // accepting, signals, Redis, callbacks, timers: the main thread
  asio::signal_set signals;
  asio::steady_timer watchdog;
  adapters::engine::Engine engine;
  adapters::http::Api api;
  adapters::http::Server server;
  std::shared_ptr<adapters::delivery::DeliveryService> deliveries;
  std::shared_ptr<adapters::redis::Publisher> publisher;
  std::unique_ptr<adapters::redis::StreamConsumer> consumer;
  asio::steady_timer flush_timer{io};
  bool stopping = false;
  int exit_code = 0;

  void wait_for_signal() {
    signals.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) {
        return;
      }
      if (signal == SIGHUP) {
        reload([](const std::string&) {});
        wait_for_signal();
        return;
      }
      stop(signal == SIGTERM ? "SIGTERM" : "SIGINT");
    });
  }

  // Re-reads the file; the rules go through the engine (applied on the core's strand, queued
  // escalations re-evaluated); tokens and sources swap atomically. A bad file changes nothing.
  void reload(std::function<void(std::string)> done) {
    systemd::notify_reloading();
    std::string path;
    {
      std::lock_guard lock(config_mutex);
      path = config.path;
    }
    if (path == "<defaults>") {
      spdlog::warn("reload: running on the embedded defaults (no --config): nothing to re-read");
      systemd::notify_ready();
      return done("");
    }
    spdlog::info("reload: reading {}", path);
    ConfigResult result = load_config_file(path);
    if (!result.config) {
      std::string message;
      for (const ConfigError& error : result.errors) {
        spdlog::error("reload rejected, keeping the running configuration: {}", error.to_string());
        message += (message.empty() ? "" : "; ") + error.to_string();
      }
      systemd::notify_ready();
      return done(message);
    }
    auto next = std::make_shared<Config>(std::move(*result.config));
    const bool queued = engine.submit(core::ReloadRulesCommand{next->rules},
                                      [this, next, done](const core::Outcome& outcome, const core::Router&) {
      if (outcome.error) {
        spdlog::error("reload rejected, keeping the running configuration: {}", outcome.error->message);
        systemd::notify_ready();
        return done(outcome.error->message);
      }
      std::lock_guard lock(config_mutex);
      if (next->server.listen_host != config.server.listen_host || next->server.listen_port != config.server.listen_port ||
          next->server.threads != config.server.threads || next->storage.dir != config.storage.dir) {
        spdlog::warn("reload: server.listen, server.threads and storage.dir take effect only after a restart");
      }
      config.log = next->log;
      config.rules = next->rules;
      config.tokens = next->tokens;
      config.sources = next->sources;
      api.reconfigure(api_config(config));
      deliveries->reconfigure(config.sources);
      configure_logging(config.log);
      spdlog::info("reload: done ({} routes, {} queues, {} agents, {} sources, {} tokens)", config.rules.routes.size(),
                   config.rules.queues.size(), config.rules.agents.size(), config.sources.size(), config.tokens.size());
      systemd::notify_ready();
      done("");
    });
    if (!queued) {
      systemd::notify_ready();
      done("the router is at capacity; retry the reload shortly");
    }
  }

  void stop(const char* why) {
    if (stopping) {
      return;
    }
    stopping = true;
    spdlog::info("stopping on {}: draining in-flight requests", why);
    systemd::notify_stopping();
    api.set_ready(false);
    signals.cancel();
    watchdog.cancel();
    engine.stop();
    if (consumer) consumer->stop();
    deliveries->stop();
    server.drain([this] { flush_then_exit(std::chrono::steady_clock::now() + std::chrono::seconds(2)); });
  }

  // Gives the Redis publisher a moment to send what it still holds, then stops.
  void flush_then_exit(std::chrono::steady_clock::time_point deadline) {
    if (publisher && publisher->stats().buffered != 0 && publisher->stats().connected &&
        std::chrono::steady_clock::now() < deadline) {
      flush_timer.expires_after(std::chrono::milliseconds(20));
      flush_timer.async_wait([this, deadline](const boost::system::error_code&) { flush_then_exit(deadline); });
      return;
    }
    if (publisher) {
      const auto stats = publisher->stats();
      if (stats.buffered != 0) spdlog::warn("redis publisher: {} commands not sent at shutdown", stats.buffered);
      publisher->stop();
    }
    spdlog::info("stopped");
    io.stop();
    for (auto& http_io : http_ios) http_io->stop();
  }

  void start_watchdog(std::chrono::microseconds interval) {
    systemd::notify_watchdog();
    watchdog.expires_after(interval);
    watchdog.async_wait([this, interval](const boost::system::error_code& ec) {
      if (!ec && !stopping) {
        start_watchdog(interval);
      }
    });
  }
};

Daemon::Daemon(Config config) : state_(std::make_unique<State>(std::move(config))) {}

Daemon::~Daemon() = default;

int Daemon::run() {
  State& s = *state_;
  std::uint16_t port = 0;
  try {
    port = s.server.listen();
  } catch (const std::system_error& e) {
    spdlog::critical("{}: {}", e.what(), e.code().message());
    return 1;
  }
  s.server.start();
  s.wait_for_signal();
  spdlog::info("listening on {}:{} (config {}, {} thread(s))", s.config.server.listen_host, port, s.config.path,
               s.config.server.threads);
  // Pending callbacks first: the start-up input below may already produce new ones.
  if (auto started = s.deliveries->start(); !started) {
    spdlog::critical("cannot start: deliveries: {}", started.error().message);
    return 1;
  }
  // Ready only once the journal is replayed: until then /readyz and the API answer 503.
  const auto recovery_started = std::chrono::steady_clock::now();
  systemd::notify_status("replaying the journal");
  s.engine.recover(s.config.storage, s.config.rules,
                   [&s, recovery_started](const core::Status& status, const adapters::storage::RecoveryReport& report) {
    for (const std::string& warning : report.warnings) {
      spdlog::warn("storage: {}", warning);
    }
    if (!status) {
      spdlog::critical("cannot start: {}", status.error().message);
      s.exit_code = 1;
      s.stop("a storage error");
      return;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - recovery_started).count();
    spdlog::info("storage: {} (snapshot at record {}, {} records replayed, last record {}) in {} ms", s.config.storage.dir,
                 report.snapshot_seq, report.records_replayed, report.last_seq, ms);
    if (s.publisher) s.publisher->start();
    if (s.consumer) s.consumer->start();
    s.api.set_ready(true);
    systemd::notify_ready();
    spdlog::info("ready");
  });
  if (auto interval = systemd::watchdog_ping_interval()) {
    spdlog::info("systemd watchdog enabled: pinging every {} ms", interval->count() / 1000);
    s.start_watchdog(*interval);
  }

  std::vector<std::thread> workers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  for (auto& http_io : s.http_ios) {
    keep_running.push_back(asio::make_work_guard(*http_io));
    workers.emplace_back([io = http_io.get()] { io->run(); });
  }
  s.io.run();
  for (auto& http_io : s.http_ios) http_io->stop();
  for (auto& worker : workers) {
    worker.join();
  }
  // Nothing runs on the io_context any more: close Redis connections synchronously.
  if (s.consumer) s.consumer->close_now();
  if (s.publisher) s.publisher->close_now();
  return s.exit_code;
}

}  // namespace router::daemon
