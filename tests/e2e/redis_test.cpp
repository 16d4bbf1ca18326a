// Redis end to end: the real binary against a real redis-server started by the test.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;
const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", "Bearer tok"}};

std::string config(const TempDir& dir, const RedisServer& redis, const std::string& extra = "") {
  return R"([server]
listen = "127.0.0.1:0"
[storage]
dir = ")" + dir.file("data") + R"("
fsync = "always"
[redis]
url = ")" + redis.url() + R"("
input_stream = "in"
output_stream = "out"
claim_idle = "500ms"
)" + extra + R"(
[[tokens]]
name = "t"
token = "tok"
scopes = ["ingest", "operate"]
[[agents]]
id = "a1"
workspaces = ["ws-1"]
capacity = 50
)" + std::string(catch_all_routing);
}

std::string request(const std::string& conversation) {
  return R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":")" + conversation + R"("})";
}

// The "event" payloads of a stream, in order.
std::vector<std::string> stream_events(RedisClient& client, const std::string& stream) {
  std::vector<std::string> out;
  const auto flat = client.command({"XRANGE", stream, "-", "+"});
  for (std::size_t i = 0; i + 1 < flat.size(); ++i) {
    if (flat[i] == "event") out.push_back(flat[i + 1]);
  }
  return out;
}

