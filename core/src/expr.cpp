#include "router/core/expr.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

namespace router::core {
namespace {

using Op = Expression::Op;
using Field = Expression::Field;

enum class Type : std::uint8_t { boolean, number, string, list, null, any };

const char* type_name(Type type) {
  switch (type) {
    case Type::boolean: return "true/false";
    case Type::number: return "a number";
    case Type::string: return "a string";
    case Type::list: return "a list";
    case Type::null: return "null";
    case Type::any: return "any value";
  }
  return "?";
}

struct FieldInfo {
  std::string_view path;
  Field field;
  Type type;
  bool agent;
};

constexpr std::array<FieldInfo, 18> fields = {{
    {"escalation.id", Field::esc_id, Type::string, false},
    {"escalation.workspaceId", Field::esc_workspace, Type::string, false},
    {"escalation.conversationId", Field::esc_conversation, Type::string, false},
    {"escalation.source", Field::esc_source, Type::string, false},
    {"escalation.priority", Field::esc_priority, Type::number, false},
    {"escalation.reason", Field::esc_reason, Type::string, false},
    {"escalation.language", Field::esc_language, Type::string, false},
    {"escalation.skills", Field::esc_skills, Type::list, false},
    {"escalation.waitSeconds", Field::esc_wait_seconds, Type::number, false},
    {"escalation.contact.id", Field::esc_contact_id, Type::string, false},
    {"escalation.contact.name", Field::esc_contact_name, Type::string, false},
    {"agent.id", Field::agent_id, Type::string, true},
    {"agent.name", Field::agent_name, Type::string, true},
    {"agent.skills", Field::agent_skills, Type::list, true},
    {"agent.languages", Field::agent_languages, Type::list, true},
    {"agent.capacity", Field::agent_capacity, Type::number, true},
    {"agent.load", Field::agent_load, Type::number, true},
    {"agent.status", Field::agent_status, Type::string, true},
}};

enum class Tok : std::uint8_t {
  end, string, number, path, lparen, rparen, lbracket, rbracket, comma,
  eq, ne, lt, le, gt, ge, and_, or_, not_, in, contains, true_, false_, null,
};

struct Token {
  Tok kind = Tok::end;
  std::string text;  // string value, path, or the token as written
  double number = 0;
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

std::string describe(const Token& token) {
  switch (token.kind) {
    case Tok::end: return "the end of the expression";
    case Tok::string: return "the string \"" + token.text + "\"";
    case Tok::number: return "the number " + token.text;
    case Tok::path: return "'" + token.text + "'";
    default: return "'" + token.text + "'";
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  bool next(Token& out, ExpressionError& error) {
    skip_space();
    out = Token{};
    out.line = line_;
    out.column = column_;
    if (pos_ >= text_.size()) {
      return true;
    }
    const char c = text_[pos_];
    auto single = [&](Tok kind, std::size_t length) {
      out.kind = kind;
      out.text = std::string(text_.substr(pos_, length));
      advance(length);
      return true;
    };
    switch (c) {
      case '(': return single(Tok::lparen, 1);
      case ')': return single(Tok::rparen, 1);
      case '[': return single(Tok::lbracket, 1);
      case ']': return single(Tok::rbracket, 1);
      case ',': return single(Tok::comma, 1);
      case '=':
        if (peek(1) == '=') return single(Tok::eq, 2);
        return fail(error, "expected '==' (a single '=' is not an operator)");
      case '!':
        if (peek(1) == '=') return single(Tok::ne, 2);
        return fail(error, "expected '!=' (use 'not' for negation)");
      case '<': return peek(1) == '=' ? single(Tok::le, 2) : single(Tok::lt, 1);
      case '>': return peek(1) == '=' ? single(Tok::ge, 2) : single(Tok::gt, 1);
      case '"': return string_literal(out, error);
      case '\'': return fail(error, "strings are written in double quotes");
      default: break;
    }
    if ((c >= '0' && c <= '9') || (c == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9')) {
      return number_literal(out, error);
    }
    if (is_word_start(c)) {
      std::size_t end = pos_;
      while (end < text_.size() && (is_word_char(text_[end]) || text_[end] == '.')) {
        ++end;
      }
      out.text = std::string(text_.substr(pos_, end - pos_));
      advance(end - pos_);
      static constexpr std::pair<std::string_view, Tok> keywords[] = {
          {"and", Tok::and_}, {"or", Tok::or_}, {"not", Tok::not_}, {"in", Tok::in}, {"contains", Tok::contains},
          {"true", Tok::true_}, {"false", Tok::false_}, {"null", Tok::null}};
      out.kind = Tok::path;
      for (const auto& [word, kind] : keywords) {
        if (out.text == word) {
          out.kind = kind;
        }
      }
      if (out.kind == Tok::path && (out.text.back() == '.' || out.text.find("..") != std::string::npos)) {
        error = {out.line, out.column, "malformed path '" + out.text + "'"};
        return false;
      }
      return true;
    }
    return fail(error, std::string("unexpected character '") + c + "'");
  }

 private:
  static bool is_word_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
  static bool is_word_char(char c) { return is_word_start(c) || (c >= '0' && c <= '9') || c == '-'; }
  char peek(std::size_t offset) const { return pos_ + offset < text_.size() ? text_[pos_ + offset] : '\0'; }

  void advance(std::size_t count) {
    for (std::size_t i = 0; i < count && pos_ < text_.size(); ++i) {
      if (text_[pos_] == '\n') {
        ++line_;
        column_ = 1;
      } else if ((static_cast<unsigned char>(text_[pos_]) & 0xC0u) != 0x80u) {
        ++column_;  // count characters, not UTF-8 continuation bytes
      }
      ++pos_;
    }
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      advance(1);
    }
  }

  bool fail(ExpressionError& error, std::string message) {
    error = {line_, column_, std::move(message)};
    return false;
  }

  bool string_literal(Token& out, ExpressionError& error) {
    out.kind = Tok::string;
    advance(1);
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_];
      if (c == '\\') {
        const char e = peek(1);
        switch (e) {
          case '"': out.text += '"'; break;
          case '\\': out.text += '\\'; break;
          case 'n': out.text += '\n'; break;
          case 't': out.text += '\t'; break;
          default: return fail(error, "unknown escape in string; use \\\" \\\\ \\n or \\t");
        }
        advance(2);
        continue;
      }
      if (c == '\n') {
        return fail(error, "unterminated string: expected '\"'");
      }
      out.text += c;
      advance(1);
    }
    if (pos_ >= text_.size()) {
      return fail(error, "unterminated string: expected '\"'");
    }
    advance(1);
    return true;
  }

