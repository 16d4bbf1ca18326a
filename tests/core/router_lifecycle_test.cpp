// The escalation lifecycle of SPEC §4.1 and the operator commands of §5, on the pure core.
#include "router_fixture.hpp"

namespace router::core::testing {
namespace {

using V = std::vector<std::string>;

class Lifecycle : public RouterTest {};

TEST_F(Lifecycle, RequestIsCreatedThenAssignedDirectlyToAnAvailableAgent) {
  load_simple({agent("a-1")});
  auto out = request("conv-1");
  EXPECT_EQ(types(out), (V{"escalationCreated", "escalationSuccess"}));
  const Escalation& e = esc("conv-1");
  EXPECT_EQ(e.status, EscalationStatus::assigned);
  EXPECT_EQ(holder("conv-1"), "a-1");
  EXPECT_EQ(out.events[1].agent_id, "a-1");
  EXPECT_EQ(out.events[1].agent_name, "Agent a-1");
  EXPECT_EQ(out.events[1].status, "assigned");
  EXPECT_EQ(out.escalation_id, e.id);
  EXPECT_EQ(e.id.size(), 26u);  // a ULID
}

TEST_F(Lifecycle, WithoutAnAgentItWaitsAndIsToldItsPositionAndWait) {
  load_simple({});
  auto out = request("conv-1");
  ASSERT_EQ(types(out), (V{"escalationCreated", "escalationQueueUpdate"}));
  EXPECT_EQ(out.events[1].queue_position, 1);
  EXPECT_EQ(out.events[1].waiting_time, 2);  // routing.initial_wait_estimate = 2m per position
  EXPECT_EQ(out.events[1].status, "queued");
  EXPECT_EQ(out.events[1].queue, "general");
  out = request("conv-2");
  EXPECT_EQ(out.events[1].queue_position, 2);
  EXPECT_EQ(out.events[1].waiting_time, 4);
}

TEST_F(Lifecycle, ASecondRequestForAnOpenConversationUpdatesItAndDoesNotDuplicate) {
  load_simple({});
  const std::string id = request("conv-1", 0).escalation_id;
  request("conv-2", 0);
  auto out = request("conv-2", 5, {"billing"});
  EXPECT_EQ(router.open_escalation_count(), 2u);
  EXPECT_EQ(esc("conv-2").priority, 5);
  EXPECT_EQ(router.queue_position(esc("conv-2")), 1);  // its new priority moves it ahead
  EXPECT_EQ(router.queue_position(esc("conv-1")), 2);
  EXPECT_EQ(find(out, OutboundType::escalation_created), nullptr);
  EXPECT_EQ(esc("conv-1").id, id);
}

TEST_F(Lifecycle, SequenceIncreasesByOneAndVersionOnEveryChange) {
  load_simple({agent("a-1")});
  auto first = request("conv-1");
  std::uint64_t sequence = 0;
  for (const auto& e : first.events) {
    EXPECT_EQ(e.sequence, ++sequence);
  }
  const std::uint64_t version = esc("conv-1").version;
  auto out = apply(TakeoverCommand{esc("conv-1").id, "a-1"});
  EXPECT_EQ(out.events.at(0).sequence, sequence + 1);
  EXPECT_GT(out.events.at(0).version, version);
  EXPECT_EQ(router.sequence(), sequence + 1);
}

TEST_F(Lifecycle, OfferIsAcceptedByTheAgentItWasOfferedTo) {
  QueueSpec q = queue("general");
  q.offer_timeout_ms = 30'000;
  load_simple({agent("a-1"), agent("a-2")}, q);
  auto out = request("conv-1");
  ASSERT_EQ(types(out), (V{"escalationCreated", "escalationOffered"}));
  const std::string offered_to = out.events[1].agent_id;
  const std::string other = offered_to == "a-1" ? "a-2" : "a-1";
  const std::string id = out.escalation_id;
  auto wrong = apply(AcceptCommand{id, other});
  ASSERT_TRUE(wrong.error);
  EXPECT_EQ(wrong.error->code, ErrorCode::conflict);
  auto accepted = apply(AcceptCommand{id, offered_to});
  ASSERT_FALSE(accepted.error);
  EXPECT_EQ(types(accepted), (V{"escalationSuccess"}));
  EXPECT_EQ(esc("conv-1").status, EscalationStatus::assigned);
}

TEST_F(Lifecycle, RejectedOfferGoesToAnotherAgentAndNeverBackToTheRejecter) {
  QueueSpec q = queue("general");
  q.offer_timeout_ms = 30'000;
  load_simple({agent("a-1"), agent("a-2")}, q);
  auto out = request("conv-1");
  const std::string first = out.events[1].agent_id;
  auto rejected = apply(RejectCommand{out.escalation_id, first});
  ASSERT_FALSE(rejected.error);
  const OutboundEvent* offer = find(rejected, OutboundType::escalation_offered);
  ASSERT_NE(offer, nullptr);
  EXPECT_NE(offer->agent_id, first);
  apply(RejectCommand{out.escalation_id, offer->agent_id});
  EXPECT_EQ(esc("conv-1").status, EscalationStatus::queued);  // nobody left
}

TEST_F(Lifecycle, MissedOffersTimeOutAndTooManySetTheAgentAway) {
  QueueSpec q = queue("general");
  q.offer_timeout_ms = 30'000;
  q.max_missed_offers = 2;
  load_simple({agent("a-1")}, q);
  request("conv-1");
  auto out = advance(30'000);
  EXPECT_EQ(esc("conv-1").status, EscalationStatus::queued);  // a-1 is excluded for conv-1
  EXPECT_EQ(router.find_agent("a-1")->missed_offers, 1u);
  request("conv-2");
  EXPECT_EQ(esc("conv-2").status, EscalationStatus::offered);
  out = advance(30'000);
  EXPECT_EQ(router.find_agent("a-1")->status, AgentStatus::away);
  const OutboundEvent* status = find(out, OutboundType::agent_status_changed);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->status, "away");
}

TEST_F(Lifecycle, TakeoverPausesTheAiAndASecondAgentGetsConflict) {
  load_simple({agent("a-1"), agent("a-2")});
  const std::string id = request("conv-1").escalation_id;
  auto out = apply(TakeoverCommand{id, "a-2"});
  ASSERT_FALSE(out.error);
  EXPECT_EQ(types(out), (V{"escalationTakenOver"}));
  EXPECT_FALSE(esc("conv-1").ai_enabled);
  EXPECT_EQ(router.agent_at(esc("conv-1").taken_over_by)->id, "a-2");
  EXPECT_EQ(router.find_agent("a-1")->load, 0u);  // the first assignee was freed
  auto again = apply(TakeoverCommand{id, "a-1"});
  ASSERT_TRUE(again.error);
  EXPECT_EQ(again.error->code, ErrorCode::conflict);
  EXPECT_NE(again.error->message.find("already taken over by a-2"), std::string::npos);
  auto same = apply(TakeoverCommand{id, "a-2"});
  EXPECT_FALSE(same.error);  // idempotent for the same agent
  EXPECT_TRUE(same.events.empty());
}

TEST_F(Lifecycle, ReleaseHandsBackToTheAiAndClosesIt) {
  load_simple({agent("a-1")});
  const std::string id = request("conv-1").escalation_id;
  apply(TakeoverCommand{id, "a-1"});
  auto out = apply(ReleaseCommand{id});
  ASSERT_FALSE(out.error);
  EXPECT_EQ(types(out), (V{"escalationReleased"}));
  const Escalation* e = router.find_escalation(id);
  EXPECT_EQ(e->status, EscalationStatus::released);
  EXPECT_TRUE(e->ai_enabled);
  EXPECT_GE(e->closed_at, 0);
  EXPECT_EQ(router.find_open_escalation("ws-1", "conv-1"), nullptr);
  EXPECT_EQ(router.find_agent("a-1")->load, 0u);
}

TEST_F(Lifecycle, ResolveClosesAndACommandOnAClosedOneIsConflict) {
  load_simple({agent("a-1")});
  const std::string id = request("conv-1").escalation_id;
  auto out = apply(ResolveCommand{id, "answered"});
  EXPECT_EQ(types(out), (V{"escalationResolved"}));
  EXPECT_EQ(router.find_escalation(id)->resolution, "answered");
  for (Command c : {Command{ResolveCommand{id, "x"}}, Command{AssignCommand{id, "a-1"}}, Command{ReleaseCommand{id}},
                    Command{TakeoverCommand{id, "a-1"}}, Command{UnassignCommand{id}}}) {
    auto refused = apply(c);
    ASSERT_TRUE(refused.error);
    EXPECT_EQ(refused.error->code, ErrorCode::conflict);
    EXPECT_TRUE(refused.events.empty());
  }
  // A new request for the same conversation opens a new escalation.
  EXPECT_NE(request("conv-1").escalation_id, id);
}

TEST_F(Lifecycle, UnknownEscalationIsNotFound) {
  load_simple({agent("a-1")});
  auto out = apply(ResolveCommand{"01NOPE", ""});
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, ErrorCode::not_found);
}

TEST_F(Lifecycle, ManualAssignRequiresWorkspaceMembershipAndCapacity) {
  load_simple({agent("a-1"), agent("outsider", {}, {"en"}, 1, {"ws-2"}), agent("busy")});
  agent_status("a-1", AgentStatus::away);
  agent_status("busy", AgentStatus::away);
  const std::string id = request("conv-1").escalation_id;
  auto out = apply(AssignCommand{id, "outsider"});
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, ErrorCode::invalid_argument);
  EXPECT_EQ(out.error->message.rfind("assigneeId: ", 0), 0u) << out.error->message;
  out = apply(AssignCommand{id, "nobody"});
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->message, "assigneeId: unknown agent \"nobody\"");
  out = apply(AssignCommand{id, "a-1"});  // away agents may be assigned by an operator
  ASSERT_FALSE(out.error);
  EXPECT_EQ(types(out), (V{"escalationSuccess"}));
  const std::string id2 = request("conv-2").escalation_id;
  out = apply(AssignCommand{id2, "a-1"});
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code, ErrorCode::conflict);
  EXPECT_NE(out.error->message.find("at capacity (1/1)"), std::string::npos);
}

