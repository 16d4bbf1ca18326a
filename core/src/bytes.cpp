#include "bytes.hpp"

#include <algorithm>

namespace router::core {

void write_agent_spec(ByteWriter& w, const AgentSpec& a) {
  w.str(a.id);
  w.str(a.name);
  w.str(a.avatar);
  w.strs(a.workspaces);
  w.strs(a.skills);
  w.strs(a.languages);
  w.u32(a.capacity);
  w.u8(static_cast<std::uint8_t>(a.status));
  w.attrs(a.attributes);
  w.pairs(a.external_ids);
}

AgentSpec read_agent_spec(ByteReader& r) {
  AgentSpec a;
  a.id = r.str();
  a.name = r.str();
  a.avatar = r.str();
  a.workspaces = r.strs();
  a.skills = r.strs();
  a.languages = r.strs();
  a.capacity = r.u32();
  a.status = static_cast<AgentStatus>(std::min<std::uint8_t>(r.u8(), 2));
  a.attributes = r.attrs();
  a.external_ids = r.pairs();
  return a;
}

void write_rules(ByteWriter& w, const RuleSet& rules) {
  w.i64(rules.settings.disconnect_grace_ms);
  w.i64(rules.settings.queue_update_interval_ms);
  w.i64(rules.settings.initial_wait_estimate_ms);
  w.u32(rules.settings.max_messages);
  w.u32(static_cast<std::uint32_t>(rules.agents.size()));
  for (const auto& a : rules.agents) write_agent_spec(w, a);
  w.u32(static_cast<std::uint32_t>(rules.routes.size()));
  for (const auto& route : rules.routes) {
    w.str(route.name);
    w.expr(route.when);
    w.str(route.queue);
    w.u32(route.queue_pos.line);
    w.u32(route.queue_pos.column);
  }
  w.u32(static_cast<std::uint32_t>(rules.queues.size()));
  for (const auto& q : rules.queues) {
    w.str(q.name);
    w.expr(q.agents);
    w.u8(static_cast<std::uint8_t>(q.strategy));
    w.b(q.sticky);
    w.i64(q.offer_timeout_ms);
    w.u32(q.max_missed_offers);
    w.i64(q.reply_timeout_ms);
    w.i64(q.fail_after_ms);
    w.u32(static_cast<std::uint32_t>(q.steps.size()));
    for (const auto& s : q.steps) {
      w.i64(s.after_ms);
      w.expr(s.agents);
    }
  }
}

RuleSet read_rules(ByteReader& r) {
  RuleSet rules;
  rules.settings.disconnect_grace_ms = r.i64();
  rules.settings.queue_update_interval_ms = r.i64();
  rules.settings.initial_wait_estimate_ms = r.i64();
  rules.settings.max_messages = r.u32();
  rules.agents.resize(r.count(8));
  for (auto& a : rules.agents) a = read_agent_spec(r);
  rules.routes.resize(r.count(8));
  for (auto& route : rules.routes) {
    route.name = r.str();
    route.when = r.expr();
    route.queue = r.str();
    route.queue_pos.line = r.u32();
    route.queue_pos.column = r.u32();
  }
  rules.queues.resize(r.count(8));
  for (auto& q : rules.queues) {
    q.name = r.str();
    q.agents = r.expr();
    q.strategy = static_cast<Strategy>(std::min<std::uint8_t>(r.u8(), 3));
    q.sticky = r.b();
    q.offer_timeout_ms = r.i64();
    q.max_missed_offers = r.u32();
    q.reply_timeout_ms = r.i64();
    q.fail_after_ms = r.i64();
    q.steps.resize(r.count(8));
    for (auto& s : q.steps) {
      s.after_ms = r.i64();
      s.agents = r.expr();
    }
  }
  return rules;
}

}  // namespace router::core
