#include <gtest/gtest.h>

#include "router/core/expr.hpp"

namespace router::core {
namespace {

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    escalation.id = Id::of("01ESC");
    escalation.workspace = symbols.intern("ws-1");
    escalation.conversation_id = "conv-42";
    escalation.source = symbols.intern("widget-main");
    escalation.priority = 2;
    escalation.reason = "3x gate failure";
    escalation.language = symbols.intern("vi");
    escalation.skills = {symbols.intern("billing"), symbols.intern("refunds")};
    escalation.queued_at = 1'000'000;
    escalation.contact.id = "cust-7";
    escalation.contact.name = "Nguyen Van A";
    escalation.contact.attributes = {{"tier", std::string("vip")}, {"orders", 12.0}};
    escalation.attributes = {{"channel", std::string("chat")}, {"tags", std::vector<Scalar>{std::string("a"), 3.0}},
                             {"urgent", true}};
    agent.id = "a-1";
    agent.name = "Minh";
    agent.skills = {symbols.intern("billing")};
    agent.languages = {symbols.intern("vi"), symbols.intern("en")};
    agent.capacity = 3;
    agent.load = 1;
    agent.status = AgentStatus::available;
    agent.attributes = {{"team", std::string("north")}, {"senior", true}};
  }

  bool eval(const std::string& text, ExpressionScope scope = ExpressionScope::escalation_and_agent) {
    auto compiled = Expression::compile(text, scope, symbols);
    EXPECT_TRUE(compiled.ok()) << text << ": " << (compiled.ok() ? "" : compiled.error().message);
    if (!compiled.ok()) {
      return false;
    }
    EvalContext context{&escalation, &agent, 1'061'500, &symbols};
    return compiled->evaluate(context);
  }

  ExpressionError compile_error(const std::string& text, ExpressionScope scope = ExpressionScope::escalation_and_agent) {
    ExpressionError error;
    auto compiled = Expression::compile(text, scope, symbols, &error);
    EXPECT_FALSE(compiled.ok()) << text;
    return error;
  }

  SymbolTable symbols;
  Escalation escalation;
  Agent agent;
};

TEST_F(ExpressionTest, TheSpecExamplesMatch) {
  EXPECT_TRUE(eval(R"(escalation.priority >= 2 and "billing" in escalation.skills)"));
  EXPECT_TRUE(eval(R"("billing" in agent.skills and escalation.language in agent.languages)"));
  EXPECT_TRUE(eval("escalation.language in agent.languages"));
  EXPECT_TRUE(eval("true"));
}

TEST_F(ExpressionTest, ComparesNumbersStringsAndBooleans) {
  EXPECT_TRUE(eval("escalation.priority == 2"));
  EXPECT_FALSE(eval("escalation.priority != 2"));
  EXPECT_TRUE(eval("escalation.priority < 3 and escalation.priority > 1.5"));
  EXPECT_TRUE(eval("escalation.priority <= 2 and escalation.priority >= -1"));
  EXPECT_TRUE(eval(R"(escalation.workspaceId == "ws-1")"));
  EXPECT_TRUE(eval(R"(escalation.source == "widget-main" and escalation.conversationId == "conv-42")"));
  EXPECT_TRUE(eval(R"(escalation.contact.id == "cust-7" and escalation.contact.name == "Nguyen Van A")"));
  EXPECT_TRUE(eval(R"(agent.id == "a-1" and agent.name == "Minh" and agent.status == "available")"));
  EXPECT_TRUE(eval("agent.load < agent.capacity"));
  EXPECT_TRUE(eval(R"("a" < "b")"));
  EXPECT_FALSE(eval("false"));
}

// Interned names (workspace, source, language, skills) compare by symbol with each other, and by their
// letters with text that has no symbol (attributes, ids) and in orderings and substring tests.
TEST_F(ExpressionTest, InternedNamesCompareByTheirLettersWhereASymbolIsNotEnough) {
  escalation.attributes.emplace_back("home", std::string("ws-1"));
  escalation.attributes.emplace_back("languages", std::vector<Scalar>{std::string("en"), std::string("vi")});
  EXPECT_TRUE(eval("escalation.workspaceId == escalation.attributes.home"));
  EXPECT_TRUE(eval("escalation.attributes.home == escalation.workspaceId"));
  EXPECT_FALSE(eval("escalation.source == escalation.attributes.home"));
  EXPECT_TRUE(eval("escalation.language in escalation.attributes.languages"));
  EXPECT_TRUE(eval(R"(escalation.workspaceId < "ws-2" and escalation.workspaceId >= "ws-1")"));
  EXPECT_FALSE(eval(R"(escalation.workspaceId > "ws-1")"));
  EXPECT_TRUE(eval(R"(escalation.source contains "main" and "widget" in escalation.source)"));
  EXPECT_FALSE(eval(R"(escalation.source contains "mains")"));
  EXPECT_TRUE(eval(R"(escalation.workspaceId != "ws-10")"));
  EXPECT_TRUE(eval(R"(escalation.attributes.home in agent.languages or escalation.workspaceId in ["ws-0", "ws-1"])"));
}