TEST_F(Lifecycle, UnassignPutsItBackInTheQueueForSomeoneElse) {
  load_simple({agent("a-1"), agent("a-2")});
  agent_status("a-2", AgentStatus::away);
  const std::string id = request("conv-1").escalation_id;
  auto out = apply(UnassignCommand{id});
  ASSERT_EQ(types(out).at(0), "escalationUnassigned");
  EXPECT_EQ(esc("conv-1").status, EscalationStatus::queued);
  out = agent_status("a-2", AgentStatus::available);
  EXPECT_EQ(holder("conv-1"), "a-2");
  auto again = apply(UnassignCommand{id});
  apply(UnassignCommand{id});
  EXPECT_TRUE(apply(UnassignCommand{id}).error);  // queued: nothing to unassign
}

TEST_F(Lifecycle, SendRelaysAnAgentReplyOnlyFromTheHolder) {
  load_simple({agent("a-1"), agent("a-2")});
  const std::string id = request("conv-1").escalation_id;
  const std::string h = holder("conv-1");
  const std::string other = h == "a-1" ? "a-2" : "a-1";
  auto refused = apply(SendCommand{id, other, "hello"});
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(refused.error->code, ErrorCode::conflict);
  auto empty = apply(SendCommand{id, h, ""});
  ASSERT_TRUE(empty.error);
  EXPECT_EQ(empty.error->message, "content: must not be empty");
  auto out = apply(SendCommand{id, h, "Chào bạn"});
  ASSERT_EQ(types(out), (V{"message"}));
  EXPECT_EQ(out.events[0].text, "Chào bạn");
  EXPECT_EQ(out.events[0].role, "agent");
  EXPECT_EQ(esc("conv-1").messages.back().text, "Chào bạn");
}