  bool number_literal(Token& out, ExpressionError& error) {
    std::size_t end = pos_ + (text_[pos_] == '-' ? 1 : 0);
    bool dot = false;
    while (end < text_.size() && ((text_[end] >= '0' && text_[end] <= '9') || (text_[end] == '.' && !dot))) {
      dot = dot || text_[end] == '.';
      ++end;
    }
    out.kind = Tok::number;
    out.text = std::string(text_.substr(pos_, end - pos_));
    if (out.text.back() == '.') {
      return fail(error, "malformed number '" + out.text + "'");
    }
    out.number = std::strtod(out.text.c_str(), nullptr);
    advance(end - pos_);
    if (pos_ < text_.size() && is_word_char(text_[pos_])) {
      return fail(error, "expected an operator after the number " + out.text);
    }
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::uint32_t line_ = 1;
  std::uint32_t column_ = 1;
};

struct Parsed {
  std::uint32_t node = 0;
  Type type = Type::any;
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

constexpr int max_depth = 64;

}  // namespace

class ExpressionCompiler {
 public:
  ExpressionCompiler(std::string_view text, ExpressionScope scope, SymbolTable& symbols, Expression& out)
      : lexer_(text), scope_(scope), symbols_(symbols), out_(out) {}

  bool run(ExpressionError& error) {
    if (!advance(error)) {
      return false;
    }
    if (token_.kind == Tok::end) {
      error = {token_.line, token_.column, "empty expression: expected a condition such as \"true\""};
      return false;
    }
    Parsed root;
    if (!parse_or(root, error, 0)) {
      return false;
    }
    if (token_.kind != Tok::end) {
      error = {token_.line, token_.column,
               "expected 'and', 'or', an operator or the end of the expression, found " + describe(token_)};
      return false;
    }
    if (root.type != Type::boolean && root.type != Type::any) {
      error = {root.line, root.column, std::string("the expression must be true or false, but it is ") + type_name(root.type)};
      return false;
    }
    return true;
  }

 private:
  bool advance(ExpressionError& error) { return lexer_.next(token_, error); }

  std::uint32_t add(Op op, std::uint32_t a = 0, std::uint32_t b = 0) {
    out_.nodes_.push_back({op, a, b});
    return static_cast<std::uint32_t>(out_.nodes_.size() - 1);
  }

  bool expect_boolean(const Parsed& p, std::string_view op, ExpressionError& error) {
    if (p.type != Type::boolean && p.type != Type::any) {
      error = {p.line, p.column, "'" + std::string(op) + "' needs true/false on both sides, found " + type_name(p.type)};
      return false;
    }
    return true;
  }

