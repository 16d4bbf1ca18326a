// Platform decoders on the seeds' own payloads, verbatim, and on hostile variants of them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "adapters/platforms/decoders.hpp"

namespace router::adapters::platforms {
namespace {

std::string seed(const std::string& name) {
  std::ifstream in(std::string(ROUTER_SOURCE_DIR) + "/tests/data/seeds/" + name);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

DecodeOptions source(std::string workspace = "ws-1") {
  DecodeOptions o;
  o.default_workspace = std::move(workspace);
  o.source = "src";
  return o;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string error_of(const core::Result<std::vector<core::InboundEvent>>& r) { return r.ok() ? "" : r.error().message; }

TEST(ConduitDecoder, MapsTheSeedEscalationObject) {
  auto r = decode_conduit(seed("conduit_escalation.json"), source(""));
  ASSERT_TRUE(r.ok()) << error_of(r);
  ASSERT_EQ(r->size(), 1u);
  const core::InboundEvent& e = r->front();
  EXPECT_EQ(e.type, core::InboundType::escalation_requested);
  EXPECT_EQ(e.external_id, "k578dfetqv2xv0b7bt9c6m4j5s7n8p1r");
  EXPECT_EQ(e.workspace_id, "j57demo8f8x7c9v0n2q4r6t8y1u3i5o");
  EXPECT_EQ(e.conversation_id, "ph77c0dy0mgdpzmqz6tesry8w184002s");
  EXPECT_EQ(e.contact->id, "ph77c0dy0mgdpzmqz6tesry8w184002s");
  EXPECT_EQ(e.reason, "Early check-in availability requires property team confirmation.");
  EXPECT_EQ(e.text, "Can I check in before 3 PM tomorrow?");
  EXPECT_EQ(e.source, "src");
}

TEST(ConduitDecoder, AcceptsTheBareObjectAndClosesResolvedOnes) {
  std::string bare = seed("conduit_escalation.json");
  bare = bare.substr(bare.find("\"data\": ") + 8);
  bare = bare.substr(0, bare.rfind('}'));
  auto r = decode_conduit(bare, source(""));
  ASSERT_TRUE(r.ok()) << error_of(r);
  auto resolved = decode_conduit(replace(seed("conduit_escalation.json"), "\"status\": \"pending\"", "\"status\": \"resolved\""), source(""));
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->front().type, core::InboundType::conversation_closed);
}

TEST(ConduitDecoder, RejectsHostileVariantsNamingTheField) {
  const std::string s = seed("conduit_escalation.json");
  EXPECT_EQ(error_of(decode_conduit(replace(s, "\"conversation_id\": \"ph77c0dy0mgdpzmqz6tesry8w184002s\"", "\"conversation_id\": 42"), source())),
            "data.conversation_id: must be a string");
  EXPECT_EQ(error_of(decode_conduit(replace(s, "\"id\": \"k578dfetqv2xv0b7bt9c6m4j5s7n8p1r\"", "\"id\": null"), source())),
            "data.id: required (the Conduit escalation id)");
  EXPECT_EQ(error_of(decode_conduit(replace(s, "\"guest_message\": \"", "\"guest_message\": [\""), source())).find("body is not valid JSON"), 0u);
  EXPECT_EQ(error_of(decode_conduit(replace(s, "\"type\": \"chat\"", "\"type\": \"chat\\ud800\""), source())).find("body is not valid JSON"), 0u);
  EXPECT_EQ(error_of(decode_conduit("[]", source())), "body must be a JSON object");
  EXPECT_EQ(error_of(decode_conduit(replace(s, "\"conversation_id\": \"ph77c0dy0mgdpzmqz6tesry8w184002s\"", "\"conversation_id\": \"" + std::string(300, 'x') + "\""), source())),
            "data.conversation_id: longer than 256 bytes");
}

TEST(ChatbotThreadDecoder, EscalatedThreadRequestsAHuman) {
  auto r = decode_chatbot_thread(seed("chatbot_thread_response.json"), source());
  ASSERT_TRUE(r.ok()) << error_of(r);
  const core::InboundEvent& e = r->front();
  EXPECT_EQ(e.type, core::InboundType::escalation_requested);
  EXPECT_EQ(e.conversation_id, "<string>");
  EXPECT_EQ(e.external_id, "<string>");  // chatbotId, for the callback path
  EXPECT_EQ(e.contact->id, "<string>");
  EXPECT_EQ(e.workspace_id, "ws-1");
}

TEST(ChatbotThreadDecoder, DeEscalatedThreadCancelsAndHostileOnesAreRejected) {
  const std::string s = seed("chatbot_thread_response.json");
  auto off = decode_chatbot_thread(replace(s, "\"escalated\": true", "\"escalated\": false"), source());
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->front().type, core::InboundType::escalation_failed);
  EXPECT_EQ(error_of(decode_chatbot_thread(replace(s, "\"escalated\": true", "\"escalated\": \"yes\""), source())),
            "data.thread.escalated: must be true or false");
  EXPECT_EQ(error_of(decode_chatbot_thread(replace(s, "\"escalated\": true,", ""), source())),
            "data.thread.escalated: required (true or false)");
  EXPECT_EQ(error_of(decode_chatbot_thread(s, source(""))), "the source has no workspace: chatbot-thread payloads carry none");
  EXPECT_EQ(error_of(decode_chatbot_thread(replace(s, "\"tags\": [\n\"<string>\"", "\"tags\": [\n7"), source())),
            "data.thread.tags[0]: must be a non-empty string of at most 128 bytes");
}

TEST(InventDecoder, TheSeedChatStateWithTheAiOnMeansNothing) {
  auto r = decode_invent(seed("invent_chat_state.json"), source());
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_TRUE(r->empty());
}

TEST(InventDecoder, AiOffUnassignedOpenRequestsAndClosedCloses) {
  std::string s = replace(seed("invent_chat_state.json"), "\"ai_enabled\": true", "\"ai_enabled\": false");
  const std::size_t user = s.find("\"assigned_user\": {");
  s.replace(user, s.find('}', user) + 1 - user, "\"assigned_user\": null");
  auto r = decode_invent(s, source());
  ASSERT_TRUE(r.ok()) << error_of(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().type, core::InboundType::escalation_requested);
  EXPECT_EQ(r->front().conversation_id, "<string>");
  auto closed = decode_invent(replace(s, "\"state\": \"OPEN\"", "\"state\": \"CLOSED\""), source());
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->front().type, core::InboundType::conversation_closed);
  auto snoozed = decode_invent(replace(s, "\"state\": \"OPEN\"", "\"state\": \"SNOOZED\""), source());
  ASSERT_TRUE(snoozed.ok());
  EXPECT_TRUE(snoozed->empty());
  EXPECT_EQ(error_of(decode_invent(replace(s, "\"state\": \"OPEN\"", "\"state\": \"open\""), source())),
            "state: must be OPEN, SNOOZED or CLOSED");
  EXPECT_EQ(error_of(decode_invent(replace(s, "\"ai_enabled\": false", "\"ai_enabled\": 0"), source())),
            "ai_enabled: must be true or false");
}

TEST(WidgetDecoder, TheSeedExampleBodyDecodes) {
  auto r = decode_widget(seed("widget_event.json"), source());
  ASSERT_TRUE(r.ok()) << error_of(r);
  const core::InboundEvent& e = r->front();
  EXPECT_EQ(e.type, core::InboundType::escalation_success);
  EXPECT_EQ(e.conversation_id, "123456789");
  EXPECT_EQ(e.agent_name, "John Smith");
  EXPECT_EQ(e.agent_avatar, "https://example.com/avatar/john-smith.png");
  EXPECT_EQ(e.workspace_id, "ws-1");
}

TEST(WidgetDecoder, StringNumbersAsTheSeedDocumentsThemAreAccepted) {
  auto r = decode_widget(R"({"platformConversationId":"1","eventType":"escalationQueueUpdate","queuePosition":"3","waitingTime":"4"})", source());
  ASSERT_TRUE(r.ok()) << error_of(r);
  EXPECT_EQ(r->front().queue_position, 3);
  EXPECT_EQ(r->front().waiting_time, 4);
  EXPECT_EQ(error_of(decode_widget(R"({"platformConversationId":"1","eventType":"escalationQueueUpdate","queuePosition":"three"})", source())),
            "queuePosition: must be an integer");
  EXPECT_EQ(error_of(decode_widget(R"({"platformConversationId":"1","eventType":"message"})", source())),
            "text: required (a message needs text)");
  EXPECT_EQ(error_of(decode_widget(R"({"eventType":"escalationSuccess","agent":"x"})", source())),
            "conversationId: required (or platformConversationId)");
}

TEST(CanonicalDecoder, ReadsEveryFieldOfTheSpecExample) {
  auto r = decode_canonical(R"({"eventId":"e-1","eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"conv-42",
    "source":"widget-main","contact":{"id":"cust-7","name":"Nguyen Van A","attributes":{"tier":"vip"}},"reason":"gate_failure",
    "priority":2,"language":"vi","skills":["billing"],"attributes":{"any":["a",1,true,null]},"text":"Can I check in before 3 PM tomorrow?",
    "agentId":"a-1","agent":"Minh","agentAvatar":"https://x/a.png","occurredAt":"2026-03-12T10:05:00.000Z"})", DecodeOptions{});
  ASSERT_TRUE(r.ok()) << error_of(r);
  const core::InboundEvent& e = r->front();
  EXPECT_EQ(e.event_id, "e-1");
  EXPECT_EQ(*e.priority, 2);
  EXPECT_EQ(e.skills->front(), "billing");
  EXPECT_EQ(e.contact->attributes.front().first, "tier");
  EXPECT_EQ(std::get<std::vector<core::Scalar>>(e.attributes->front().second).size(), 4u);
  EXPECT_EQ(e.occurred_at, 1'773'309'900'000);
}