TEST_F(Lifecycle, CustomerAndAgentMessagesAreRelayedAndKeptBounded) {
  RuleSet rules;
  rules.settings.max_messages = 3;
  rules.agents = {agent("a-1")};
  rules.queues = {queue("general")};
  rules.routes = {route("default", "true", "general")};
  load(rules);
  request("conv-1");
  auto out = inbound(InboundType::message, "conv-1", "", "where is my order?");
  ASSERT_EQ(types(out), (V{"message"}));
  EXPECT_EQ(out.events[0].role, "customer");
  EXPECT_EQ(out.events[0].agent_id, "a-1");  // to the assigned agent's channel
  out = inbound(InboundType::message, "conv-1", "a-1", "on its way");
  EXPECT_EQ(out.events.at(0).role, "agent");
  for (int i = 0; i < 5; ++i) inbound(InboundType::message, "conv-1", "", "m" + std::to_string(i));
  EXPECT_EQ(esc("conv-1").messages.size(), 3u);
  EXPECT_EQ(esc("conv-1").messages.back().text, "m4");
}

TEST_F(Lifecycle, LateEventsForAClosedConversationAreAcknowledgedWithoutEffect) {
  load_simple({agent("a-1")});
  for (auto type : {InboundType::message, InboundType::conversation_closed, InboundType::escalation_failed,
                    InboundType::escalation_queue_update}) {
    auto out = inbound(type, "never-escalated", "", "late");
    EXPECT_FALSE(out.error);
    EXPECT_TRUE(out.events.empty());
    EXPECT_EQ(out.ignored, "no open escalation for this conversation");
  }
}