  bool parse_or(Parsed& out, ExpressionError& error, int depth) {
    if (!parse_and(out, error, depth)) {
      return false;
    }
    while (token_.kind == Tok::or_) {
      if (!advance(error)) return false;
      Parsed right;
      if (!parse_and(right, error, depth)) return false;
      if (!expect_boolean(out, "or", error) || !expect_boolean(right, "or", error)) return false;
      out.node = add(Op::or_, out.node, right.node);
      out.type = Type::boolean;
    }
    return true;
  }

  bool parse_and(Parsed& out, ExpressionError& error, int depth) {
    if (!parse_not(out, error, depth)) {
      return false;
    }
    while (token_.kind == Tok::and_) {
      if (!advance(error)) return false;
      Parsed right;
      if (!parse_not(right, error, depth)) return false;
      if (!expect_boolean(out, "and", error) || !expect_boolean(right, "and", error)) return false;
      out.node = add(Op::and_, out.node, right.node);
      out.type = Type::boolean;
    }
    return true;
  }

  bool parse_not(Parsed& out, ExpressionError& error, int depth) {
    if (token_.kind == Tok::not_) {
      const Token at = token_;
      if (!advance(error)) return false;
      if (depth > max_depth) {
        error = {at.line, at.column, "expression nested too deeply"};
        return false;
      }
      Parsed operand;
      if (!parse_not(operand, error, depth + 1)) return false;
      if (!expect_boolean(operand, "not", error)) return false;
      out = {add(Op::not_, operand.node), Type::boolean, at.line, at.column};
      return true;
    }
    return parse_comparison(out, error, depth);
  }

  bool parse_comparison(Parsed& out, ExpressionError& error, int depth) {
    if (!parse_primary(out, error, depth)) {
      return false;
    }
    Op op;
    switch (token_.kind) {
      case Tok::eq: op = Op::eq; break;
      case Tok::ne: op = Op::ne; break;
      case Tok::lt: op = Op::lt; break;
      case Tok::le: op = Op::le; break;
      case Tok::gt: op = Op::gt; break;
      case Tok::ge: op = Op::ge; break;
      case Tok::in: op = Op::in; break;
      case Tok::contains: op = Op::contains; break;
      case Tok::not_: {
        error = {token_.line, token_.column, "expected an operator; for 'not in' write 'not (x in y)'"};
        return false;
      }
      default: return true;
    }
    const Token op_token = token_;
    if (!advance(error)) return false;
    if (token_.kind == Tok::end) {
      error = {token_.line, token_.column, "expected a value after '" + op_token.text + "'"};
      return false;
    }
    Parsed right;
    if (!parse_primary(right, error, depth)) return false;
    if (!check_operands(op, op_token, out, right, error)) return false;
    out.node = add(op, out.node, right.node);
    out.type = Type::boolean;
    switch (token_.kind) {
      case Tok::eq: case Tok::ne: case Tok::lt: case Tok::le: case Tok::gt: case Tok::ge: case Tok::in: case Tok::contains:
        error = {token_.line, token_.column, "comparisons do not chain: use 'and' between them, or parentheses"};
        return false;
      default: return true;
    }
  }

  bool check_operands(Op op, const Token& op_token, const Parsed& left, const Parsed& right, ExpressionError& error) {
    auto mismatch = [&](std::string why) {
      error = {op_token.line, op_token.column, "'" + op_token.text + "' " + why};
      return false;
    };
    const Type l = left.type;
    const Type r = right.type;
    switch (op) {
      case Op::eq:
      case Op::ne:
        if (l != Type::any && r != Type::any && l != Type::null && r != Type::null && l != r) {
          return mismatch(std::string("compares ") + type_name(l) + " with " + type_name(r) + ": they are never equal");
        }
        return true;
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge:
        if ((l != Type::any && l != Type::number && l != Type::string) ||
            (r != Type::any && r != Type::number && r != Type::string) ||
            (l != Type::any && r != Type::any && l != r)) {
          return mismatch(std::string("needs two numbers or two strings, found ") + type_name(l) + " and " + type_name(r));
        }
        return true;
      case Op::in:
        if (r != Type::any && r != Type::list && r != Type::string) {
          return mismatch(std::string("needs a list (or a string) on its right, found ") + type_name(r));
        }
        if (l == Type::list) {
          return mismatch("needs a single value on its left, found a list");
        }
        return true;
      case Op::contains:
        if (l != Type::any && l != Type::list && l != Type::string) {
          return mismatch(std::string("needs a list (or a string) on its left, found ") + type_name(l));
        }
        if (r == Type::list) {
          return mismatch("needs a single value on its right, found a list");
        }
        return true;
      default: return true;
    }
  }

