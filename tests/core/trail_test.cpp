// The encoded histories of an escalation (routing trail, messages): every field of every entry reads
// back as written, through appends, removals at any position or from the front and the last
// decision's agent being rewritten; checked against a plain vector doing the same.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "router/core/model.hpp"

namespace router::core {
namespace {

void expect_same(const Decision& got, const Decision& want) {
  EXPECT_EQ(got.at, want.at);
  EXPECT_EQ(got.action, want.action);
  EXPECT_EQ(got.route, want.route);
  EXPECT_EQ(got.queue, want.queue);
  EXPECT_EQ(got.step, want.step);
  EXPECT_EQ(got.agent, want.agent);
  EXPECT_EQ(got.why, want.why);
  EXPECT_EQ(got.words, want.words);
  EXPECT_EQ(got.load, want.load);
  EXPECT_EQ(got.capacity, want.capacity);
  EXPECT_EQ(got.last_assigned_at, want.last_assigned_at);
  EXPECT_EQ(got.not_examined, want.not_examined);
  ASSERT_EQ(got.candidates.size(), want.candidates.size());
  for (std::size_t i = 0; i < want.candidates.size(); ++i) {
    EXPECT_EQ(got.candidates[i].agent, want.candidates[i].agent);
    EXPECT_EQ(got.candidates[i].kind, want.candidates[i].kind);
    EXPECT_EQ(got.candidates[i].step, want.candidates[i].step);
    EXPECT_EQ(got.candidates[i].text, want.candidates[i].text);
  }
  EXPECT_EQ(got.reason(), want.reason());
}

void expect_same(const Trail& trail, const std::vector<Decision>& want) {
  ASSERT_EQ(trail.size(), want.size());
  EXPECT_EQ(trail.empty(), want.empty());
  std::size_t i = 0;
  for (const Decision& d : trail) {  // forward iteration
    ASSERT_LT(i, want.size());
    expect_same(d, want[i]);
    ++i;
  }
  EXPECT_EQ(i, want.size());
  for (std::size_t k = 0; k < want.size(); ++k) expect_same(trail[k], want[k]);  // by position
  if (!want.empty()) {
    expect_same(trail.front(), want.front());
    expect_same(trail.back(), want.back());
    EXPECT_EQ(trail.back_action(), want.back().action);
  } else {
    EXPECT_EQ(trail.back_action(), "");
  }
}

Decision random_decision(std::mt19937& rng, int n) {
  const auto pick = [&](int bound) { return static_cast<int>(rng() % static_cast<unsigned>(bound)); };
  const auto text = [&](int max_length) {
    std::string s(static_cast<std::size_t>(pick(max_length + 1)), 'x');
    for (auto& c : s) c = static_cast<char>('a' + pick(26));
    return s;
  };
  Decision d;
  d.at = 1'773'309'900'000 + n;
  const char* actions[] = {"routed", "waiting", "offered", "assigned", "requeued", "step"};
  d.action = actions[pick(6)];
  d.route = text(20);
  d.queue = text(12);
  d.step = pick(4) - 1;
  d.agent = text(40);  // longer than a small-string buffer, sometimes
  d.why = static_cast<Decision::Why>(pick(7));
  d.words = pick(2) == 0 ? "" : "first matching route: " + text(200);
  d.load = static_cast<std::uint32_t>(rng());
  d.capacity = static_cast<std::uint32_t>(rng());
  d.last_assigned_at = pick(2) == 0 ? 0 : static_cast<TimestampMs>(rng());
  d.not_examined = static_cast<std::uint32_t>(pick(1000));
  for (int c = pick(6); c > 0; --c) {
    Decision::Candidate candidate;
    candidate.agent = text(30);
    candidate.kind = static_cast<Decision::Candidate::Verdict>(pick(4));
    candidate.step = pick(5) - 1;
    candidate.text = pick(3) == 0 ? text(60) : "";
    d.candidates.push_back(candidate);
  }
  return d;
}

TEST(Trail, ReadsBackEveryFieldOfEveryDecisionAsWritten) {
  std::mt19937 rng(7);
  Trail trail;
  std::vector<Decision> want;
  expect_same(trail, want);
  for (int n = 0; n < 40; ++n) {
    want.push_back(random_decision(rng, n));
    trail.push_back(want.back());
    expect_same(trail, want);
  }
}

TEST(Trail, RemovesAtAnyPositionAndRewritesTheLastAgentLikeAVectorWould) {
  std::mt19937 rng(11);
  Trail trail;
  std::vector<Decision> want;
  for (int step = 0; step < 3000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5 || want.empty()) {
      want.push_back(random_decision(rng, step));
      trail.push_back(want.back());
    } else if (op < 8) {
      // Position 1 is what trimming removes; the last and the first are the edge cases.
      const std::size_t choices[] = {1, want.size() - 1, 0, rng() % want.size()};
      const std::size_t position = choices[rng() % 4];
      if (position < want.size()) want.erase(want.begin() + static_cast<std::ptrdiff_t>(position));
      trail.erase(position);
    } else if (op < 9) {
      const std::string agent = rng() % 2 == 0 ? "a" : std::string(50, 'b');
      want.back().agent = agent;
      trail.set_back_agent(agent);
    } else {
      want.clear();
      trail.clear();
    }
    ASSERT_NO_FATAL_FAILURE(expect_same(trail, want)) << "after step " << step;
  }
}

TEST(Trail, APlainDecisionIsTheEntryOfTheSameDecision) {
  // Routed, unrouted and requeued decisions are written from their parts; read back they are the
  // Decision push_back(Decision) would have stored, byte for byte.
  const std::string long_words = "first matching route: " + std::string(300, 'w');
  struct Parts {
    TimestampMs at;
    std::string action, route, queue;
    std::int32_t step;
    std::string words;
  };
  for (const Parts& p : {Parts{1'773'309'900'123, "routed", "vip", "billing", -1, long_words},
                         Parts{5, "unrouted", "", "", -1, "no route matched"}, Parts{7, "requeued", "", "general", 2, ""},
                         Parts{0, "", "", "", -1, ""}}) {
    Decision d;
    d.at = p.at;
    d.action = p.action;
    d.route = p.route;
    d.queue = p.queue;
    d.step = p.step;
    d.words = p.words;
    Trail whole, parts;
    whole.push_back(d);
    parts.push_back(DecisionParts{.at = p.at, .action = p.action, .route = p.route, .queue = p.queue, .step = p.step, .words = p.words});
    expect_same(parts, {d});
    ASSERT_EQ(parts.block().end_offset(), whole.block().end_offset());
    EXPECT_EQ(std::string_view(parts.block().entry(0), parts.block().end_offset() - 4),
              std::string_view(whole.block().entry(0), whole.block().end_offset() - 4));
  }
}

TEST(Trail, CopiesAndMovesWhole) {
  std::mt19937 rng(3);
  Trail trail;
  std::vector<Decision> want;
  for (int n = 0; n < 5; ++n) {
    want.push_back(random_decision(rng, n));
    trail.push_back(want.back());
  }
  Trail copy = trail;
  expect_same(copy, want);
  copy.push_back(random_decision(rng, 9));  // the copy has its own bytes
  expect_same(trail, want);
  Trail moved = std::move(copy);
  EXPECT_EQ(moved.size(), 6u);
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from trail is empty and usable
  copy.push_back(want.front());
  expect_same(copy, {want.front()});
  copy = moved;
  EXPECT_EQ(copy.size(), 6u);
  moved = Trail();
  EXPECT_TRUE(moved.empty());
}

// An escalation routed, left waiting (two agents passed over) and then assigned, with the names of a
// usual configuration, keeps its trail inside itself: no allocation of its own, in the lines the
// escalation's own prefetch brings.
TEST(Trail, AQueuedThenAssignedEscalationsDecisionsFitItsInlineRoom) {
  Trail trail;
  Decision routed;
  routed.at = 1'773'309'900'000;
  routed.action = "routed";
  routed.route = "default";
  routed.queue = "general";
  routed.words = "first matching route: true";
  Decision waiting = routed;
  waiting.action = "waiting";
  waiting.words = "";
  waiting.why = Decision::Why::none_eligible;
  waiting.load = 2;
  for (const char* agent : {"agent-3-65", "agent-3-12"}) {
    Decision::Candidate c;
    c.agent = agent;
    c.kind = Decision::Candidate::Verdict::rule;
    waiting.candidates.push_back(c);
  }
  Decision assigned = routed;
  assigned.action = "assigned";
  assigned.words = "";
  assigned.agent = "agent-3-65";
  assigned.why = Decision::Why::least_loaded;
  assigned.load = 1;
  assigned.capacity = 2;
  assigned.last_assigned_at = 1'773'309'800'000;
  for (const Decision& d : {routed, waiting, assigned}) trail.push_back(d);
  EXPECT_FALSE(trail.block().on_heap()) << trail.block().end_offset() << " bytes";
  expect_same(trail, {routed, waiting, assigned});
}

TEST(Trail, IgnoresRemovingPastTheEndAndRewritingAnEmptyTrail) {
  Trail trail;
  trail.set_back_agent("nobody");
  trail.erase(0);
  EXPECT_TRUE(trail.empty());
  Decision d;
  d.action = "routed";
  trail.push_back(d);
  trail.erase(5);
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail.back().action, "routed");
}