TEST_F(Lifecycle, PlatformCloseResolvesAndPlatformFailureCancels) {
  load_simple({agent("a-1")});
  request("conv-1");
  request("conv-2");
  // Resolving frees a-1, who takes the waiting conv-2 at once (backlog pull).
  EXPECT_EQ(types(inbound(InboundType::conversation_closed, "conv-1")), (V{"escalationResolved", "escalationSuccess"}));
  EXPECT_EQ(holder("conv-2"), "a-1");
  auto out = inbound(InboundType::escalation_failed, "conv-2");
  EXPECT_EQ(types(out).at(0), "escalationCancelled");
}

TEST_F(Lifecycle, InboundEscalationSuccessAcceptsTheOffer) {
  QueueSpec q = queue("general");
  q.offer_timeout_ms = 30'000;
  load_simple({agent("a-1")}, q);
  request("conv-1");
  auto out = inbound(InboundType::escalation_success, "conv-1", "a-1");
  EXPECT_EQ(types(out), (V{"escalationSuccess"}));
  EXPECT_EQ(esc("conv-1").status, EscalationStatus::assigned);
}

TEST_F(Lifecycle, ExternalQueueUpdatesAreRecordedAndRepublished) {
  load_simple({});
  request("conv-1");
  InboundEvent e;
  e.type = InboundType::escalation_queue_update;
  e.workspace_id = "ws-1";
  e.conversation_id = "conv-1";
  e.queue_position = 7;
  e.waiting_time = 12;
  auto out = apply(e);
  ASSERT_EQ(types(out), (V{"escalationQueueUpdate"}));
  EXPECT_EQ(out.events[0].queue_position, 7);
  EXPECT_EQ(out.events[0].waiting_time, 12);
  EXPECT_EQ(esc("conv-1").external_position, 7);
}