  std::uint32_t add_literal(Expression::Literal literal) {
    out_.literals_.push_back(std::move(literal));
    return static_cast<std::uint32_t>(out_.literals_.size() - 1);
  }

  bool parse_literal(Expression::Literal& literal, Type& type, ExpressionError& error) {
    switch (token_.kind) {
      case Tok::string:
        literal.kind = Expression::LiteralKind::string;
        literal.text = token_.text;
        literal.symbol = symbols_.intern(token_.text);
        type = Type::string;
        break;
      case Tok::number:
        literal.kind = Expression::LiteralKind::number;
        literal.number = token_.number;
        type = Type::number;
        break;
      case Tok::true_:
      case Tok::false_:
        literal.kind = Expression::LiteralKind::boolean;
        literal.boolean = token_.kind == Tok::true_;
        type = Type::boolean;
        break;
      case Tok::null:
        type = Type::null;
        break;
      default:
        error = {token_.line, token_.column, "expected a string, number, true, false or null in a list, found " + describe(token_)};
        return false;
    }
    return advance(error);
  }

  bool parse_primary(Parsed& out, ExpressionError& error, int depth) {
    out.line = token_.line;
    out.column = token_.column;
    switch (token_.kind) {
      case Tok::lparen: {
        if (depth > max_depth) {
          error = {token_.line, token_.column, "expression nested too deeply"};
          return false;
        }
        if (!advance(error)) return false;
        Parsed inner;
        if (!parse_or(inner, error, depth + 1)) return false;
        if (token_.kind != Tok::rparen) {
          error = {token_.line, token_.column, "expected ')', found " + describe(token_)};
          return false;
        }
        if (!advance(error)) return false;
        out.node = inner.node;
        out.type = inner.type;
        return true;
      }
      case Tok::lbracket: {
        if (!advance(error)) return false;
        std::vector<std::uint32_t> items;
        while (token_.kind != Tok::rbracket) {
          Expression::Literal literal;
          Type type = Type::any;
          if (!parse_literal(literal, type, error)) return false;
          items.push_back(add_literal(std::move(literal)));
          if (token_.kind == Tok::comma) {
            if (!advance(error)) return false;
          } else if (token_.kind != Tok::rbracket) {
            error = {token_.line, token_.column, "expected ',' or ']' in the list, found " + describe(token_)};
            return false;
          }
        }
        if (!advance(error)) return false;
        const auto start = static_cast<std::uint32_t>(out_.lists_.size());
        out_.lists_.insert(out_.lists_.end(), items.begin(), items.end());
        out.node = add(Op::list, start, static_cast<std::uint32_t>(items.size()));
        out.type = Type::list;
        return true;
      }
      case Tok::string:
      case Tok::number:
      case Tok::true_:
      case Tok::false_:
      case Tok::null: {
        Expression::Literal literal;
        Type type = Type::any;
        if (!parse_literal(literal, type, error)) return false;
        out.node = add(Op::literal, add_literal(std::move(literal)));
        out.type = type;
        return true;
      }
      case Tok::path: return parse_path(out, error);
      case Tok::end:
        error = {token_.line, token_.column, "expected a value or '(' but the expression ends here"};
        return false;
      default:
        error = {token_.line, token_.column, "expected a value or '(', found " + describe(token_)};
        return false;
    }
  }

  bool parse_path(Parsed& out, ExpressionError& error) {
    const std::string path = token_.text;
    const bool agent_path = path.rfind("agent.", 0) == 0;
    if (path.rfind("escalation.", 0) != 0 && !agent_path) {
      error = {token_.line, token_.column, "unknown name '" + path + "': paths start with 'escalation.' or 'agent.'"};
      return false;
    }
    if (agent_path && scope_ == ExpressionScope::escalation_only) {
      error = {token_.line, token_.column, "'" + path + "' is not available here: a route's 'when' sees only escalation.*"};
      return false;
    }
    out_.uses_agent_ = out_.uses_agent_ || agent_path;
    for (const auto& [prefix, root] : {std::pair<std::string_view, Expression::AttributeRoot>{"escalation.attributes.", Expression::AttributeRoot::escalation},
                                       {"escalation.contact.attributes.", Expression::AttributeRoot::contact},
                                       {"agent.attributes.", Expression::AttributeRoot::agent}}) {
      if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
        const std::string name = path.substr(prefix.size());
        if (name.find('.') != std::string::npos) {
          error = {token_.line, token_.column, "attribute names cannot contain '.': '" + path + "'"};
          return false;
        }
        out_.attribute_names_.push_back(name);
        out_.attribute_roots_.push_back(root);
        out.node = add(Op::attribute, static_cast<std::uint32_t>(out_.attribute_names_.size() - 1));
        out.type = Type::any;
        return advance(error);
      }
    }
    for (const FieldInfo& info : fields) {
      if (info.path == path) {
        out.node = add(Op::field, static_cast<std::uint32_t>(info.field));
        out.type = info.type;
        return advance(error);
      }
    }
    std::string known;
    for (const FieldInfo& info : fields) {
      if (info.agent == agent_path) {
        known += (known.empty() ? "" : ", ") + std::string(info.path);
      }
    }
    known += agent_path ? ", agent.attributes.NAME" : ", escalation.attributes.NAME, escalation.contact.attributes.NAME";
    error = {token_.line, token_.column, "unknown field '" + path + "'; expected one of " + known};
    return false;
  }

