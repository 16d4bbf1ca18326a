#include "adapters/metrics/event_metrics.hpp"

#include "adapters/metrics/registry.hpp"

namespace router::adapters::metrics {

void EventMetrics::publish(const std::vector<core::OutboundEvent>& events) {
  auto& r = registry();
  for (const core::OutboundEvent& e : events) {
    r.counter("escalation_router_events_out_total", "Outbound events by type", {{"type", core::outbound_type_name(e.type)}}).add();
    if (e.decision) {
      r.counter("escalation_router_decisions_total", "Routing decisions by queue and outcome",
                {{"queue", e.decision->queue.empty() ? "(none)" : e.decision->queue}, {"outcome", e.decision->action}})
          .add();
    }
  }
}

}  // namespace router::adapters::metrics
