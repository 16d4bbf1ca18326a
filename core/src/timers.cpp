// Deadlines: offers that time out, steps that widen a queue, waiting that fails, silent assignees,
// disconnect grace, and rate-limited queue updates. They fire when an input's time passes them.
#include <algorithm>

#include "router_state.hpp"

namespace router::core {

void Router::State::schedule(DeadlineKind kind, TimestampMs at, std::uint32_t target, std::uint64_t stamp) {
  deadlines.insert(Deadline{at, next_deadline_seq++, kind, target, stamp});
}

void Router::State::schedule_waiting_deadlines(EscalationIndex index) {
  const Escalation& esc = *escalation(index);
  const CompiledQueue* spec = queue_spec(esc.queue);
  if (spec == nullptr) {
    return;
  }
  if (spec->spec.fail_after_ms > 0) {
    schedule(DeadlineKind::fail_after, esc.waiting_since + spec->spec.fail_after_ms, index, esc.queue_seq);
  }
  const auto next_step = static_cast<std::size_t>(esc.step + 1);
  if (next_step < spec->steps.size()) {
    schedule(DeadlineKind::queue_step, esc.queued_at + spec->steps[next_step].after_ms, index, esc.queue_seq);
  }
}

void Router::State::fire_due(TimestampMs until) {
  // Each deadline fires as of its own time, in time order, so late input does not change history.
  while (!deadlines.empty() && deadlines.begin()->at <= until) {
    const Deadline deadline = *deadlines.begin();
    deadlines.erase(deadlines.begin());
    now = std::max(now, deadline.at);
    fire(deadline);
    run_work();
  }
}

void Router::State::fire(const Deadline& d) {
  switch (d.kind) {
    case DeadlineKind::offer_timeout: {
      Escalation* esc = escalation(d.target);
      if (esc == nullptr || esc->status != EscalationStatus::offered || esc->version != d.stamp) {
        return;
      }
      const AgentIndex missed = esc->assignee;
      Agent& agent = agents[missed];
      ++agent.missed_offers;
      esc->excluded.push_back(missed);
      const CompiledQueue* spec = queue_spec(esc->queue);
      requeue(d.target, false, "offer timed out");
      esc->trail.set_back_agent(agent.id);
      if (spec != nullptr && agent.missed_offers >= spec->spec.max_missed_offers && agent.status == AgentStatus::available) {
        on_agent_status(missed, AgentStatus::away, false);
      }
      return;
    }
    case DeadlineKind::queue_step: {
      Escalation* esc = escalation(d.target);
      if (esc == nullptr || esc->status != EscalationStatus::queued || esc->queue_seq != d.stamp) {
        return;
      }
      const CompiledQueue* spec = queue_spec(esc->queue);
      if (spec == nullptr) {
        return;
      }
      std::int32_t step = -1;
      for (std::size_t i = 0; i < spec->steps.size(); ++i) {
        if (now - esc->queued_at >= spec->steps[i].after_ms) {
          step = static_cast<std::int32_t>(i);
        }
      }
      if (step != esc->step) {
        const std::uint32_t qi = queue_of(esc->workspace, esc->queue);
        waiting_erase(qi, d.target);  // a new step: another rule, another eligibility class
        esc->step = step;
        waiting_insert(qi, d.target);
        Decision decision;
        decision.at = now;
        decision.action = "step";
        decision.queue = spec->spec.name;
        decision.step = step;
        decision.words = "waited " + format_duration(now - esc->queued_at) + ": agents rule widened to " +
                          agents_rule(*spec, step).text();
        add_decision(*esc, decision);
      }
      const auto next_step = static_cast<std::size_t>(esc->step + 1);
      if (next_step < spec->steps.size()) {
        schedule(DeadlineKind::queue_step, esc->queued_at + spec->steps[next_step].after_ms, d.target, esc->queue_seq);
      }
      work.push_back({Work::Kind::place, d.target});
      return;
    }
    case DeadlineKind::fail_after: {
      Escalation* esc = escalation(d.target);
      if (esc == nullptr || esc->queue_seq != d.stamp ||
          (esc->status != EscalationStatus::queued && esc->status != EscalationStatus::offered)) {
        return;
      }
      close(d.target, EscalationStatus::failed, OutboundType::escalation_failed, "timeout");
      return;
    }
    case DeadlineKind::reply_timeout: {
      Escalation* esc = escalation(d.target);
      if (esc == nullptr || esc->status != EscalationStatus::assigned || esc->version != d.stamp || esc->agent_replied) {
        return;
      }
      const AgentIndex silent = esc->assignee;
      esc->excluded.push_back(silent);
      OutboundEvent& e = emit(OutboundType::escalation_unassigned, esc);
      e.reason = "reply_timeout";
      requeue(d.target, false, "the assignee sent nothing to the customer within reply_timeout");
      return;
    }
    case DeadlineKind::disconnect_grace: {
      Agent& agent = agents[d.target];
      if (agent.disconnect_generation != d.stamp || agent.disconnected_at < 0) {
        return;
      }
      const std::vector<EscalationIndex> held = agent.held;
      for (EscalationIndex index : held) {
        Escalation& esc = *escalation(index);
        if (esc.status != EscalationStatus::assigned && esc.status != EscalationStatus::taken_over) {
          continue;
        }
        const bool taken_over = esc.status == EscalationStatus::taken_over;
        OutboundEvent& e = emit(OutboundType::escalation_unassigned, &esc);
        e.reason = "agent_disconnected";
        requeue(index, taken_over, taken_over ? "its agent disconnected while it was taken over: first in line"
                                              : "its agent disconnected and did not come back within disconnect_grace");
      }
      return;
    }
    case DeadlineKind::queue_walk:
      if (d.target < queues.size() && queues[d.target].dirty) {
        dirty_queues.insert(d.target);
        dirty_walk_due = std::min(dirty_walk_due, queues[d.target].next_walk_at);
      }
      walk_dirty_queues();
      return;
  }
}

}  // namespace router::core