  Lexer lexer_;
  Token token_;
  ExpressionScope scope_;
  SymbolTable& symbols_;
  Expression& out_;
};

namespace {

// A value during evaluation: views into the escalation, the agent or the expression. No ownership.
// 24 bytes: evaluation returns values by value at every node. A string that is an interned name
// carries its symbol and is spelled (text_of) only when something compares its letters.
struct Value {
  enum class Kind : std::uint8_t { null, boolean, number, string, symbol_list, scalar_list, literal_list, unknown };
  Kind kind = Kind::null;
  bool boolean = false;
  Symbol symbol = no_symbol;  // string: its symbol when it is an interned name (then text may be unset)
  std::uint32_t size = 0;     // string: length of text; lists: element count
  union {
    double number = 0;
    const char* text;  // string: nullptr while only the symbol is known
    const Symbol* symbols;
    const Scalar* scalars;
    const std::uint32_t* literals;
  };
};
static_assert(sizeof(Value) <= 24);

Value string_value(std::string_view text, Symbol symbol = no_symbol) {
  Value v;
  v.kind = Value::Kind::string;
  v.text = text.data();
  v.size = static_cast<std::uint32_t>(text.size());
  v.symbol = symbol;
  return v;
}

Value number_value(double number) {
  Value v;
  v.kind = Value::Kind::number;
  v.number = number;
  return v;
}

Value boolean_value(bool b) {
  Value v;
  v.kind = Value::Kind::boolean;
  v.boolean = b;
  return v;
}

Value symbol_list(std::span<const Symbol> list) {
  Value v;
  v.kind = Value::Kind::symbol_list;
  v.symbols = list.data();
  v.size = static_cast<std::uint32_t>(list.size());
  return v;
}

Value scalar_value(const Scalar& scalar) {
  switch (scalar.index()) {
    case 1: return boolean_value(std::get<bool>(scalar));
    case 2: return number_value(std::get<double>(scalar));
    case 3: return string_value(std::get<std::string>(scalar));
    default: return Value{};
  }
}

const AttributeValue* find_attribute(const Attributes& attributes, std::string_view name) {
  for (const auto& [key, value] : attributes) {
    if (key == name) {
      return &value;
    }
  }
  return nullptr;
}

}  // namespace

class ExpressionEvaluator {
 public:
  ExpressionEvaluator(const Expression& e, const EvalContext& c, bool partial = false) : e_(e), c_(c), partial_(partial) {}

  bool truthy(std::uint32_t index) const {
    const Value v = eval(index);
    return v.kind == Value::Kind::boolean && v.boolean;
  }

  // An Op::name_in_names node's result (full evaluation: never unknown).
  bool fused_test(std::uint32_t index) const { return name_in_names(e_.nodes_[index]).boolean; }

  Truth truth(std::uint32_t index) const {
    const Value v = eval(index);
    if (v.kind == Value::Kind::unknown) return Truth::maybe;
    return v.kind == Value::Kind::boolean && v.boolean ? Truth::yes : Truth::no;
  }

