// Outbound HTTP callbacks to the chat platforms (SPEC §7): at-least-once, in order per conversation,
// `Idempotency-Key: <eventId>`, retries with exponential backoff and jitter (honouring Retry-After)
// until max_attempts or max_age, then dead-lettered (listed and retryable through the API).
// Deliveries are kept in their own journal under storage.dir/deliveries, so pending ones and dead
// letters survive a restart; as a durable sink of the engine's outbox ("http") it confirms an event
// once its delivery is recorded there, so a crash before that sends the event again after the
// restart. Credentials are added from the configuration at send time and never written to disk.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/engine/engine.hpp"
#include "adapters/platforms/source_options.hpp"
#include "adapters/storage/storage_options.hpp"
#include "router/core/result.hpp"
#include "router/core/time.hpp"

namespace boost::asio {
class io_context;
}

namespace router::adapters::delivery {

struct DeliveryOptions {
  std::uint32_t max_attempts = 12;
  core::DurationMs max_age_ms = 24 * 3'600'000;
  core::DurationMs initial_backoff_ms = 1000;
  core::DurationMs max_backoff_ms = 300'000;
  std::size_t concurrency = 32;
  core::DurationMs connect_timeout_ms = 5000;
  core::DurationMs response_timeout_ms = 10'000;
  std::size_t max_dead = 10'000;  // dead letters kept; the oldest go first
};

class DeliveryService final : public engine::EventSink {
 public:
  DeliveryService(boost::asio::io_context& io, std::vector<platforms::SourceSpec> sources, DeliveryOptions options,
                  storage::StorageOptions storage);
  ~DeliveryService() override;

  core::Status start();  // loads the persisted deliveries and starts sending
  void stop();
  void reconfigure(std::vector<platforms::SourceSpec> sources);
  void publish(const engine::OutboundBatch& batch) override;
  std::string_view outbox_name() const override { return "http"; }
  void resume_after(std::uint64_t sequence) override;
  std::uint64_t confirmed_sequence() const override;

  // {"data": [...]} of deliveries in `state` ("pending" or "dead"), restricted to `workspaces` (empty: all).
  void list(std::string state, std::vector<std::string> workspaces, std::function<void(std::string json)> done);
  // Puts a dead delivery back in line. Errors: NOT_FOUND, CONFLICT (not dead).
  void retry(std::string id, std::vector<std::string> workspaces, std::function<void(core::Status, std::string json)> done);

  struct Stats {
    std::uint64_t delivered = 0;
    std::uint64_t failed_attempts = 0;
    std::uint64_t dead = 0;
    std::uint64_t pending = 0;
  };
  Stats stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace router::adapters::delivery
