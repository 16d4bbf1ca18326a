// Invariants of the routing state, checked by the randomized simulation test after every step.
#include <algorithm>
#include <map>

#include "router_state.hpp"

namespace router::core {

std::string Router::State::check_invariants() const {
  std::map<EscalationIndex, int> places;  // how many places each open escalation is in
  for (AgentIndex a = 0; a < agents.size(); ++a) {
    const Agent& agent = agents[a];
    if (agent.load != agent.held.size()) {
      return "agent " + agent.id + " load " + std::to_string(agent.load) + " != held " + std::to_string(agent.held.size());
    }
    if (agent.load > agent.capacity + agent.excess_load ||
        agent.excess_load != (agent.load > agent.capacity ? agent.load - agent.capacity : 0)) {
      return "agent " + agent.id + " over capacity " + std::to_string(agent.load) + "/" + std::to_string(agent.capacity);
    }
    for (EscalationIndex e : agent.held) {
      const Escalation* esc = escalations[e];
      if (esc == nullptr || !holds_agent(esc->status) || esc->assignee != a) {
        return "agent " + agent.id + " holds an escalation that is not held by it";
      }
      if (!agent.member_of(esc->workspace)) {
        return "agent " + agent.id + " holds " + esc->id + " of a workspace it is not a member of";
      }
      if (esc->taken_over_by != no_index && esc->taken_over_by != a) {
        return esc->id + " is taken over by another agent than its holder";
      }
      ++places[e];
    }
  }
  if (queue_by_key.size() != queues.size()) return "queues are indexed twice or not at all";
  for (std::uint32_t q = 0; q < queues.size(); ++q) {
    if (find_queue(queues[q].workspace, queues[q].name) != q) return "a queue is not findable by its workspace and name";
    if (!queues[q].waiting.consistent()) return "a queue's line is out of order or miscounted";
    std::size_t rank = 0;
    for (const auto& [key, e] : queues[q].waiting) {
      if (queues[q].waiting.rank(key) != rank++) return "a queue's line ranks an escalation wrongly";
      const Escalation* esc = escalations[e];
      if (esc == nullptr || esc->status != EscalationStatus::queued) {
        return "queue holds a non-queued escalation";
      }
      if (key.lane != QueueKey::lane_of(esc->front_of_line, esc->priority) || key.queued_at != esc->queued_at || key.seq != esc->queue_seq) {
        return esc->id + " sits in its queue's line under another key than its own";
      }
      if (esc->workspace != queues[q].workspace || esc->queue != queues[q].name) {
        return esc->id + " sits in another workspace's or queue's line";
      }
      const std::uint32_t ci = esc->eligibility_class;
      const EscalationIndex* in_class = ci < queues[q].classes.size() ? queues[q].classes[ci].waiting.find_value(key) : nullptr;
      if (in_class == nullptr || *in_class != e) {
        return esc->id + " is not in its eligibility class";
      }
      std::string class_key;
      eligibility_key(queue_spec(esc->queue), *esc, class_key);
      if (class_key != queues[q].classes[ci].key) {
        return esc->id + " sits in an eligibility class it does not belong to";
      }
      ++places[e];
    }
    std::size_t classified = 0;
    for (const EligibilityClass& c : queues[q].classes) {
      if (!c.waiting.consistent()) return "an eligibility class is out of order or miscounted";
      classified += c.waiting.size();
    }
    if (classified != queues[q].waiting.size()) {
      return "eligibility classes of a queue do not partition its line";
    }
    if (queues[q].class_heads.size() + queues[q].free_classes.size() != queues[q].classes.size()) {
      return "eligibility class heads are off";
    }
    const std::pair<QueueKey, std::uint32_t>* previous = nullptr;
    for (const auto& head : queues[q].class_heads) {
      if (previous != nullptr && !(*previous < head)) return "eligibility class heads are out of order";
      previous = &head;
      if (head.second >= queues[q].classes.size() || queues[q].classes[head.second].waiting.empty()) {
        return "an eligibility class head names an empty class";
      }
      const QueueKey& first = queues[q].classes[head.second].waiting.begin()->first;
      if (first < head.first || head.first < first) return "an eligibility class head is not its class's first key";
    }
  }
  std::size_t open = 0;
  for (EscalationIndex e = 0; e < escalations.size(); ++e) {
    const Escalation* esc = escalations[e];
    if (esc == nullptr) continue;
    const int count = places.count(e) != 0 ? places.at(e) : 0;
    if (is_open(esc->status)) {
      ++open;
      if (count != 1) return esc->id + " (" + escalation_status_name(esc->status) + ") is in " + std::to_string(count) + " places";
      if (open_index_of(esc->workspace, esc->conversation_id) != e) return esc->id + " is not the open one of its conversation";
    } else if (count != 0) {
      return "closed " + esc->id + " is still held or queued";
    }
    if (esc->status == EscalationStatus::queued && esc->assignee != no_index) return esc->id + " is queued with an assignee";
    // Between inputs every waiting escalation has been told its position since it was last queued.
    if (esc->status == EscalationStatus::queued && esc->announce_pending) return esc->id + " is queued and was not told its position";
  }
  if (open != open_count || open != open_by_conversation.size()) return "open escalation count is off";
  // Every kept escalation is findable by its id, and nothing else is. Contacts are remembered while
  // one of their escalations is kept, and only then.
  std::size_t kept = 0;
  std::vector<std::uint32_t> per_contact(contacts.size(), 0);
  for (EscalationIndex e = 0; e < escalations.size(); ++e) {
    if (escalations[e] == nullptr) continue;
    ++kept;
    if (index_of_id(escalations[e]->id) != e) return escalations[e]->id + " is kept but not findable by id";
    const std::uint32_t contact = find_contact(contact_key(*escalations[e]));
    if (contact == no_index || contact != links[e].contact) return escalations[e]->id + " has lost its contact history";
    ++per_contact[contact];
  }
  // The foreign-id index holds kept escalations whose ids do not name their slot, and nothing else.
  std::size_t foreign = 0;
  for (EscalationIndex e = 0; e < escalations.size(); ++e) {
    if (escalations[e] != nullptr && UlidGenerator::tag_of(escalations[e]->id) != e) ++foreign;
  }
  if (foreign != foreign_ids.size()) return "the foreign-id index names escalations that are not kept";
  // The id order lists every kept escalation once, in increasing id order.
  std::size_t listed = 0;
  std::string id_order_error;
  const Id* previous = nullptr;
  by_creation.for_each_entry([&](std::uint32_t place, const IdOrder::Entry& entry) {
    if (!id_order_error.empty()) return;
    if (previous != nullptr && !(*previous < entry.id)) {
      id_order_error = "the id order is not increasing";
      return;
    }
    previous = &entry.id;
    const EscalationIndex e = entry.slot;
    if (e == no_index) return;
    ++listed;
    if (e >= escalations.size() || escalations[e] == nullptr || escalations[e]->id != entry.id) {
      id_order_error = "the id order names " + entry.id + ", which is not kept in its slot";
    } else if (e >= links.size() || links[e].id_order != place) {
      id_order_error = escalations[e]->id + " does not know its place in the id order";
    }
  });
  if (!id_order_error.empty()) return id_order_error;
  if (!by_creation.counts_consistent()) return "the id order's live counts are off";
  if (listed != kept) return "the id order lists " + std::to_string(listed) + " of " + std::to_string(kept) + " kept escalations";
  std::size_t live_contacts = 0;
  for (std::uint32_t slot = 0; slot < contacts.size(); ++slot) {
    if (contacts[slot].key.empty()) continue;
    ++live_contacts;
    if (per_contact[slot] == 0 || per_contact[slot] != contacts[slot].kept) return "contact history counts are off";
    if (find_contact(contacts[slot].key) != slot) return "contact " + contacts[slot].key + " is not findable";
    // Its chain: exactly its kept escalations, newest first (ids decreasing), linked both ways.
    std::uint32_t chained = 0;
    std::uint32_t after = no_index;
    for (std::uint32_t e = contacts[slot].newest; e != no_index; after = e, e = links[e].contact_prev) {
      if (e >= escalations.size() || escalations[e] == nullptr || links[e].contact != slot) {
        return "contact " + contacts[slot].key + " chains an escalation that is not its own";
      }
      if (links[e].contact_next != after) return "contact " + contacts[slot].key + "'s chain is not linked both ways";
      if (after != no_index && !(escalations[e]->id < escalations[after]->id)) {
        return "contact " + contacts[slot].key + "'s chain is not in creation order";
      }
      if (++chained > contacts[slot].kept) break;
    }
    if (chained != contacts[slot].kept) return "contact " + contacts[slot].key + "'s chain does not hold its escalations";
  }
  if (live_contacts != contact_by_key.size() || live_contacts != contact_count()) return "contacts are indexed twice or not at all";
  // The ready sets list exactly the agents that can take work now, under their current load and
  // last assignment, in the class their definition gives in each of their workspaces; nothing is
  // left stale between inputs.
  if (!stale_agents.empty()) return "agents are left stale after an input";
  std::map<Symbol, std::size_t> ready_per_workspace;
  std::string class_key;
  for (AgentIndex a = 0; a < agents.size(); ++a) {
    const Agent& agent = agents[a];
    const AgentIndexEntry& entry = agent_index[a];
    const bool can_take = !agent.removed && agent.status == AgentStatus::available && agent.load < agent.capacity;
    if (entry.stale) return "agent " + agent.id + " is marked stale between inputs";
    if (entry.ready != can_take) return "agent " + agent.id + (can_take ? " can take work but is not ready" : " is ready but cannot take work");
    if (!can_take) continue;
    if (entry.load_ratio != static_cast<std::uint64_t>(agent.load) * 1'000'000ULL / agent.capacity ||
        entry.last_assigned_at != agent.last_assigned_at) {
      return "agent " + agent.id + " is ranked by an old load or last assignment";
    }
    agent_class_key(agent, class_key);
    for (std::size_t w = 0; w < agent.workspaces.size(); ++w) {
      ++ready_per_workspace[agent.workspaces[w]];
      const WorkspaceAgents* wa = find_workspace_agents(agent.workspaces[w]);
      if (wa == nullptr || w >= entry.classes.size() || entry.classes[w] >= wa->classes.size()) {
        return "agent " + agent.id + " has no ready class in a workspace";
      }
      const AgentClass& c = wa->classes[entry.classes[w]];
      if (c.key != class_key || c.agents.ready.count(a) != (rules.uses_round_robin ? 1u : 0u) ||
          c.agents.by_idle.count({agent.last_assigned_at, a}) != 1 ||
          c.agents.by_load.count({entry.load_ratio, agent.last_assigned_at, a}) != (rules.uses_least_loaded ? 1u : 0u)) {
        return "agent " + agent.id + " is not where its class and ranks say in the ready sets";
      }
    }
  }
  for (Symbol ws = 0; ws < workspace_agents.size(); ++ws) {
    const WorkspaceAgents& wa = workspace_agents[ws];
    std::size_t listed = 0;
    for (const AgentClass& c : wa.classes) {
      if (c.agents.ready.size() != (rules.uses_round_robin ? c.agents.size() : 0) ||
          c.agents.by_load.size() != (rules.uses_least_loaded ? c.agents.size() : 0)) {
        return "a ready class's orders disagree";
      }
      listed += c.agents.size();
    }
    const std::size_t expected = ready_per_workspace.count(ws) != 0 ? ready_per_workspace.at(ws) : 0;
    if (listed != expected || wa.ready_count != expected) return "a workspace's ready agents are counted wrong";
  }
  // Work-conserving: no agent that can take work is eligible for anything waiting.
  for (AgentIndex a = 0; a < agents.size(); ++a) {
    const Agent& agent = agents[a];
    if (agent.removed || agent.status != AgentStatus::available || agent.load >= agent.capacity) continue;
    const EscalationIndex waiting = best_backlog_by_scan(a);
    if (waiting != no_index) {
      return "agent " + agent.id + " is idle while eligible " + escalations[waiting]->id + " waits";
    }
  }
  return "";
}

std::string Router::check_invariants() const { return state_->check_invariants(); }

}  // namespace router::core