// The block itself, with entries of raw bytes: every removal keeps the offsets of what is left
// right (its last entry's included, which the next removal at the back relies on). With and without
// inline room: entries move from the inline bytes to the heap as the block grows, and a copy or a
// move (of a block held inline or on the heap) carries every entry.
template <typename Block>
class EntryBlockTest : public ::testing::Test {};
using Blocks = ::testing::Types<EntryBlock, MessageLog::Block, Trail::Block>;
TYPED_TEST_SUITE(EntryBlockTest, Blocks);

TYPED_TEST(EntryBlockTest, RemovesFromTheFrontTheBackAndTheMiddleLikeAVectorAndCopiesAndMovesWhole) {
  std::mt19937 rng(13);
  TypeParam block;
  std::vector<std::string> want;
  const auto check = [&want](const TypeParam& b) {
    ASSERT_EQ(b.size(), want.size());
    std::size_t i = 0;
    for (std::size_t at = b.begin_offset(); at != b.end_offset(); at = b.next(at), ++i) {
      ASSERT_LT(i, want.size());
      ASSERT_EQ(std::string(b.entry(at), b.next(at) - at - 4), want[i]);
    }
    ASSERT_EQ(i, want.size());
    if (!want.empty()) {
      const std::size_t last = b.back_offset();
      ASSERT_EQ(b.next(last), b.end_offset());
      ASSERT_EQ(std::string(b.entry(last), b.end_offset() - last - 4), want.back());
    }
  };
  bool spilled = false;
  for (int step = 0; step < 5000; ++step) {
    const int op = static_cast<int>(rng() % 12);
    if (op < 5) {
      const std::string entry(rng() % 40, static_cast<char>('a' + step % 26));
      char* at = block.append(entry.size(), rng() % 2 == 0 ? 0 : 100);
      if (!entry.empty()) std::memcpy(at, entry.data(), entry.size());
      want.push_back(entry);
    } else if (op < 7) {
      const std::size_t count = rng() % 3;
      want.erase(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(std::min(count, want.size())));
      block.erase_front(count);
    } else if (op < 8) {
      if (!want.empty()) want.pop_back();
      block.pop_back();
    } else if (op < 9) {
      const std::size_t position = want.empty() ? 0 : rng() % want.size();
      if (position < want.size()) want.erase(want.begin() + static_cast<std::ptrdiff_t>(position));
      block.erase(position);
    } else if (op < 10) {
      TypeParam copy(block);  // its own bytes: changing the copy leaves the block as it was
      ASSERT_NO_FATAL_FAILURE(check(copy)) << "copy, step " << step;
      std::memset(copy.append(3, 0), 'z', 3);
      TypeParam moved(std::move(block));
      ASSERT_NO_FATAL_FAILURE(check(moved)) << "moved, step " << step;
      EXPECT_TRUE(block.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty and usable
      block = std::move(moved);
      TypeParam assigned;
      std::memset(assigned.append(200, 0), 'y', 200);  // on the heap whatever the room
      assigned = block;
      ASSERT_NO_FATAL_FAILURE(check(assigned)) << "assigned, step " << step;
    } else if (op < 11) {
      if (rng() % 8 == 0) {
        want.clear();
        block.clear();
      }
    }
    spilled = spilled || block.on_heap();
    ASSERT_NO_FATAL_FAILURE(check(block)) << "after step " << step;
  }
  EXPECT_TRUE(spilled);  // the entries outgrew the inline room at some point
}

TEST(EntryBlock, KeepsEntriesInsideWhileTheyFitItsRoom) {
  MessageLog::Block block;
  constexpr std::size_t second = MessageLog::inline_bytes - (4 + 30) - 4;
  std::memset(block.append(30, 0), 'a', 30);
  std::memset(block.append(second, 0), 'b', second);  // each behind its 4-byte length: full, still inside
  EXPECT_FALSE(block.on_heap());
  std::memset(block.append(1, 0), 'c', 1);
  EXPECT_TRUE(block.on_heap());
  EXPECT_EQ(std::string(block.entry(block.back_offset()), 1), "c");
  EXPECT_EQ(std::string(block.entry(0), 30), std::string(30, 'a'));
}

void expect_same(const MessageLog& log, const std::vector<Message>& want) {
  ASSERT_EQ(log.size(), want.size());
  EXPECT_EQ(log.empty(), want.empty());
  std::size_t i = 0;
  for (const Message& m : log) {
    ASSERT_LT(i, want.size());
    EXPECT_EQ(m.role, want[i].role);
    EXPECT_EQ(m.agent_id, want[i].agent_id);
    EXPECT_EQ(m.text, want[i].text);
    EXPECT_EQ(m.at, want[i].at);
    ++i;
  }
  EXPECT_EQ(i, want.size());
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_EQ(log[k].text, want[k].text);
  if (!want.empty()) {
    EXPECT_EQ(log.front().text, want.front().text);
    EXPECT_EQ(log.back().text, want.back().text);
    EXPECT_EQ(log.back().at, want.back().at);
  }
}

TEST(MessageLog, KeepsTheLastMessagesLikeAVectorTrimmedFromTheFront) {
  std::mt19937 rng(5);
  MessageLog log;
  std::vector<Message> want;
  for (int step = 0; step < 3000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 7) {
      Message m;
      m.role = static_cast<MessageRole>(rng() % 3);
      m.agent_id = m.role == MessageRole::agent ? "agent-" + std::to_string(rng() % 100) : "";
      m.text = std::string(rng() % 300, static_cast<char>('a' + rng() % 26)) + std::to_string(step);
      m.at = 1'773'309'900'000 + step;
      want.push_back(m);
      log.push_back(m);
    } else if (op < 9) {
      const std::size_t count = rng() % 4;  // may be more than it holds
      want.erase(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(std::min(count, want.size())));
      log.erase_front(count);
    } else {
      want.clear();
      log.clear();
    }
    ASSERT_NO_FATAL_FAILURE(expect_same(log, want)) << "after step " << step;
  }
  MessageLog copy = log;
  expect_same(copy, want);
}

}  // namespace
}  // namespace router::core