TEST_F(Lifecycle, DuplicateEventIdHasNoSecondEffectWithinTheWindow) {
  load_simple({});
  InboundEvent e;
  e.type = InboundType::escalation_requested;
  e.event_id = "evt-1";
  e.workspace_id = "ws-1";
  e.conversation_id = "conv-1";
  auto first = apply(e);
  EXPECT_FALSE(first.duplicate);
  apply(ResolveCommand{first.escalation_id, ""});
  auto second = apply(e);
  EXPECT_TRUE(second.duplicate);
  EXPECT_TRUE(second.events.empty());
  EXPECT_EQ(router.open_escalation_count(), 0u);
  auto later = apply(e, now + 24 * 3'600'000);  // the window has passed
  EXPECT_FALSE(later.duplicate);
  EXPECT_EQ(router.open_escalation_count(), 1u);
}

// Everything an outcome says, as text: a reused outcome must say exactly what a fresh one says.
std::string describe(const Outcome& o) {
  std::string out = o.error ? "error " + std::to_string(static_cast<int>(o.error->code)) + " " + o.error->message : "ok";
  out += o.duplicate ? " duplicate" : "";
  out += " ignored=" + o.ignored + " escalation=" + o.escalation_id.str() + " deadline=" + std::to_string(o.next_deadline);
  for (const OutboundEvent& e : o.events) out += "\n" + outbound_event_json(e, true);
  return out;
}

TEST_F(Lifecycle, AnOutcomeAppliedIntoAgainIsClearedFirstAndSaysWhatAFreshOneSays) {
  // Two routers on the same seed and rules; one answers into fresh outcomes, the other into one
  // outcome reused for every input (as the engine and the benchmark do).
  auto rules = [] {
    RuleSet r;
    r.agents = {agent("a1")};
    r.queues.push_back(queue("general"));
    r.routes.push_back(route("default", "true", "general"));
    return r;
  }();
  Router fresh{RouterOptions{7}};
  Router reusing{RouterOptions{7}};
  ASSERT_TRUE(fresh.load_rules(rules).empty());
  ASSERT_TRUE(reusing.load_rules(rules).empty());
  auto requested = [](std::string conversation, std::string event_id) {
    InboundEvent e;
    e.type = InboundType::escalation_requested;
    e.event_id = std::move(event_id);
    e.workspace_id = "ws-1";
    e.conversation_id = std::move(conversation);
    return e;
  };
  InboundEvent message;
  message.type = InboundType::message;
  message.workspace_id = "ws-1";
  message.conversation_id = "nobody";
  message.text = "hello?";

  Outcome reused;
  std::vector<std::string> seen;
  auto step = [&](Command command) {
    const Outcome a = fresh.apply(Input{now, command});
    reusing.apply(Input{now, std::move(command)}, reused);
    EXPECT_EQ(describe(reused), describe(a));
    seen.push_back(describe(a));
    now += 1'000;
  };
  step(requested("conv-1", "evt-1"));  // assigned at once: events, an escalation id, a deadline
  step(requested("conv-2", "evt-2"));  // waits
  step(requested("conv-1", "evt-1"));  // duplicate
  step(message);                       // ignored: no open escalation
  step(ResolveCommand{"01NOSUCHESCALATION00000000", ""});  // refused
  const Escalation* first = fresh.find_open_escalation("ws-1", "conv-1");
  ASSERT_NE(first, nullptr);
  step(ResolveCommand{first->id.str(), ""});  // conv-2 is pulled: more events than before
  step(TickCommand{});
  // The script went through each kind of answer, so each field was set and then had to be cleared.
  EXPECT_NE(seen[2].find(" duplicate"), std::string::npos);
  EXPECT_NE(seen[3].find("ignored=no open escalation"), std::string::npos);
  EXPECT_EQ(seen[4].rfind("error ", 0), 0u);
  EXPECT_NE(seen[1].find('\n'), std::string::npos);  // events, then none: left-overs would show
  EXPECT_EQ(seen[2].find('\n'), std::string::npos);
  EXPECT_NE(seen[5].find("escalationResolved"), std::string::npos);
}

