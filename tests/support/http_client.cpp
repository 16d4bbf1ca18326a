#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <strings.h>

namespace router::testing {

std::string HttpResult::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) {
      return value;
    }
  }
  return "";
}

HttpClient::HttpClient(int port, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) {
    return;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

HttpClient::~HttpClient() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool HttpClient::send_raw(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

HttpResult HttpClient::read_response() {
  HttpResult result;
  auto fill = [this]() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) {
      return result;
    }
  }
  const std::string head = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  result.status = std::atoi(status_line.substr(status_line.find(' ') + 1).c_str());
  std::size_t length = 0;
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    result.headers.emplace_back(line.substr(0, colon), value);
    if (strcasecmp(line.substr(0, colon).c_str(), "content-length") == 0) {
      length = static_cast<std::size_t>(std::atoll(value.c_str()));
    }
  }
  if (result.status == 100) {
    return read_response();
  }
  while (buffer_.size() < length) {
    if (!fill()) {
      result.status = 0;
      return result;
    }
  }
  result.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return result;
}

bool HttpClient::closed_by_peer() {
  char byte;
  return ::recv(fd_, &byte, 1, 0) == 0;
}

HttpResult HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string bytes = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    bytes += name + ": " + value + "\r\n";
    has_content_type = has_content_type || strcasecmp(name.c_str(), "content-type") == 0;
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!has_content_type) {
      bytes += "Content-Type: application/json\r\n";
    }
    bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  bytes += "\r\n" + body;
  if (!send_raw(bytes)) {
    return {};
  }
  return read_response();
}

HttpResult http_request(int port, const std::string& method, const std::string& target, const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpClient client(port);
  if (!client.connected()) {
    return {};
  }
  return client.request(method, target, body, headers);
}

std::string list_all_escalations(int port, const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    auto r = http_request(port, "GET", "/v1/escalations?status=all&limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor), "", headers);
    if (r.status != 200) return "error " + std::to_string(r.status);
    out += r.body;
    const std::size_t next = r.body.find("\"nextCursor\":\"");
    if (next == std::string::npos) break;
    cursor = r.body.substr(next + 14, 26);
  }
  return out;
}

}  // namespace router::testing