TEST(CanonicalDecoder, RejectsHostileInputNamingTheField) {
  const DecodeOptions o;
  auto err = [&](const std::string& json) { return error_of(decode_canonical(json, o)); };
  const std::string base = R"("eventType":"escalationRequested","workspaceId":"w","conversationId":"c")";
  EXPECT_EQ(err("{" + base + R"(,"priority":1.5})"), "priority: must be an integer");
  EXPECT_EQ(err("{" + base + R"(,"priority":99999})"), "priority: must be between -1000 and 1000");
  EXPECT_EQ(err("{" + base + R"(,"skills":"billing"})"), "skills: must be an array of strings");
  EXPECT_EQ(err("{" + base + R"(,"skills":[""]})"), "skills[0]: must be a non-empty string of at most 100 bytes");
  EXPECT_EQ(err("{" + base + R"(,"contact":"x"})"), "contact: must be an object");
  EXPECT_EQ(err("{" + base + R"(,"contact":{"id":5}})"), "contact.id: must be a string");
  EXPECT_EQ(err("{" + base + R"(,"attributes":{"x":{"y":1}}})"), "attributes.x: must be a string, number, boolean, null or a list of those");
  EXPECT_EQ(err("{" + base + R"(,"occurredAt":"yesterday"})"), "occurredAt: must be an RFC 3339 date-time, like 2026-03-12T10:05:00.000Z");
  EXPECT_EQ(err(R"({"eventType":"agentStatus","agentId":"a"})"), "status: required (available, away or offline)");
  EXPECT_EQ(err(R"({"events":[{"eventType":"agentStatus","agentId":"a","status":"away"},7]})"), "events[1]: must be an object");
  std::string many = R"({"events":[)";
  for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + R"({"eventType":"agentDisconnect","agentId":"a"})";
  EXPECT_EQ(err(many + "]}"), "events: at most 1000 events per request");
  EXPECT_EQ(err(R"({"eventType":"message","workspaceId":"w","conversationId":"c","text":"a"} trailing)").find("body is not valid JSON"), 0u);
  EXPECT_EQ(err(std::string(100000, '[')).find("body is not valid JSON"), 0u);  // deep nesting: refused, no crash
}

}  // namespace
}  // namespace router::adapters::platforms