TEST_F(Lifecycle, AgentUpsertAddsAnAgentThatPullsWaitingWork) {
  load_simple({});
  request("conv-1");
  auto out = apply(UpsertAgentCommand{agent("new")});
  ASSERT_FALSE(out.error);
  EXPECT_EQ(holder("conv-1"), "new");
  AgentSpec bad = agent("x");
  bad.workspaces.clear();
  auto refused = apply(UpsertAgentCommand{bad});
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(refused.error->message, "workspaces: must name at least one workspace");
}

TEST_F(Lifecycle, AnAgentThatLeavesAWorkspaceGivesBackItsEscalations) {
  load_simple({agent("a-1"), agent("a-2")});
  agent_status("a-2", AgentStatus::away);
  request("conv-1");
  ASSERT_EQ(holder("conv-1"), "a-1");
  auto moved = agent("a-1", {}, {"en"}, 1, {"ws-2"});
  apply(UpsertAgentCommand{moved});
  EXPECT_EQ(esc("conv-1").status, EscalationStatus::queued);
  agent_status("a-2", AgentStatus::available);
  EXPECT_EQ(holder("conv-1"), "a-2");
}

// Closed escalations beyond RouterOptions::max_closed are dropped, oldest first: not found by id,
// not listed; the listing stays newest first and pages by cursor across the gaps they leave (and
// after the index sheds them), and a snapshot keeps exactly what is kept.
TEST(Retention, ClosedEscalationsBeyondTheLimitAreForgottenAndTheListingSkipsThem) {
  RouterOptions options;
  options.max_closed = 3;
  Router r(options);
  RuleSet rules;
  rules.queues.push_back(queue("general"));
  rules.routes.push_back(route("default", "true", "general"));
  ASSERT_TRUE(r.load_rules(rules).empty());
  TimestampMs now = 1'773'309'900'000;
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) {  // enough evictions for the id index to shed its gaps
    InboundEvent e;
    e.type = InboundType::escalation_requested;
    e.workspace_id = "ws-1";
    e.conversation_id = "conv-" + std::to_string(i);
    ids.push_back(r.apply(Input{now, e}).escalation_id.str());
    if (i % 1000 != 999) r.apply(Input{now, ResolveCommand{ids.back(), ""}});  // 3 stay open
    now += (i % 7 == 0) ? 1 : 0;  // several per millisecond too
  }
  ASSERT_EQ(r.check_invariants(), "");
  EXPECT_EQ(r.find_escalation(ids[0]), nullptr);
  EXPECT_EQ(r.find_escalation(ids[2995]), nullptr);
  EXPECT_NE(r.find_escalation(ids[999]), nullptr);  // open: never dropped
  const V kept{ids[2999], ids[2998], ids[2997], ids[2996], ids[1999], ids[999]};
  for (const Router* router : {&r}) {
    V listed;
    EscalationFilter f;
    f.limit = 2;
    for (;;) {
      const EscalationPage page = router->list_escalations(f);
      for (const Escalation* e : page.items) listed.push_back(e->id.str());
      if (page.next_cursor.empty()) break;
      f.cursor = page.next_cursor;
    }
    EXPECT_EQ(listed, kept);
  }
  auto restored = Router::restore(r.snapshot());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored.value().check_invariants(), "");
  EscalationFilter all;
  all.limit = 200;
  V listed;
  for (const Escalation* e : restored.value().list_escalations(all).items) listed.push_back(e->id.str());
  EXPECT_EQ(listed, kept);
  EXPECT_EQ(restored.value().snapshot(), r.snapshot());
}

