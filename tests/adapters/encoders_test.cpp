// Outbound platform calls: method, path, headers and body as each seed document specifies.
#include <gtest/gtest.h>

#include "adapters/platforms/encoders.hpp"

namespace router::adapters::platforms {
namespace {

SourceSpec source(Format format) {
  SourceSpec s;
  s.name = "src";
  s.format = format;
  s.callback = Callback{"https://platform.example.com", "api-key-1", "whsec_c2VjcmV0", "bot-1", ""};
  return s;
}

core::OutboundEvent event(core::OutboundType type) {
  core::OutboundEvent e;
  e.event_id = core::Id::of("01EVENT");
  e.sequence = 7;
  e.type = type;
  e.workspace_id = "ws-1";
  e.escalation_id = core::Id::of("01ESC");
  e.conversation_id = "123456789";
  e.external_id = "k578dfetqv2xv0b7bt9c6m4j5s7n8p1r";
  e.agent_id = "a-1";
  e.agent_external_id = "m48k3v7p2q9x5t1w8r6n4j0y3u2i5o7a";
  e.agent_name = "John Smith";
  e.agent_avatar = "https://example.com/avatar/john-smith.png";
  return e;
}

std::string header(const CallbackRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(WidgetEncoder, EscalationSuccessIsTheSeedsExampleBody) {
  ThreadFlags threads;
  auto r = encode_callback(source(Format::widget), event(core::OutboundType::escalation_success), threads);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "https://platform.example.com/agent/converse/send-message-to-widget");
  EXPECT_EQ(header(*r, "Authorization"), "api-key-1");
  EXPECT_EQ(header(*r, "botid"), "bot-1");
  EXPECT_EQ(r->body, R"({"platformConversationId":"123456789","eventType":"escalationSuccess","agent":"John Smith","agentAvatar":"https://example.com/avatar/john-smith.png"})");
}

TEST(WidgetEncoder, QueueUpdatesAgentMessagesFailuresAndDisconnects) {
  ThreadFlags threads;
  auto queued = event(core::OutboundType::escalation_queue_update);
  queued.queue_position = 3;
  queued.waiting_time = 6;
  EXPECT_EQ(encode_callback(source(Format::widget), queued, threads)->body,
            R"({"platformConversationId":"123456789","eventType":"escalationQueueUpdate","queuePosition":3,"waitingTime":6})");
  auto message = event(core::OutboundType::message);
  message.role = "agent";
  message.text = "Chào bạn";
  EXPECT_EQ(encode_callback(source(Format::widget), message, threads)->body,
            R"({"platformConversationId":"123456789","eventType":"message","text":"Chào bạn","agent":"John Smith"})");
  message.role = "customer";
  EXPECT_FALSE(encode_callback(source(Format::widget), message, threads));
  EXPECT_NE(encode_callback(source(Format::widget), event(core::OutboundType::escalation_failed), threads)->body.find("escalationFailed"), std::string::npos);
  EXPECT_NE(encode_callback(source(Format::widget), event(core::OutboundType::agent_disconnect), threads)->body.find("agentDisconnect"), std::string::npos);
  EXPECT_FALSE(encode_callback(source(Format::widget), event(core::OutboundType::escalation_created), threads));
}

TEST(ConduitEncoder, AssignmentPostsTheAssigneeToTheEscalation) {
  ThreadFlags threads;
  auto r = encode_callback(source(Format::conduit), event(core::OutboundType::escalation_success), threads);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "https://platform.example.com/v1/escalations/k578dfetqv2xv0b7bt9c6m4j5s7n8p1r/assign");
  EXPECT_EQ(header(*r, "Authorization"), "Bearer api-key-1");
  EXPECT_EQ(r->body, R"({"assignee_id":"m48k3v7p2q9x5t1w8r6n4j0y3u2i5o7a"})");
  EXPECT_FALSE(encode_callback(source(Format::conduit), event(core::OutboundType::escalation_queue_update), threads));
}

TEST(InventEncoder, AssignsAndUnassignsTheChatState) {
  ThreadFlags threads;
  auto assigned = encode_callback(source(Format::invent), event(core::OutboundType::escalation_success), threads);
  ASSERT_TRUE(assigned);
  EXPECT_EQ(assigned->method, "PATCH");
  EXPECT_EQ(assigned->url, "https://platform.example.com/chats/k578dfetqv2xv0b7bt9c6m4j5s7n8p1r/state/assign");
  EXPECT_EQ(assigned->body, R"({"member_id":"m48k3v7p2q9x5t1w8r6n4j0y3u2i5o7a"})");
  EXPECT_EQ(encode_callback(source(Format::invent), event(core::OutboundType::escalation_released), threads)->body, R"({"member_id":null})");
  EXPECT_EQ(encode_callback(source(Format::invent), event(core::OutboundType::escalation_unassigned), threads)->body, R"({"member_id":null})");
}

TEST(ChatbotThreadEncoder, FlipsTheThreadBackOnlyWhileItIsKnownEscalated) {
  ThreadFlags threads;
  SourceSpec s = source(Format::chatbot_thread);
  auto created = event(core::OutboundType::escalation_created);
  EXPECT_FALSE(encode_callback(s, created, threads));
  auto resolved = encode_callback(s, event(core::OutboundType::escalation_resolved), threads);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->method, "PATCH");
  EXPECT_EQ(resolved->url, "https://platform.example.com/v1/chatting/k578dfetqv2xv0b7bt9c6m4j5s7n8p1r/thread/123456789/escalate");
  EXPECT_EQ(header(*resolved, "Authorization"), "Bearer api-key-1");
  // Already flipped: a second release must not toggle it again.
  EXPECT_FALSE(encode_callback(s, event(core::OutboundType::escalation_released), threads));
  // A thread that de-escalated itself is not toggled either.
  encode_callback(s, created, threads);
  encode_callback(s, event(core::OutboundType::escalation_cancelled), threads);
  EXPECT_FALSE(encode_callback(s, event(core::OutboundType::escalation_resolved), threads));
}

TEST(CanonicalEncoder, PostsTheEventToBeSignedAtSendTime) {
  ThreadFlags threads;
  auto r = encode_callback(source(Format::canonical), event(core::OutboundType::escalation_success), threads);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->url, "https://platform.example.com");
  EXPECT_TRUE(r->sign_standard_webhook);
  EXPECT_NE(r->body.find(R"("eventType":"escalationSuccess")"), std::string::npos);
}

TEST(Encoders, NothingWithoutACallbackOrAConversation) {
  ThreadFlags threads;
  SourceSpec s = source(Format::widget);
  s.callback.reset();
  EXPECT_FALSE(encode_callback(s, event(core::OutboundType::escalation_success), threads));
  auto status = event(core::OutboundType::agent_status_changed);
  status.conversation_id.clear();
  EXPECT_FALSE(encode_callback(source(Format::widget), status, threads));
}

}  // namespace
}  // namespace router::adapters::platforms