TEST_F(ExpressionTest, WaitSecondsCountsFromTheQueuedTime) {
  EXPECT_TRUE(eval("escalation.waitSeconds == 61"));
  EXPECT_TRUE(eval("escalation.waitSeconds >= 60"));
}

TEST_F(ExpressionTest, InAndContainsWorkOnListsAndStrings) {
  EXPECT_TRUE(eval(R"(escalation.skills contains "refunds")"));
  EXPECT_FALSE(eval(R"("shipping" in escalation.skills)"));
  EXPECT_FALSE(eval(R"("never-interned-anywhere" in escalation.skills)"));
  EXPECT_TRUE(eval(R"(escalation.language in ["en", "vi"])"));
  EXPECT_TRUE(eval(R"(escalation.priority in [1, 2, 3])"));
  EXPECT_TRUE(eval(R"("gate" in escalation.reason)"));
  EXPECT_TRUE(eval(R"(escalation.reason contains "failure")"));
  EXPECT_FALSE(eval("escalation.priority in []"));
}

TEST_F(ExpressionTest, AttributesAreDynamicAndMissingOnesNeverMatch) {
  EXPECT_TRUE(eval(R"(escalation.contact.attributes.tier == "vip")"));
  EXPECT_TRUE(eval("escalation.contact.attributes.orders > 10"));
  EXPECT_TRUE(eval(R"(escalation.attributes.channel == "chat")"));
  EXPECT_TRUE(eval(R"("a" in escalation.attributes.tags and 3 in escalation.attributes.tags)"));
  EXPECT_TRUE(eval("escalation.attributes.urgent"));
  EXPECT_TRUE(eval(R"(agent.attributes.team == "north" and agent.attributes.senior)"));
  EXPECT_TRUE(eval("escalation.attributes.missing == null"));
  EXPECT_FALSE(eval(R"(escalation.attributes.missing == "x")"));
  EXPECT_FALSE(eval("escalation.attributes.missing > 1"));
  EXPECT_FALSE(eval("not escalation.attributes.missing"));
  EXPECT_FALSE(eval(R"(escalation.attributes.channel > 5)"));
}

TEST_F(ExpressionTest, BooleanOperatorsFollowPrecedenceAndParentheses) {
  EXPECT_TRUE(eval("true or false and false"));     // and binds tighter
  EXPECT_FALSE(eval("(true or false) and false"));
  EXPECT_TRUE(eval("not false and true"));
  EXPECT_TRUE(eval("not (escalation.priority == 1)"));
  EXPECT_TRUE(eval("not not true"));
}

TEST_F(ExpressionTest, StringEscapesAndMultipleLines) {
  EXPECT_FALSE(eval("escalation.reason == \"a\\\"b\\\\\"\nor\n false"));
}

TEST_F(ExpressionTest, ErrorsCarryLineColumnAndWhatWasExpected) {
  auto e = compile_error("escalation.prio >= 2");
  EXPECT_EQ(e.column, 1u);
  EXPECT_NE(e.message.find("unknown field 'escalation.prio'; expected one of escalation.id"), std::string::npos) << e.message;

  e = compile_error("escalation.priority >=");
  EXPECT_EQ(e.column, 23u);
  EXPECT_NE(e.message.find("expected a value after '>='"), std::string::npos) << e.message;

  e = compile_error("(true and false");
  EXPECT_EQ(e.column, 16u);
  EXPECT_NE(e.message.find("expected ')'"), std::string::npos) << e.message;

  e = compile_error("true\nand \"billing\" in agent.skills junk");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 31u);
  EXPECT_NE(e.message.find("found 'junk'"), std::string::npos) << e.message;

  e = compile_error("escalation.priority = 2");
  EXPECT_EQ(e.column, 21u);
  EXPECT_NE(e.message.find("expected '=='"), std::string::npos) << e.message;
}