// A router with one queue "general" that every escalation goes to, and no agents.
Router one_queue_router(RouterOptions options) {
  Router r(options);
  RuleSet rules;
  rules.queues.push_back(queue("general"));
  rules.routes.push_back(route("default", "true", "general"));
  EXPECT_TRUE(r.load_rules(rules).empty());
  return r;
}

InboundEvent escalation_request(const std::string& conversation, const std::string& contact = "") {
  InboundEvent e;
  e.type = InboundType::escalation_requested;
  e.workspace_id = "ws-1";
  e.conversation_id = conversation;
  if (!contact.empty()) e.contact = Contact{contact, "Customer", {}};
  return e;
}

std::string replace_all(std::string bytes, const std::string& from, const std::string& to) {
  for (std::size_t at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + to.size())) {
    bytes.replace(at, from.size(), to);
  }
  return bytes;
}

// A snapshot whose contents contradict themselves is refused (the daemon then falls back to the
// previous snapshot), not loaded with one of two escalations silently unreachable.
TEST(Restore, RefusesASnapshotWithADuplicateIdOrTwoOpenEscalationsOfOneConversation) {
  Router r = one_queue_router(RouterOptions{7});
  std::vector<std::string> ids;
  for (const char* conversation : {"conv-1", "conv-2"}) {
    ids.push_back(r.apply(Input{1'773'309'900'000, escalation_request(conversation)}).escalation_id.str());
  }
  const std::string good = r.snapshot();
  ASSERT_TRUE(Router::restore(good).ok());
  ASSERT_EQ(ids[0].size(), ids[1].size());
  const auto same_id = Router::restore(replace_all(good, ids[1], ids[0]));
  ASSERT_FALSE(same_id.ok());
  EXPECT_NE(same_id.error().message.find("appears twice"), std::string::npos) << same_id.error().message;
  const auto same_conversation = Router::restore(replace_all(good, "conv-2", "conv-1"));
  ASSERT_FALSE(same_conversation.ok());
  EXPECT_NE(same_conversation.error().message.find("two open escalations"), std::string::npos)
      << same_conversation.error().message;
}

// A contact's previous escalations are the ones of its still kept (open, or among the last
// max_closed closed), newest first, without the one asked about; one that leaves the window leaves
// the list, wherever it sat in it; a snapshot restores the same list. Many escalations over time
// keep nothing of the ones gone (no list of old ids grows with the contact's history).
TEST(ContactHistory, PreviousEscalationsAreTheContactsKeptOnesNewestFirst) {
  RouterOptions options{3};
  options.max_closed = 4;
  Router r = one_queue_router(options);
  TimestampMs now = 1'773'309'900'000;
  auto request = [&](const std::string& conversation, const std::string& contact) {
    return r.apply(Input{++now, escalation_request(conversation, contact)}).escalation_id.str();
  };
  auto resolve = [&](const std::string& id) {
    const Outcome out = r.apply(Input{++now, ResolveCommand{id, ""}});
    ASSERT_FALSE(out.error) << id;
  };
  auto previous = [&](const Router& router, const std::string& id) {
    std::vector<std::string> ids;
    for (const Escalation* e : router.previous_escalations(*router.find_escalation(id))) ids.push_back(e->id.str());
    return ids;
  };
  using V = std::vector<std::string>;
  // Alice: a0 (stays open), a1 and a2 closed; Bob's closes in between push Alice's out of the window.
  const std::string a0 = request("conv-a0", "alice");
  const std::string a1 = request("conv-a1", "alice");
  resolve(a1);
  const std::string a2 = request("conv-a2", "alice");
  resolve(a2);
  const std::string a3 = request("conv-a3", "alice");
  EXPECT_EQ(previous(r, a3), (V{a2, a1, a0}));
  EXPECT_EQ(previous(r, a1), (V{a3, a2, a0}));  // every other one kept, whichever is asked about
  EXPECT_EQ(r.check_invariants(), "");
  for (int i = 0; i < 3; ++i) resolve(request("conv-b" + std::to_string(i), "bob"));  // a1 leaves the window
  EXPECT_EQ(r.find_escalation(a1), nullptr);
  EXPECT_EQ(previous(r, a3), (V{a2, a0}));  // a1 left from the middle of Alice's list
  EXPECT_EQ(r.check_invariants(), "");
  auto restored = Router::restore(r.snapshot());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored.value().check_invariants(), "");
  EXPECT_EQ(previous(restored.value(), a3), (V{a2, a0}));
  EXPECT_EQ(restored.value().snapshot(), r.snapshot());
  // 40 more of Alice's, each resolved: only the last four closed and the open a0 and a3 stay.
  V last;
  for (int i = 0; i < 40; ++i) {
    last.push_back(request("conv-x" + std::to_string(i), "alice"));
    resolve(last.back());
  }
  const std::string now_open = request("conv-y", "alice");
  EXPECT_EQ(previous(r, now_open), (V{last[39], last[38], last[37], last[36], a3, a0}));
  EXPECT_EQ(r.check_invariants(), "");
}

