// Internal: fixed-width little-endian byte encoding shared by snapshots and the input codec.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <span>
#include <vector>

#include "router/core/model.hpp"
#include "router/core/rules.hpp"

namespace router::core {

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { raw(&v, sizeof v); }
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void i32(std::int32_t v) { raw(&v, sizeof v); }
  void i64(std::int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void b(bool v) { u8(v ? 1 : 0); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void strs(const std::vector<std::string>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& s : v) str(s);
  }
  void ids(const std::vector<Id>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& s : v) str(s);
  }
  void syms(std::span<const Symbol> v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (Symbol s : v) u32(s);
  }
  void scalar(const Scalar& s) {
    u8(static_cast<std::uint8_t>(s.index()));
    if (s.index() == 1) b(std::get<bool>(s));
    if (s.index() == 2) f64(std::get<double>(s));
    if (s.index() == 3) str(std::get<std::string>(s));
  }
  void attrs(const Attributes& a) {
    u32(static_cast<std::uint32_t>(a.size()));
    for (const auto& [key, value] : a) {
      str(key);
      u8(static_cast<std::uint8_t>(value.index()));
      switch (value.index()) {
        case 1: b(std::get<bool>(value)); break;
        case 2: f64(std::get<double>(value)); break;
        case 3: str(std::get<std::string>(value)); break;
        case 4: {
          const auto& list = std::get<std::vector<Scalar>>(value);
          u32(static_cast<std::uint32_t>(list.size()));
          for (const Scalar& s : list) scalar(s);
          break;
        }
        default: break;
      }
    }
  }
  void pairs(const std::vector<std::pair<std::string, std::string>>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& [a, c] : v) {
      str(a);
      str(c);
    }
  }
  void expr(const ExpressionSource& e) {
    str(e.text);
    u32(e.pos.line);
    u32(e.pos.column);
  }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }

  std::uint8_t u8() { return fixed<std::uint8_t>(); }
  std::uint32_t u32() { return fixed<std::uint32_t>(); }
  std::uint64_t u64() { return fixed<std::uint64_t>(); }
  std::int32_t i32() { return fixed<std::int32_t>(); }
  std::int64_t i64() { return fixed<std::int64_t>(); }
  double f64() { return fixed<double>(); }
  bool b() { return u8() != 0; }
  std::string str() {
    const std::uint32_t n = u32();
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of items that each take at least `min_bytes`: bounded by what is left, so a corrupt
  // count cannot make us allocate without end.
  std::uint32_t count(std::size_t min_bytes = 1) {
    const std::uint32_t n = u32();
    if (!ok_ || static_cast<std::size_t>(n) * min_bytes > in_.size() - pos_) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(count(4));
    for (auto& s : v) s = str();
    return v;
  }
  // An id the core made: at most Id::capacity characters, else the input is corrupt.
  Id id() {
    Id out;
    if (!Id::from_text(str(), out)) ok_ = false;
    return out;
  }
  std::vector<Id> ids() {
    std::vector<Id> v(count(4));
    for (auto& s : v) s = id();
    return v;
  }
  std::vector<Symbol> syms() {
    std::vector<Symbol> v(count(4));
    for (auto& s : v) s = u32();
    return v;
  }
  Scalar scalar() {
    switch (u8()) {
      case 1: return Scalar{b()};
      case 2: return Scalar{f64()};
      case 3: return Scalar{str()};
      default: return Scalar{};
    }
  }
  Attributes attrs() {
    Attributes a(count(5));
    for (auto& [key, value] : a) {
      key = str();
      switch (u8()) {
        case 1: value = b(); break;
        case 2: value = f64(); break;
        case 3: value = str(); break;
        case 4: {
          std::vector<Scalar> list(count(1));
          for (auto& s : list) s = scalar();
          value = std::move(list);
          break;
        }
        default: value = std::monostate{};
      }
    }
    return a;
  }
  std::vector<std::pair<std::string, std::string>> pairs() {
    std::vector<std::pair<std::string, std::string>> v(count(8));
    for (auto& [a, c] : v) {
      a = str();
      c = str();
    }
    return v;
  }
  ExpressionSource expr() {
    ExpressionSource e;
    e.text = str();
    e.pos.line = u32();
    e.pos.column = u32();
    return e;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  template <typename T>
  T fixed() {  // a fixed-width value, as ByteWriter wrote it; 0 once the input is short
    T v{};
    raw(&v, sizeof v);
    return v;
  }
  void raw(void* p, std::size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      std::memset(p, 0, n);
      return;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

void write_agent_spec(ByteWriter& w, const AgentSpec& a);
AgentSpec read_agent_spec(ByteReader& r);
void write_rules(ByteWriter& w, const RuleSet& rules);
RuleSet read_rules(ByteReader& r);

}  // namespace router::core
