#include "adapters/metrics/event_metrics.hpp"

#include "adapters/metrics/registry.hpp"

#include <map>

namespace router::adapters::metrics {

void EventMetrics::publish(const engine::OutboundBatch& batch) {
  if (batch.resent) return;  // counted when they were first handed out
  auto& r = registry();
  // Sinks are never called concurrently: a plain cache of the per-type counters.
  static std::map<core::OutboundType, Counter*> by_type;
  for (const core::OutboundEvent& e : batch.events) {
    auto it = by_type.find(e.type);
    if (it == by_type.end()) {
      it = by_type.emplace(e.type, &r.counter("escalation_router_events_out_total", "Outbound events by type",
                                               {{"type", core::outbound_type_name(e.type)}})).first;
    }
    it->second->add();
    if (e.decision) {
      r.counter("escalation_router_decisions_total", "Routing decisions by queue and outcome",
                {{"queue", e.decision->queue.empty() ? std::string("(none)") : e.decision->queue.str()},
                 {"outcome", e.decision->action.str()}})
          .add();
    }
  }
}

}  // namespace router::adapters::metrics
