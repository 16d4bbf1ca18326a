// Open-loop HTTP/1.1 load at a constant arrival rate, corrected for coordinated omission.
//
// Request k has an intended send time, start + k / rate. Its latency counts from then to the end of
// its response, not from when a connection finally got to send it: a request whose time has come
// waits (in order) for a free keep-alive connection, one request outstanding per connection, and
// that wait is part of its latency. One thread, non-blocking sockets, epoll, a timerfd for the
// schedule: the generator adds no tail of its own (no thread per connection to schedule on 2 cores).
// Works the same against any HTTP/1.1 server (nginx `return 202` or the daemon), so the two can be
// compared at the same rate.
//
//   loadgen --port P --rate R --seconds S [--connections C] [--token T] [--path /v1/events]
//           [--body-mix events] [--host 127.0.0.1] [--timeout 30]
//
// Prints a summary line (requests, errors: non-2xx and connection errors, 503 counted apart) and
// last the latency line. Exit 0 when every request got a 2xx answer.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "http_response_parser.hpp"

namespace {

using clock_type = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux, as the timerfd

// The same steady event mix as bench/wrk_events.lua: per conversation, a request, two messages, a close.
std::string event_body(std::uint64_t n) {
  const std::uint64_t conversation = n / 4 % 20000;
  const std::string id = "lg-" + std::to_string(conversation);
  switch (n % 4) {
    case 0: return R"({"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":")" + id + R"(","language":"en","text":"help"})";
    case 1:
    case 2: return R"({"eventType":"message","workspaceId":"ws-1","conversationId":")" + id + R"(","text":"any news?"})";
    default: return R"({"eventType":"conversationClosed","workspaceId":"ws-1","conversationId":")" + id + R"("})";
  }
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  double rate = 1000;
  double seconds = 10;
  int connections = 16;
  std::string token;
  std::string path = "/v1/events";
  std::string mix = "events";
  double timeout = 30;  // seconds after the last intended send time before what is left counts as failed
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "loadgen: %s\nusage: loadgen --port P --rate R --seconds S [--connections C] [--token T] [--path /v1/events]\n"
               "               [--body-mix events] [--host 127.0.0.1] [--timeout 30]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    if (i + 1 >= argc) usage(("missing a value for " + key).c_str());
    const std::string value = argv[i + 1];
    if (key == "--port") o.port = std::atoi(value.c_str());
    else if (key == "--rate") o.rate = std::atof(value.c_str());
    else if (key == "--seconds") o.seconds = std::atof(value.c_str());
    else if (key == "--connections") o.connections = std::atoi(value.c_str());
    else if (key == "--token") o.token = value;
    else if (key == "--path") o.path = value;
    else if (key == "--body-mix") o.mix = value;
    else if (key == "--host") o.host = value;
    else if (key == "--timeout") o.timeout = std::atof(value.c_str());
    else usage(("unknown option " + key).c_str());
  }
  if (o.port <= 0 || o.port > 65535) usage("--port must be 1..65535");
  if (!(o.rate > 0)) usage("--rate must be > 0");
  if (!(o.seconds > 0)) usage("--seconds must be > 0");
  if (o.connections < 1) usage("--connections must be >= 1");
  if (o.mix != "events") usage("--body-mix: only \"events\" is known");
  return o;
}

using loadgen::ResponseParser;

enum class ConnState { closed, connecting, idle, busy };

struct Connection {
  int fd = -1;
  ConnState state = ConnState::closed;
  bool want_write = false;   // EPOLLOUT registered
  std::string out;           // the request being written
  std::size_t written = 0;
  std::uint64_t request = 0;  // k of the request in flight
  ResponseParser parser;
};

struct Stats {
  std::vector<double> latencies_ms;
  std::uint64_t ok = 0;
  std::uint64_t status_503 = 0;
  std::uint64_t other_status = 0;
  std::uint64_t connection_errors = 0;  // a request lost to a failed connect, a reset, a bad or truncated answer
  std::uint64_t timed_out = 0;          // still unanswered at the end
  std::uint64_t reconnects = 0;
  std::uint64_t max_backlog = 0;
};

class LoadGenerator {
 public:
  explicit LoadGenerator(Options o) : o_(std::move(o)) {
    total_ = static_cast<std::uint64_t>(o_.rate * o_.seconds);
    stats_.latencies_ms.reserve(total_);
    std::memset(&address_, 0, sizeof address_);
    address_.sin_family = AF_INET;
    address_.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    if (inet_pton(AF_INET, o_.host.c_str(), &address_.sin_addr) != 1) usage("--host must be an IPv4 address");
    head_ = "POST " + o_.path + " HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
            "\r\nContent-Type: application/json\r\n";
    if (!o_.token.empty()) head_ += "Authorization: Bearer " + o_.token + "\r\n";
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll_ < 0 || timer_ < 0) die("epoll/timerfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = timer_tag;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev) != 0) die("epoll_ctl timer");
    conns_.resize(static_cast<std::size_t>(o_.connections));
  }