  Value eval(std::uint32_t index) const {
    const Expression::Node& node = e_.nodes_[index];
    Value out = boolean_value(false);
    switch (node.op) {
      case Op::literal: return literal(node.a);
      case Op::field: return field(static_cast<Field>(node.a));
      case Op::attribute: return attribute(node.a);
      case Op::list: {
        Value v;
        v.kind = Value::Kind::literal_list;
        v.literals = e_.lists_.data() + node.a;
        v.size = node.b;
        return v;
      }
      case Op::and_: {
        const Truth l = truth(node.a);
        if (l == Truth::no) return out;
        const Truth r = truth(node.b);
        if (r == Truth::no) return out;
        if (l == Truth::maybe || r == Truth::maybe) return unknown();
        out.boolean = true;
        return out;
      }
      case Op::or_: {
        const Truth l = truth(node.a);
        if (l == Truth::yes) return out.boolean = true, out;
        const Truth r = truth(node.b);
        if (r == Truth::yes) return out.boolean = true, out;
        if (l == Truth::maybe || r == Truth::maybe) return unknown();
        return out;
      }
      case Op::name_in_names: return name_in_names(node);
      case Op::not_: {
        const Value v = eval(node.a);
        if (v.kind == Value::Kind::unknown) return v;
        // not of a non-boolean (a missing attribute) is false, never an accidental match.
        out.boolean = v.kind == Value::Kind::boolean && !v.boolean;
        return out;
      }
      default: break;
    }
    const Value l = eval(node.a);
    const Value r = eval(node.b);
    if (l.kind == Value::Kind::unknown || r.kind == Value::Kind::unknown) return unknown();
    switch (node.op) {
      case Op::eq: out.boolean = equal(l, r); return out;
      case Op::ne: out.boolean = !equal(l, r); return out;
      case Op::lt: case Op::le: case Op::gt: case Op::ge: out.boolean = order(node.op, l, r); return out;
      case Op::in: out.boolean = member(l, r); return out;
      case Op::contains: out.boolean = member(r, l); return out;
      default: break;
    }
    return Value{};
  }

 private:
  Value literal(std::uint32_t index) const {
    const Expression::Literal& lit = e_.literals_[index];
    Value v;
    switch (lit.kind) {
      case Expression::LiteralKind::null: break;
      case Expression::LiteralKind::boolean: v = boolean_value(lit.boolean); break;
      case Expression::LiteralKind::number: v = number_value(lit.number); break;
      case Expression::LiteralKind::string: v = string_value(lit.text, lit.symbol); break;
    }
    return v;
  }

  // Op::name_in_names: the same result as `in` over the two child nodes, without visiting them.
  Value name_in_names(const Expression::Node& node) const {
    const Expression::Node& name = e_.nodes_[node.a];
    const auto list_field = static_cast<Field>(e_.nodes_[node.b].a);
    Symbol symbol = no_symbol;
    bool unknown_side = partial_ && list_field < Field::agent_id;
    if (name.op == Op::literal) {
      symbol = e_.literals_[name.a].symbol;
    } else {
      const auto f = static_cast<Field>(name.a);
      if (partial_ && f < Field::agent_id) {
        unknown_side = true;
      } else if (const Escalation* esc = c_.escalation) {
        symbol = f == Field::esc_workspace ? esc->workspace : f == Field::esc_source ? esc->source : esc->language;
      }
    }
    if (unknown_side) return unknown();
    std::optional<std::span<const Symbol>> list;  // none when its side is not given
    switch (list_field) {
      case Field::esc_skills: if (c_.escalation != nullptr) list = std::span<const Symbol>(c_.escalation->skills); break;
      case Field::agent_skills: if (c_.agent != nullptr) list = std::span<const Symbol>(c_.agent->skills); break;
      case Field::agent_languages: if (c_.agent != nullptr) list = std::span<const Symbol>(c_.agent->languages); break;
      default: break;
    }
    Value out = boolean_value(false);
    if (symbol != no_symbol && list) out.boolean = std::find(list->begin(), list->end(), symbol) != list->end();
    return out;
  }

  static Value unknown() {
    Value v;
    v.kind = Value::Kind::unknown;
    return v;
  }

  static Value symbol_value(Symbol symbol) {
    if (symbol == no_symbol) {
      return Value{};
    }
    Value v;
    v.kind = Value::Kind::string;
    v.symbol = symbol;
    v.text = nullptr;  // spelled by text_of when needed
    return v;
  }

  std::string_view text_of(const Value& v) const {
    if (v.text == nullptr) return v.symbol == no_symbol ? std::string_view{} : c_.symbols->name(v.symbol);
    return {v.text, v.size};
  }

  bool equal(const Value& a, const Value& b) const {
    if (a.kind != b.kind) {
      return false;
    }
    switch (a.kind) {
      case Value::Kind::null: return true;
      case Value::Kind::boolean: return a.boolean == b.boolean;
      case Value::Kind::number: return a.number == b.number;
      case Value::Kind::string:
        if (a.symbol != no_symbol && b.symbol != no_symbol) {
          return a.symbol == b.symbol;  // interned: equal names have one symbol
        }
        return text_of(a) == text_of(b);
      default: return false;  // lists compare by membership, not equality
    }
  }