long long sequence_of(const std::string& json) {
  const std::size_t at = json.find("\"sequence\":");
  return at == std::string::npos ? -1 : std::atoll(json.c_str() + at + 11);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

TEST(Redis, SubscribersReceiveEveryEventInOrderOnTheWorkspaceAndAgentChannels) {
  RedisServer redis;
  TempDir dir;
  RedisClient workspace_channel(redis.port());
  RedisClient agent_channel(redis.port());
  workspace_channel.command({"SUBSCRIBE", "escalations:workspace:ws-1"});
  agent_channel.command({"SUBSCRIBE", "escalations:agent:a1"});
  DaemonProcess daemon({"--config", dir.write("router.toml", config(dir, redis))}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(http_request(port, "POST", "/v1/events", request("c" + std::to_string(i)), auth).status, 202);
  RedisClient client(redis.port());
  ASSERT_TRUE(eventually([&] { return stream_events(client, "out").size() == 20; })) << daemon.output();
  const auto all = stream_events(client, "out");
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(sequence_of(all[i]), sequence_of(all[0]) + static_cast<long long>(i)) << "gap or reorder at " << i;
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(workspace_channel.next_message(), all[i]) << i;
  }
  for (const std::string& event : all) {
    if (event.find("\"agentId\":\"a1\"") != std::string::npos) EXPECT_EQ(agent_channel.next_message(), event);
  }
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

TEST(Redis, AnOutageLosesNothingWithinTheBufferAndKeepsTheOrder) {
  RedisServer redis;
  TempDir dir;
  DaemonProcess daemon({"--config", dir.write("router.toml", config(dir, redis))}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http_request(port, "POST", "/v1/events", request("before" + std::to_string(i)), auth).status, 202);
  long long last_before = 0;
  {
    RedisClient client(redis.port());
    ASSERT_TRUE(eventually([&] { return stream_events(client, "out").size() == 6; }));
    last_before = sequence_of(stream_events(client, "out").back());
  }
  redis.kill();
  // Routing goes on while Redis is away.
  for (int i = 0; i < 10; ++i) {
    auto r = http_request(port, "POST", "/v1/events", request("during" + std::to_string(i)), auth);
    ASSERT_EQ(r.status, 202) << r.body;
  }
  ASSERT_TRUE(redis.start());
  RedisClient client(redis.port());
  std::vector<std::string> after;
  ASSERT_TRUE(eventually([&] {
    after = stream_events(client, "out");
    return !after.empty() && sequence_of(after.back()) == last_before + 20;
  }, 20s)) << daemon.output();
  // Everything after the last event Redis had is there, once, in order (events in flight at the
  // crash may come again first: consumers drop what they have already seen).
  long long expected = last_before + 1;
  for (const std::string& event : after) {
    const long long sequence = sequence_of(event);
    if (sequence < expected) continue;
    EXPECT_EQ(sequence, expected);
    expected = sequence + 1;
  }
  EXPECT_EQ(expected, last_before + 21);
  EXPECT_NE(daemon.output().find("redis publisher: connected; flushing"), std::string::npos);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

TEST(Redis, InputStreamEntriesAreAppliedThenAckedAndMalformedOnesGoToDead) {
  RedisServer redis;
  TempDir dir;
  RedisClient client(redis.port());
  for (int i = 0; i < 20; ++i) client.command({"XADD", "in", "*", "event", request("s" + std::to_string(i))});
  client.command({"XADD", "in", "*", "event", "{not json"});
  client.command({"XADD", "in", "*", "other", "field"});
  client.command({"XADD", "in", "*", "event", R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":5})"});
  DaemonProcess daemon({"--config", dir.write("router.toml", config(dir, redis))}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  ASSERT_TRUE(eventually([&] {
    auto r = http_request(port, "GET", "/v1/escalations?status=open&limit=200", "", auth);
    return std::count(r.body.begin(), r.body.end(), '{') > 0 && r.body.find("\"conversationId\":\"s19\"") != std::string::npos;
  })) << daemon.output();
  ASSERT_TRUE(eventually([&] { return client.integer({"XLEN", "in:dead"}) == 3; })) << daemon.output();
  ASSERT_TRUE(eventually([&] { return client.command({"XPENDING", "in", "router"}).front() == "0"; }));
  const auto dead = client.command({"XRANGE", "in:dead", "-", "+"});
  std::string all;
  for (const auto& part : dead) all += part + "\n";
  EXPECT_NE(all.find("body is not valid JSON"), std::string::npos) << all;
  EXPECT_NE(all.find("entry has no \"event\" field"), std::string::npos) << all;
  EXPECT_NE(all.find("conversationId: must be a string"), std::string::npos) << all;
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

TEST(Redis, ASecondConsumerClaimsThePendingEntriesOfADeadOne) {
  RedisServer redis;
  TempDir dir;
  RedisClient client(redis.port());
  client.command({"XGROUP", "CREATE", "in", "router", "$", "MKSTREAM"});
  for (int i = 0; i < 5; ++i) client.command({"XADD", "in", "*", "event", request("claimed" + std::to_string(i))});
  // A consumer that read them and died before acknowledging.
  client.command({"XREADGROUP", "GROUP", "router", "dead-one", "COUNT", "10", "STREAMS", "in", ">"});
  ASSERT_EQ(client.command({"XPENDING", "in", "router"}).front(), "5");
  DaemonProcess daemon({"--config", dir.write("router.toml", config(dir, redis))}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  ASSERT_TRUE(eventually([&] { return client.command({"XPENDING", "in", "router"}).front() == "0"; })) << daemon.output();
  auto r = http_request(port, "GET", "/v1/escalations?status=open&limit=200", "", auth);
  for (int i = 0; i < 5; ++i) EXPECT_NE(r.body.find("\"conversationId\":\"claimed" + std::to_string(i) + "\""), std::string::npos);
  EXPECT_NE(daemon.output().find("claimed 5 entries pending at a dead consumer"), std::string::npos) << daemon.output();
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

TEST(Redis, Kill9WhileConsumingAppliesEveryEntryExactlyOnce) {
  RedisServer redis;
  TempDir dir;
  RedisClient client(redis.port());
  for (int i = 0; i < 300; ++i) client.command({"XADD", "in", "*", "event", request("k" + std::to_string(i))});
  const std::string path = dir.write("router.toml", config(dir, redis));
  {
    DaemonProcess daemon({"--config", path}, dir.file("run1.log"));
    ASSERT_GT(daemon.wait_for_port(), 0) << daemon.output();
    std::this_thread::sleep_for(30ms);
    daemon.signal(SIGKILL);
    daemon.wait_exit(5s);
  }
  DaemonProcess daemon({"--config", path}, dir.file("run2.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  ASSERT_TRUE(eventually([&] { return client.command({"XPENDING", "in", "router"}).front() == "0" &&
                                      client.command({"XINFO", "GROUPS", "in"}).size() > 0; }));
  std::string all;
  ASSERT_TRUE(eventually([&] {
    all = list_all_escalations(port, auth);
    return all.find("\"conversationId\":\"k299\"") != std::string::npos;
  }, 20s));
  for (int i = 0; i < 300; ++i) {
    const std::string needle = "\"conversationId\":\"k" + std::to_string(i) + "\"";
    const std::size_t first = all.find(needle);
    ASSERT_NE(first, std::string::npos) << "k" << i << " lost";
    EXPECT_EQ(all.find(needle, first + 1), std::string::npos) << "k" << i << " applied twice";
  }
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}


// The outbox: what was acknowledged while Redis was down is not lost with the process. After a
// kill -9 the events after the publisher's mark are sent again, with the same eventId and sequence.
TEST(Redis, EventsAcknowledgedWhileRedisWasDownAreSentAfterAKill9) {
  RedisServer redis;
  TempDir dir;
  const std::string path = dir.write("router.toml", config(dir, redis));
  redis.kill();
  std::vector<std::string> ids;
  {
    DaemonProcess daemon({"--config", path}, dir.file("run1.log"));
    const int port = daemon.wait_for_port();
    ASSERT_GT(port, 0) << daemon.output();
    for (int i = 0; i < 10; ++i) {
      auto r = http_request(port, "POST", "/v1/events", request("down" + std::to_string(i)), auth);
      ASSERT_EQ(r.status, 202) << r.body;
      const std::size_t at = r.body.find("\"escalationIds\":[\"");
      ASSERT_NE(at, std::string::npos) << r.body;
      ids.push_back(r.body.substr(at + 18, 26));
    }
    daemon.signal(SIGKILL);
    daemon.wait_exit(5s);
  }
  ASSERT_TRUE(redis.start());
  DaemonProcess daemon({"--config", path}, dir.file("run2.log"));
  ASSERT_GT(daemon.wait_for_port(), 0) << daemon.output();
  RedisClient client(redis.port());
  std::vector<std::string> events;
  ASSERT_TRUE(eventually([&] {
    events = stream_events(client, "out");
    return events.size() >= 20;
  }, 20s)) << daemon.output();
  std::string all;
  for (const auto& e : events) all += e + "\n";
  for (const std::string& id : ids) EXPECT_NE(all.find("\"escalationId\":\"" + id + "\""), std::string::npos) << id << " missing\n" << all;
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(sequence_of(events[i]), static_cast<long long>(i + 1)) << all;
  EXPECT_TRUE(daemon.wait_for_output("outbox: sending 20 event(s) again to redis", 2s)) << daemon.output();
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

// The mark is kept at a clean stop: a restart sends nothing again.
TEST(Redis, AfterACleanStopNothingIsSentAgain) {
  RedisServer redis;
  TempDir dir;
  const std::string path = dir.write("router.toml", config(dir, redis));
  RedisClient client(redis.port());
  {
    DaemonProcess daemon({"--config", path}, dir.file("run1.log"));
    const int port = daemon.wait_for_port();
    ASSERT_GT(port, 0) << daemon.output();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(http_request(port, "POST", "/v1/events", request("clean" + std::to_string(i)), auth).status, 202);
    ASSERT_TRUE(eventually([&] { return stream_events(client, "out").size() == 10; })) << daemon.output();
    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait_exit(5s), 0);
  }
  DaemonProcess daemon({"--config", path}, dir.file("run2.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  ASSERT_EQ(http_request(port, "POST", "/v1/events", request("clean-after"), auth).status, 202);
  std::vector<std::string> events;
  ASSERT_TRUE(eventually([&] {
    events = stream_events(client, "out");
    return events.size() >= 12;
  })) << daemon.output();
  std::this_thread::sleep_for(200ms);
  events = stream_events(client, "out");
  ASSERT_EQ(events.size(), 12u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(sequence_of(events[i]), static_cast<long long>(i + 1));
  EXPECT_EQ(daemon.output().find("outbox: sending"), std::string::npos) << daemon.output();
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

}  // namespace
}  // namespace router::testing
