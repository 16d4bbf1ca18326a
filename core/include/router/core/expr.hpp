// The rule expression language (SPEC §4.3): literals, paths under `escalation.` and `agent.`,
// == != < <= > >= in contains, and/or/not, parentheses. Compiled once, type-checked at compile
// time, evaluated over a flat node array without allocating.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "router/core/model.hpp"
#include "router/core/result.hpp"
#include "router/core/symbols.hpp"

namespace router::core {

// A compile error with its position inside the expression text (1-based).
struct ExpressionError {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
  std::string message;
};

// What an expression may refer to: routes see only the escalation; queue rules see both.
enum class ExpressionScope : std::uint8_t { escalation_only, escalation_and_agent };

enum class Truth : std::uint8_t { no, yes, maybe };

struct EvalContext {
  const Escalation* escalation = nullptr;
  const Agent* agent = nullptr;
  TimestampMs now = 0;
  const SymbolTable* symbols = nullptr;
};

class Expression {
 public:
  Expression() = default;

  // Compiles `text`; string literals are interned into `symbols` so comparisons with interned
  // fields are integer compares.
  static Result<Expression> compile(std::string_view text, ExpressionScope scope, SymbolTable& symbols,
                                    ExpressionError* error_out = nullptr);

  bool evaluate(const EvalContext& context) const;
  // Three-valued (Kleene) evaluation with the escalation unknown: `no` means false for this agent
  // whatever the escalation, so a queue can be skipped without looking at its escalations.
  Truth evaluate_for_agent(const Agent& agent, TimestampMs now, const SymbolTable& symbols) const;
  const std::string& text() const { return text_; }
  bool is_constant_true() const { return constant_true_; }
  bool uses_agent() const { return uses_agent_; }

  // The compiled form, for the parser and evaluator (expr.cpp).
  // name_in_names: `in` (or `contains`, sides swapped) of an interned name — a string literal or
  // escalation.workspaceId/source/language — in a list of names (skills, languages); a is the name's
  // node, b the list's. Fused at compile time: one step instead of three node visits.
  enum class Op : std::uint8_t { literal, field, attribute, list, and_, or_, not_, eq, ne, lt, le, gt, ge, in, contains, name_in_names };
  enum class Field : std::uint8_t {
    esc_id, esc_workspace, esc_conversation, esc_source, esc_priority, esc_reason, esc_language, esc_skills,
    esc_wait_seconds, esc_contact_id, esc_contact_name,
    agent_id, agent_name, agent_skills, agent_languages, agent_capacity, agent_load, agent_status,
  };
  enum class AttributeRoot : std::uint8_t { escalation, contact, agent };
  enum class LiteralKind : std::uint8_t { null, boolean, number, string };
  struct Node {
    Op op = Op::literal;
    std::uint32_t a = 0;  // child, literal index, field, or attribute-name index
    std::uint32_t b = 0;  // second child; for lists: element count (children are a..a+b in `lists_`)
  };
  // What an expression reads of one side (escalation or agent): two escalations (agents) that agree
  // on these give the same result against any one agent (escalation) — unless it reads
  // escalation.waitSeconds, which changes with time.
  struct Reads {
    std::uint32_t fields = 0;  // bit (1u << Field) per field read
    std::vector<std::pair<AttributeRoot, std::string>> attributes;  // attribute reads of that side
    bool reads(Field f) const { return (fields & (1u << static_cast<unsigned>(f))) != 0; }
  };
  void add_reads(Reads& escalation, Reads& agent) const;

  struct Literal {
    LiteralKind kind = LiteralKind::null;
    bool boolean = false;
    double number = 0;
    std::string text;
    Symbol symbol = no_symbol;
  };

 private:
  friend class ExpressionCompiler;
  friend class ExpressionEvaluator;
  void fuse();  // rewrites `name in names` nodes as Op::name_in_names
  void find_conjuncts();  // sets conjuncts_ when the whole rule is an `and` of at most four tests
  std::string text_;
  std::vector<Node> nodes_;  // root is the last node
  std::vector<Literal> literals_;
  std::vector<std::uint32_t> lists_;  // literal indexes of list literals
  std::vector<std::string> attribute_names_;
  std::vector<AttributeRoot> attribute_roots_;
  bool constant_true_ = false;
  bool uses_agent_ = false;
  // Most rules ("billing" in agent.skills and escalation.language in agent.languages) are one to
  // four tests joined by `and`: evaluate() runs them in a row, without visiting the `and` nodes,
  // a fused test directly. conjunct_count_ == 0: the general evaluator from the root.
  static constexpr std::size_t max_conjuncts = 4;
  std::array<std::uint32_t, max_conjuncts> conjuncts_{};
  std::uint8_t conjunct_count_ = 0;
};

}  // namespace router::core