  Value field(Field f) const {
    if (partial_ && f < Field::agent_id) return unknown();
    const Escalation* esc = c_.escalation;
    const Agent* agent = c_.agent;
    switch (f) {
      case Field::esc_id: return esc ? string_value(esc->id) : Value{};
      case Field::esc_workspace: return esc ? symbol_value(esc->workspace) : Value{};
      case Field::esc_conversation: return esc ? string_value(esc->conversation_id) : Value{};
      case Field::esc_source: return esc ? symbol_value(esc->source) : Value{};
      case Field::esc_priority: return esc ? number_value(esc->priority) : Value{};
      case Field::esc_reason: return esc ? string_value(esc->reason) : Value{};
      case Field::esc_language: return esc ? symbol_value(esc->language) : Value{};
      case Field::esc_skills: return esc ? symbol_list(esc->skills) : Value{};
      case Field::esc_wait_seconds:
        return esc ? number_value(static_cast<double>(std::max<TimestampMs>(0, c_.now - esc->queued_at) / 1000)) : Value{};
      case Field::esc_contact_id: return esc ? string_value(esc->contact.id) : Value{};
      case Field::esc_contact_name: return esc ? string_value(esc->contact.name) : Value{};
      case Field::agent_id: return agent ? string_value(agent->id) : Value{};
      case Field::agent_name: return agent ? string_value(agent->name) : Value{};
      case Field::agent_skills: return agent ? symbol_list(agent->skills) : Value{};
      case Field::agent_languages: return agent ? symbol_list(agent->languages) : Value{};
      case Field::agent_capacity: return agent ? number_value(agent->capacity) : Value{};
      case Field::agent_load: return agent ? number_value(agent->load) : Value{};
      case Field::agent_status: return agent ? string_value(agent_status_name(agent->status)) : Value{};
    }
    return Value{};
  }

  Value attribute(std::uint32_t index) const {
    if (partial_ && e_.attribute_roots_[index] != Expression::AttributeRoot::agent) return unknown();
    const Attributes* attributes = nullptr;
    switch (e_.attribute_roots_[index]) {
      case Expression::AttributeRoot::escalation: attributes = c_.escalation ? &c_.escalation->attributes : nullptr; break;
      case Expression::AttributeRoot::contact: attributes = c_.escalation ? &c_.escalation->contact.attributes : nullptr; break;
      case Expression::AttributeRoot::agent: attributes = c_.agent ? &c_.agent->attributes : nullptr; break;
    }
    if (attributes == nullptr) {
      return Value{};
    }
    const AttributeValue* value = find_attribute(*attributes, e_.attribute_names_[index]);
    if (value == nullptr) {
      return Value{};
    }
    if (const auto* list = std::get_if<std::vector<Scalar>>(value)) {
      Value v;
      v.kind = Value::Kind::scalar_list;
      v.scalars = list->data();
      v.size = static_cast<std::uint32_t>(list->size());
      return v;
    }
    return std::visit(
        [](const auto& x) -> Value {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::vector<Scalar>>) {
            return Value{};
          } else {
            return scalar_value(Scalar{x});
          }
        },
        *value);
  }

  bool order(Op op, const Value& a, const Value& b) const {
    int cmp = 0;
    if (a.kind == Value::Kind::number && b.kind == Value::Kind::number) {
      cmp = a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
    } else if (a.kind == Value::Kind::string && b.kind == Value::Kind::string) {
      cmp = text_of(a).compare(text_of(b));
    } else {
      return false;  // incomparable: no match
    }
    switch (op) {
      case Op::lt: return cmp < 0;
      case Op::le: return cmp <= 0;
      case Op::gt: return cmp > 0;
      case Op::ge: return cmp >= 0;
      default: return false;
    }
  }

  bool member(const Value& needle, const Value& haystack) const {
    switch (haystack.kind) {
      case Value::Kind::symbol_list: {
        if (needle.kind != Value::Kind::string) {
          return false;
        }
        const Symbol symbol = needle.symbol != no_symbol ? needle.symbol : c_.symbols->find(text_of(needle));
        if (symbol == no_symbol) {
          return false;
        }
        return std::find(haystack.symbols, haystack.symbols + haystack.size, symbol) != haystack.symbols + haystack.size;
      }
      case Value::Kind::scalar_list:
        for (std::uint32_t i = 0; i < haystack.size; ++i) {
          if (equal(needle, scalar_value(haystack.scalars[i]))) {
            return true;
          }
        }
        return false;
      case Value::Kind::literal_list:
        for (std::uint32_t i = 0; i < haystack.size; ++i) {
          if (equal(needle, literal(haystack.literals[i]))) {
            return true;
          }
        }
        return false;
      case Value::Kind::string:
        return needle.kind == Value::Kind::string && text_of(haystack).find(text_of(needle)) != std::string_view::npos;
      default: return false;
    }
  }

