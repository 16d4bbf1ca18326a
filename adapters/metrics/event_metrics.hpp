// Counts what the core hands out: outbound events by type, routing decisions by queue and outcome.
#pragma once

#include "adapters/engine/engine.hpp"

namespace router::adapters::metrics {

class EventMetrics final : public engine::EventSink {
 public:
  void publish(const engine::OutboundBatch& batch) override;
};

}  // namespace router::adapters::metrics