  int run() {
    for (std::size_t i = 0; i < conns_.size(); ++i) open(i);
    // Give the connections time to be established before the first intended send time; a request
    // that finds none free still counts its wait from its intended time.
    start_ = clock_type::now() + std::chrono::milliseconds(200);
    const auto last_intended = intended(total_ == 0 ? 0 : total_ - 1);
    const auto deadline = last_intended + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o_.timeout));
    arm_timer();
    std::vector<epoll_event> events(conns_.size() + 1);
    while (completed_ < total_) {
      const auto now = clock_type::now();
      if (now >= deadline) break;
      // Every request whose time has come joins the backlog (requests are sent in order k).
      while (due_ < total_ && intended(due_) <= now) ++due_;
      stats_.max_backlog = std::max(stats_.max_backlog, due_ - sent_);
      dispatch();
      int timeout_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) + 1;
      if (sent_ < due_ && std::any_of(conns_.begin(), conns_.end(), [](const Connection& c) { return c.state == ConnState::closed; })) {
        timeout_ms = std::min(timeout_ms, 10);  // a connection to retry
      }
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == timer_tag) {
          std::uint64_t expirations = 0;
          [[maybe_unused]] ssize_t r = read(timer_, &expirations, sizeof expirations);
          continue;
        }
        handle(static_cast<std::size_t>(events[i].data.u64), events[i].events);
      }
      arm_timer();
    }
    for (auto& c : conns_) {
      if (c.state == ConnState::busy) ++stats_.timed_out;
      if (c.fd >= 0) close(c.fd);
    }
    stats_.timed_out += total_ - sent_;
    return report();
  }

 private:
  static constexpr std::uint64_t timer_tag = ~std::uint64_t{0};

  [[noreturn]] static void die(const char* what) {
    std::fprintf(stderr, "loadgen: %s: %s\n", what, std::strerror(errno));
    std::exit(2);
  }

  clock_type::time_point intended(std::uint64_t k) const {
    return start_ + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(k) * 1e9 / o_.rate));
  }

  // The timer fires at the next intended send time (nothing to wait for once all are due).
  void arm_timer() {
    itimerspec spec{};
    if (due_ < total_) {
      const auto at = std::chrono::duration_cast<std::chrono::nanoseconds>(intended(due_).time_since_epoch()).count();
      spec.it_value.tv_sec = static_cast<time_t>(at / 1000000000);
      spec.it_value.tv_nsec = static_cast<long>(at % 1000000000);
      if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    }
    if (timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) die("timerfd_settime");
  }

  void watch(std::size_t i, bool write) {
    Connection& c = conns_[i];
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    if (epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev) != 0) die("epoll_ctl mod");
    c.want_write = write;
  }

  void open(std::size_t i) {
    Connection& c = conns_[i];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) die("socket");
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.parser.reset();
    const int r = connect(c.fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_);
    epoll_event ev{};
    ev.data.u64 = i;
    if (r == 0) {
      c.state = ConnState::idle;
      ev.events = EPOLLIN | EPOLLRDHUP;
      c.want_write = false;
      idle_.push_back(i);
    } else if (errno == EINPROGRESS) {
      c.state = ConnState::connecting;
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
      c.want_write = true;
    } else {
      // Refused at once: try again on the next dispatch (the request waits, its latency grows).
      close(c.fd);
      c.fd = -1;
      c.state = ConnState::closed;
      ++connect_failures_;
      return;
    }
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl add");
  }

  void drop(std::size_t i) {
    Connection& c = conns_[i];
    if (c.fd >= 0) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
    }
    c.fd = -1;
    c.state = ConnState::closed;
    c.want_write = false;
    c.out.clear();
    c.written = 0;
    idle_.erase(std::remove(idle_.begin(), idle_.end(), i), idle_.end());
  }

  // A connection failed while a request was on it: that request is a connection error.
  void fail(std::size_t i) {
    Connection& c = conns_[i];
    if (c.state == ConnState::busy) {
      ++stats_.connection_errors;
      ++completed_;
    }
    drop(i);
    ++stats_.reconnects;
    open(i);
  }

  void dispatch() {
    // Closed connections (refused connects) are retried, at most every 10 ms, while requests wait.
    if (sent_ < due_ && idle_.empty() && clock_type::now() - last_reopen_ >= std::chrono::milliseconds(10)) {
      last_reopen_ = clock_type::now();
      for (std::size_t i = 0; i < conns_.size(); ++i) {
        if (conns_[i].state == ConnState::closed) open(i);
      }
    }
    while (sent_ < due_ && !idle_.empty()) {
      const std::size_t i = idle_.back();
      idle_.pop_back();
      Connection& c = conns_[i];
      const std::string body = event_body(sent_);
      c.out = head_;
      c.out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      c.out += body;
      c.written = 0;
      c.request = sent_++;
      c.state = ConnState::busy;
      c.parser.reset();
      write_some(i);
    }
  }

  void write_some(std::size_t i) {
    Connection& c = conns_[i];
    while (c.written < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_write) watch(i, true);
        return;
      }
      return fail(i);
    }
    if (c.want_write) watch(i, false);
  }

  void handle(std::size_t i, std::uint32_t events) {
    Connection& c = conns_[i];
    if (c.fd < 0) return;
    if (c.state == ConnState::connecting) {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      int error = 0;
      socklen_t len = sizeof error;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
        ++connect_failures_;
        drop(i);  // reopened by dispatch() when a request needs it
        return;
      }
      c.state = ConnState::idle;
      watch(i, false);
      idle_.push_back(i);
      dispatch();
      return;
    }
    if ((events & EPOLLOUT) != 0 && c.state == ConnState::busy) write_some(i);
    if (c.fd < 0) return;
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) read_some(i);
  }

  void read_some(std::size_t i) {
    Connection& c = conns_[i];
    const int fd = c.fd;
    char buffer[16384];
    for (;;) {
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        if (c.state != ConnState::busy) return fail(i);  // bytes nobody asked for
        const auto r = c.parser.feed(buffer, static_cast<std::size_t>(n));
        if (r == ResponseParser::Result::bad) return fail(i);
        if (r == ResponseParser::Result::done) {
          complete(i);
          if (c.fd != fd) return;  // replaced (Connection: close, or a failed write of the next request)
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      // End of stream or an error.
      if (n == 0 && c.state == ConnState::busy && c.parser.reads_until_close()) {
        c.parser.end_of_stream();
        complete(i);
        return;
      }
      if (c.state == ConnState::busy) return fail(i);
      // An idle keep-alive connection the server closed: reconnect quietly.
      drop(i);
      ++stats_.reconnects;
      open(i);
      return;
    }
  }

  // Records the response, then hands the connection the next waiting request (or reconnects it first
  // when the server asked to close).
  void complete(std::size_t i) {
    Connection& c = conns_[i];
    const auto done = clock_type::now();
    const int status = c.parser.status();
    stats_.latencies_ms.push_back(std::chrono::duration<double, std::milli>(done - intended(c.request)).count());
    if (status >= 200 && status < 300) ++stats_.ok;
    else if (status == 503) ++stats_.status_503;
    else ++stats_.other_status;
    ++completed_;
    if (!c.parser.keep_alive()) {
      drop(i);
      ++stats_.reconnects;
      open(i);
    } else {
      c.state = ConnState::idle;
      c.out.clear();
      c.parser.reset();
      idle_.push_back(i);
    }
    dispatch();
  }

  int report() {
    auto& all = stats_.latencies_ms;
    std::sort(all.begin(), all.end());
    auto q = [&](double p) {
      return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))];
    };
    const std::uint64_t errors = stats_.status_503 + stats_.other_status + stats_.connection_errors + stats_.timed_out;
    std::printf("loadgen: %llu requests at %.0f/s over %d connections to %s, %llu answered; %llu reconnects, %llu failed connects, "
                "at most %llu waiting for a connection\n",
                static_cast<unsigned long long>(total_), o_.rate, o_.connections, o_.path.c_str(),
                static_cast<unsigned long long>(all.size()), static_cast<unsigned long long>(stats_.reconnects),
                static_cast<unsigned long long>(connect_failures_), static_cast<unsigned long long>(stats_.max_backlog));
    std::printf("requests %llu, errors %llu (503: %llu, other non-2xx: %llu, connection errors: %llu, unanswered: %llu)\n",
                static_cast<unsigned long long>(total_), static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(stats_.status_503), static_cast<unsigned long long>(stats_.other_status),
                static_cast<unsigned long long>(stats_.connection_errors), static_cast<unsigned long long>(stats_.timed_out));
    std::printf("latency (ms, from the intended send time): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", q(0.50), q(0.90),
                q(0.99), q(0.999), all.empty() ? 0.0 : all.back());
    std::fflush(stdout);
    return errors == 0 ? 0 : 1;
  }

  Options o_;
  sockaddr_in address_{};
  std::string head_;
  int epoll_ = -1;
  int timer_ = -1;
  std::vector<Connection> conns_;
  std::vector<std::size_t> idle_;
  clock_type::time_point start_;
  std::uint64_t total_ = 0;
  std::uint64_t due_ = 0;        // requests whose intended time has come
  std::uint64_t sent_ = 0;       // requests handed to a connection (k < sent_)
  std::uint64_t completed_ = 0;  // answered or failed
  std::uint64_t connect_failures_ = 0;
  clock_type::time_point last_reopen_{};
  Stats stats_;
};

}  // namespace

int main(int argc, char** argv) {
  LoadGenerator generator(parse(argc, argv));
  return generator.run();
}