  const Expression& e_;
  const EvalContext& c_;
  bool partial_ = false;
};

Result<Expression> Expression::compile(std::string_view text, ExpressionScope scope, SymbolTable& symbols,
                                       ExpressionError* error_out) {
  Expression expression;
  expression.text_ = std::string(text);
  ExpressionError error;
  ExpressionCompiler compiler(text, scope, symbols, expression);
  if (!compiler.run(error)) {
    if (error_out != nullptr) {
      *error_out = error;
    }
    return invalid_argument(std::to_string(error.line) + ":" + std::to_string(error.column) + ": " + error.message);
  }
  expression.fuse();
  expression.find_conjuncts();
  expression.constant_true_ = expression.nodes_.size() == 1 && expression.nodes_[0].op == Op::literal &&
                              expression.literals_[0].kind == LiteralKind::boolean && expression.literals_[0].boolean;
  return expression;
}

void Expression::fuse() {
  const auto is_name = [&](const Node& n) {
    if (n.op == Op::literal) return literals_[n.a].kind == LiteralKind::string && literals_[n.a].symbol != no_symbol;
    if (n.op != Op::field) return false;
    const auto f = static_cast<Field>(n.a);
    return f == Field::esc_workspace || f == Field::esc_source || f == Field::esc_language;
  };
  const auto is_names = [&](const Node& n) {
    if (n.op != Op::field) return false;
    const auto f = static_cast<Field>(n.a);
    return f == Field::esc_skills || f == Field::agent_skills || f == Field::agent_languages;
  };
  // The child nodes stay in place: add_reads still sees the fields an expression reads.
  for (Node& node : nodes_) {
    if (node.op != Op::in && node.op != Op::contains) continue;
    const std::uint32_t name = node.op == Op::in ? node.a : node.b;
    const std::uint32_t list = node.op == Op::in ? node.b : node.a;
    if (is_name(nodes_[name]) && is_names(nodes_[list])) node = Node{Op::name_in_names, name, list};
  }
}

void Expression::find_conjuncts() {
  conjunct_count_ = 0;
  if (nodes_.empty()) return;
  // Leaves of the `and` tree under the root, left to right (a root that is no `and` is one leaf).
  std::array<std::uint32_t, max_conjuncts> found{};
  std::size_t count = 0;
  std::array<std::uint32_t, 2 * max_conjuncts> pending{};
  std::size_t depth = 0;
  pending[depth++] = static_cast<std::uint32_t>(nodes_.size() - 1);
  while (depth > 0) {
    const std::uint32_t index = pending[--depth];
    const Node& node = nodes_[index];
    if (node.op == Op::and_) {
      if (depth + 2 > pending.size()) return;
      pending[depth++] = node.b;  // the left side is taken first
      pending[depth++] = node.a;
    } else if (count < max_conjuncts) {
      found[count++] = index;
    } else {
      return;
    }
  }
  conjuncts_ = found;
  conjunct_count_ = static_cast<std::uint8_t>(count);
}

void Expression::add_reads(Reads& escalation, Reads& agent) const {
  for (const Node& node : nodes_) {
    if (node.op == Op::field) {
      Reads& side = node.a < static_cast<std::uint32_t>(Field::agent_id) ? escalation : agent;
      side.fields |= 1u << node.a;
    } else if (node.op == Op::attribute) {
      Reads& side = attribute_roots_[node.a] == AttributeRoot::agent ? agent : escalation;
      std::pair<AttributeRoot, std::string> read{attribute_roots_[node.a], attribute_names_[node.a]};
      if (std::find(side.attributes.begin(), side.attributes.end(), read) == side.attributes.end()) {
        side.attributes.push_back(std::move(read));
      }
    }
  }
}

Truth Expression::evaluate_for_agent(const Agent& agent, TimestampMs now, const SymbolTable& symbols) const {
  if (constant_true_) {
    return Truth::yes;
  }
  const EvalContext context{nullptr, &agent, now, &symbols};
  return ExpressionEvaluator(*this, context, true).truth(static_cast<std::uint32_t>(nodes_.size() - 1));
}

bool Expression::evaluate(const EvalContext& context) const {
  if (constant_true_) {
    return true;
  }
  const ExpressionEvaluator evaluator(*this, context);
  if (conjunct_count_ != 0) {
    // Nothing answers "unknown" outside partial evaluation: `and` is plain conjunction.
    for (std::size_t i = 0; i < conjunct_count_; ++i) {
      const std::uint32_t leaf = conjuncts_[i];
      if (!(nodes_[leaf].op == Op::name_in_names ? evaluator.fused_test(leaf) : evaluator.truthy(leaf))) return false;
    }
    return true;
  }
  return evaluator.truthy(static_cast<std::uint32_t>(nodes_.size() - 1));
}

}  // namespace router::core
