// The load generator's HTTP/1.1 response parser (bench/loadgen.cpp), incremental: fed whatever the
// socket gave, it reports need_more, done (status, keep-alive) or bad.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace loadgen {

// Incremental HTTP/1.1 response parser: status line, headers, then a Content-Length or chunked body
// (or, without either, a body that ends with the connection).
class ResponseParser {
 public:
  enum class Result { need_more, done, bad };

  void reset() {
    buffer_.clear();
    stage_ = Stage::head;
    status_ = 0;
    keep_alive_ = true;
    remaining_ = 0;
  }
  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  bool reads_until_close() const { return stage_ == Stage::until_close; }

  Result feed(const char* data, std::size_t size) {
    buffer_.append(data, size);
    for (;;) {
      switch (stage_) {
        case Stage::head: {
          const std::size_t end = buffer_.find("\r\n\r\n");
          if (end == std::string::npos) return buffer_.size() > 65536 ? Result::bad : Result::need_more;
          if (!parse_head(std::string_view(buffer_).substr(0, end + 2))) return Result::bad;
          buffer_.erase(0, end + 4);
          break;
        }
        case Stage::body: {
          const std::size_t take = std::min<std::size_t>(remaining_, buffer_.size());
          buffer_.erase(0, take);
          remaining_ -= take;
          if (remaining_ != 0) return Result::need_more;
          return finish();
        }
        case Stage::chunk_size: {
          const std::size_t eol = buffer_.find("\r\n");
          if (eol == std::string::npos) return buffer_.size() > 4096 ? Result::bad : Result::need_more;
          char* end = nullptr;
          const unsigned long long n = std::strtoull(buffer_.c_str(), &end, 16);
          if (end == buffer_.c_str()) return Result::bad;
          buffer_.erase(0, eol + 2);
          remaining_ = n;
          stage_ = n == 0 ? Stage::trailers : Stage::chunk_data;
          break;
        }
        case Stage::chunk_data: {
          const std::size_t take = std::min<std::size_t>(remaining_, buffer_.size());
          buffer_.erase(0, take);
          remaining_ -= take;
          if (remaining_ != 0) return Result::need_more;
          stage_ = Stage::chunk_end;
          break;
        }
        case Stage::chunk_end:
          if (buffer_.size() < 2) return Result::need_more;
          if (buffer_.compare(0, 2, "\r\n") != 0) return Result::bad;
          buffer_.erase(0, 2);
          stage_ = Stage::chunk_size;
          break;
        case Stage::trailers: {
          const std::size_t eol = buffer_.find("\r\n");
          if (eol == std::string::npos) return Result::need_more;
          buffer_.erase(0, eol + 2);
          if (eol == 0) return finish();
          break;
        }
        case Stage::until_close:
          buffer_.clear();
          return Result::need_more;
        case Stage::complete:
          return buffer_.empty() ? Result::done : Result::bad;  // bytes nobody asked for
      }
    }
  }

  // The peer closed the connection: the end of a read-until-close body, else a truncated response.
  Result end_of_stream() {
    if (stage_ != Stage::until_close) return Result::bad;
    keep_alive_ = false;
    stage_ = Stage::complete;
    return Result::done;
  }

 private:
  enum class Stage { head, body, chunk_size, chunk_data, chunk_end, trailers, until_close, complete };

  static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    }
    return true;
  }
  static bool icontains(std::string_view haystack, std::string_view needle) {
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
      if (iequals(haystack.substr(i, needle.size()), needle)) return true;
    }
    return false;
  }
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
  }

  bool parse_head(std::string_view head) {
    std::size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    // HTTP/1.x SP 3DIGIT [SP reason]
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return false;
    const bool http10 = line[7] == '0';
    status_ = 0;
    for (std::size_t i = 9; i < 12; ++i) {
      if (line[i] < '0' || line[i] > '9') return false;
      status_ = status_ * 10 + (line[i] - '0');
    }
    keep_alive_ = !http10;
    bool have_length = false;
    bool chunked = false;
    std::uint64_t length = 0;
    head.remove_prefix(eol + 2);
    while (!head.empty()) {
      eol = head.find("\r\n");
      const std::string_view field = head.substr(0, eol);
      head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
      const std::size_t colon = field.find(':');
      if (colon == std::string_view::npos) return false;
      const std::string_view name = field.substr(0, colon);
      const std::string_view value = trim(field.substr(colon + 1));
      if (iequals(name, "Content-Length")) {
        if (value.empty()) return false;
        length = 0;
        for (char c : value) {
          if (c < '0' || c > '9') return false;
          length = length * 10 + static_cast<std::uint64_t>(c - '0');
        }
        have_length = true;
      } else if (iequals(name, "Transfer-Encoding")) {
        chunked = icontains(value, "chunked");
      } else if (iequals(name, "Connection")) {
        if (icontains(value, "close")) keep_alive_ = false;
        else if (icontains(value, "keep-alive")) keep_alive_ = true;
      }
    }
    const bool no_body = status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200);
    if (no_body) {
      stage_ = Stage::body;
      remaining_ = 0;
    } else if (chunked) {
      stage_ = Stage::chunk_size;
    } else if (have_length) {
      stage_ = Stage::body;
      remaining_ = length;
    } else {
      stage_ = Stage::until_close;
      keep_alive_ = false;
    }
    return true;
  }

  Result finish() {
    stage_ = Stage::complete;
    return buffer_.empty() ? Result::done : Result::bad;  // one request outstanding: nothing may follow
  }

  std::string buffer_;
  Stage stage_ = Stage::head;
  int status_ = 0;
  bool keep_alive_ = true;
  std::uint64_t remaining_ = 0;
};

}  // namespace loadgen