TEST_F(ExpressionTest, TypeErrorsAreCaughtAtCompileTime) {
  EXPECT_NE(compile_error(R"(escalation.priority == "2")").message.find("compares a number with a string"), std::string::npos);
  EXPECT_NE(compile_error("escalation.skills > 1").message.find("needs two numbers or two strings"), std::string::npos);
  EXPECT_NE(compile_error("escalation.priority in 3").message.find("needs a list (or a string) on its right"), std::string::npos);
  EXPECT_NE(compile_error("escalation.skills in agent.skills").message.find("single value on its left"), std::string::npos);
  EXPECT_NE(compile_error("escalation.priority and true").message.find("needs true/false on both sides"), std::string::npos);
  EXPECT_NE(compile_error("not escalation.reason").message.find("needs true/false"), std::string::npos);
  EXPECT_NE(compile_error("escalation.priority").message.find("must be true or false, but it is a number"), std::string::npos);
  EXPECT_NE(compile_error("1 < 2 < 3").message.find("do not chain"), std::string::npos);
}

TEST_F(ExpressionTest, RoutesCannotSeeTheAgent) {
  auto e = compile_error(R"("billing" in agent.skills)", ExpressionScope::escalation_only);
  EXPECT_EQ(e.column, 14u);
  EXPECT_NE(e.message.find("a route's 'when' sees only escalation.*"), std::string::npos) << e.message;
}

TEST_F(ExpressionTest, LexicalErrorsAreReported) {
  EXPECT_NE(compile_error("'single'").message.find("double quotes"), std::string::npos);
  EXPECT_NE(compile_error("\"open").message.find("unterminated string"), std::string::npos);
  EXPECT_NE(compile_error("escalation.priority == 2x").message.find("expected an operator after the number"), std::string::npos);
  EXPECT_NE(compile_error("escalation.priority # 2").message.find("unexpected character '#'"), std::string::npos);
  EXPECT_NE(compile_error("").message.find("empty expression"), std::string::npos);
  EXPECT_NE(compile_error("customer.id == 1").message.find("paths start with 'escalation.' or 'agent.'"), std::string::npos);
  EXPECT_NE(compile_error("[1, 2").message.find("expected ',' or ']'"), std::string::npos);
}

TEST_F(ExpressionTest, DeepNestingIsRejectedNotAStackOverflow) {
  std::string deep(5000, '(');
  deep += "true" + std::string(5000, ')');
  EXPECT_NE(compile_error(deep).message.find("nested too deeply"), std::string::npos);
  EXPECT_NE(compile_error(std::string(5000, 'n').replace(0, 5000, [] {
              std::string s;
              for (int i = 0; i < 1000; ++i) s += "not ";
              return s + "true";
            }()))
                .message.find("nested too deeply"),
            std::string::npos);
}

TEST_F(ExpressionTest, ConstantTrueIsRecognised) {
  auto t = Expression::compile("true", ExpressionScope::escalation_and_agent, symbols);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_constant_true());
  EXPECT_FALSE(t->uses_agent());
  auto a = Expression::compile("agent.load == 0", ExpressionScope::escalation_and_agent, symbols);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->is_constant_true());
  EXPECT_TRUE(a->uses_agent());
}

}  // namespace
}  // namespace router::core