// Escalation ids name the slot their escalation is kept in, so a lookup by id reads no index. A
// snapshot made before they did holds ids that name other slots (or none): restored, every one of
// them is still found, resolved, and forgotten when it leaves the window of closed escalations.
TEST(Restore, FindsEscalationsWhoseIdsDoNotNameTheirSlots) {
  RouterOptions options{7};
  options.max_closed = 1;
  Router r = one_queue_router(options);
  std::vector<std::string> ids;
  for (const char* conversation : {"conv-0", "conv-1", "conv-2"}) {
    ids.push_back(r.apply(Input{1'773'309'900'000, escalation_request(conversation)}).escalation_id.str());
  }
  // The first two swap ids (each names the other's slot); the third names slot 999, which is empty.
  std::string old_ids = r.snapshot();
  old_ids = replace_all(old_ids, ids[0], std::string(26, '#'));
  old_ids = replace_all(old_ids, ids[1], ids[0]);
  old_ids = replace_all(old_ids, std::string(26, '#'), ids[1]);
  const std::string third = ids[2].substr(0, 19) + "00000Z7";  // 999 in its last 32 bits
  ASSERT_EQ(third.size(), 26u);
  old_ids = replace_all(old_ids, ids[2], third);
  auto restored = Router::restore(old_ids);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  Router& back = restored.value();
  EXPECT_EQ(back.check_invariants(), "");
  const std::vector<std::pair<std::string, std::string>> want = {
      {ids[1], "conv-0"}, {ids[0], "conv-1"}, {third, "conv-2"}};
  for (const auto& [id, conversation] : want) {
    const Escalation* e = back.find_escalation(id);
    ASSERT_NE(e, nullptr) << id;
    EXPECT_EQ(e->conversation_id, conversation) << id;
  }
  // Resolved by those ids; the first resolved leaves the one-escalation window, and its id is gone.
  for (const auto& [id, conversation] : want) {
    const Outcome out = back.apply(Input{1'773'309'900'001, ResolveCommand{id, ""}});
    ASSERT_FALSE(out.error) << id << ": " << out.error->message;
    EXPECT_EQ(back.check_invariants(), "") << "after resolving " << id;
  }
  EXPECT_EQ(back.find_escalation(ids[1]), nullptr);
  EXPECT_EQ(back.find_escalation(ids[0]), nullptr);
  ASSERT_NE(back.find_escalation(third), nullptr);
  // New escalations take the freed slots, with ids that name them.
  const std::string fresh = back.apply(Input{1'773'309'900'002, escalation_request("conv-3")}).escalation_id.str();
  ASSERT_NE(back.find_escalation(fresh), nullptr);
  EXPECT_EQ(back.find_escalation(fresh)->conversation_id, "conv-3");
  EXPECT_EQ(back.check_invariants(), "");
}

}  // namespace
}  // namespace router::core::testing
