#include "daemon/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "router/core/json_writer.hpp"
#include "router/core/time.hpp"

namespace router::daemon {
namespace {

// One JSON object per line: {"time": "...", "level": "...", "logger": "...", "msg": "..."}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    core::JsonWriter w;
    w.begin_object();
    w.field("time", core::format_rfc3339_ms(ms));
    const auto level = spdlog::level::to_string_view(msg.level);
    w.field("level", std::string_view(level.data(), level.size()));
    w.field("msg", std::string_view(msg.payload.data(), msg.payload.size()));
    w.end_object();
    const std::string& line = w.str();
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void configure_logging(const LogOptions& options) {
  auto logger = spdlog::default_logger();
  if (logger->name() != "router") {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::logger>("router", std::move(sink));
    spdlog::set_default_logger(logger);
  }
  if (options.format == LogFormat::json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
  }
  logger->set_level(spdlog::level::from_str(options.level));
  logger->flush_on(spdlog::level::info);
}

}  // namespace router::daemon