namespace router::core {
namespace {

TEST_F(ExpressionTest, AgentOnlyEvaluationIsThreeValued) {
  auto truth = [&](const std::string& text) {
    auto compiled = Expression::compile(text, ExpressionScope::escalation_and_agent, symbols);
    EXPECT_TRUE(compiled.ok()) << text;
    return compiled->evaluate_for_agent(agent, 0, symbols);
  };
  EXPECT_EQ(truth(R"("tech" in agent.skills and escalation.language in agent.languages)"), Truth::no);
  EXPECT_EQ(truth(R"("billing" in agent.skills and escalation.language in agent.languages)"), Truth::maybe);
  EXPECT_EQ(truth(R"("billing" in agent.skills or escalation.priority > 2)"), Truth::yes);
  EXPECT_EQ(truth(R"("tech" in agent.skills or escalation.priority > 2)"), Truth::maybe);
  EXPECT_EQ(truth(R"(not ("tech" in agent.skills))"), Truth::yes);
  EXPECT_EQ(truth("not (escalation.priority > 2)"), Truth::maybe);
  EXPECT_EQ(truth(R"(escalation.attributes.x == 1 and agent.attributes.team == "south")"), Truth::no);
  EXPECT_EQ(truth("true"), Truth::yes);
}

// `name in names` (fused at compile time into one step) against the definition, for every kind of
// name and list, both spellings (`in`, `contains`), full and agent-only evaluation, and contexts
// without an escalation or agent.
TEST_F(ExpressionTest, NameInNamesMatchesItsDefinitionEverywhere) {
  escalation.source = no_symbol;  // an escalation without a source: never in any list
  agent.skills = {symbols.intern("billing"), symbols.intern("vi")};
  struct Name {
    std::string text;
    Symbol value;
    bool escalation_side;
  };
  const std::vector<Name> names = {{R"("billing")", symbols.intern("billing"), false},
                                   {R"("vi")", symbols.intern("vi"), false},
                                   {R"("nowhere-at-all")", no_symbol, false},
                                   {"escalation.language", escalation.language, true},
                                   {"escalation.workspaceId", escalation.workspace, true},
                                   {"escalation.source", no_symbol, true}};
  struct List {
    std::string text;
    std::span<const Symbol> value;
    bool escalation_side;
  };
  const std::vector<List> lists = {{"escalation.skills", escalation.skills, true},
                                   {"agent.skills", agent.skills, false},
                                   {"agent.languages", agent.languages, false}};
  int matches = 0;
  for (const Name& name : names) {
    for (const List& list : lists) {
      bool want = false;
      for (Symbol s : list.value) want = want || (name.value != no_symbol && s == name.value);
      for (const std::string& text : {name.text + " in " + list.text, list.text + " contains " + name.text}) {
        auto compiled = Expression::compile(text, ExpressionScope::escalation_and_agent, symbols);
        ASSERT_TRUE(compiled.ok()) << text;
        EXPECT_EQ(compiled->evaluate(EvalContext{&escalation, &agent, 0, &symbols}), want) << text;
        EXPECT_FALSE(compiled->evaluate(EvalContext{nullptr, &agent, 0, &symbols}) &&
                     (name.escalation_side || list.escalation_side))
            << text << " without an escalation";
        EXPECT_FALSE(compiled->evaluate(EvalContext{&escalation, nullptr, 0, &symbols}) && !list.escalation_side)
            << text << " without an agent";
        const Truth partial = compiled->evaluate_for_agent(agent, 0, symbols);
        const Truth expected = name.escalation_side || list.escalation_side ? Truth::maybe : want ? Truth::yes : Truth::no;
        EXPECT_EQ(partial, expected) << text << " for the agent alone";
        matches += want ? 1 : 0;
      }
    }
  }
  // Not vacuous: "billing" in escalation.skills and agent.skills; "vi" and escalation.language (vi)
  // in agent.skills and agent.languages: six pairs, each in both spellings.
  EXPECT_EQ(matches, 2 * 6);
}

TEST_F(ExpressionTest, AndOfNameTestsIsTheConjunctionOfEachWhateverTheirNumber) {
  // One to five `in` tests joined by `and` (up to four run as one fused row, five through the
  // general evaluator), over every combination of the agent's skills and languages.
  const std::vector<std::pair<const char*, int>> tests = {
      {R"("billing" in agent.skills)", 0},
      {"escalation.language in agent.languages", 1},
      {R"("refunds" in escalation.skills)", 2},  // true for this escalation
      {R"(escalation.skills contains "billing")", 2},
      {R"("en" in agent.languages)", 3},
  };
  int checked = 0;
  for (int mask = 0; mask < 16; ++mask) {
    agent.skills.clear();
    agent.languages.clear();
    if (mask & 1) agent.skills.push_back(symbols.intern("billing"));
    if (mask & 2) agent.languages.push_back(symbols.intern("vi"));
    if (mask & 4) agent.skills.push_back(symbols.intern("tech"));
    if (mask & 8) agent.languages.push_back(symbols.intern("en"));
    const bool truths[] = {(mask & 1) != 0, (mask & 2) != 0, true, (mask & 8) != 0};
    for (std::size_t n = 1; n <= tests.size(); ++n) {
      std::string text;
      bool want = true;
      for (std::size_t i = 0; i < n; ++i) {
        text += (i == 0 ? "" : " and ") + std::string(tests[i].first);
        want = want && truths[tests[i].second];
      }
      EXPECT_EQ(eval(text), want) << text << " (agent mask " << mask << ")";
      EXPECT_EQ(eval("(" + text + ") and escalation.priority >= 2"), want) << text;  // a general leaf
      EXPECT_FALSE(eval("(" + text + ") and escalation.priority > 2")) << text;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 16 * 5);
}

}  // namespace
}  // namespace router::core
