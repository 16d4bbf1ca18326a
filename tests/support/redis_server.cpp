#include "support/redis_server.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

extern char** environ;

namespace router::testing {
namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

void flatten(const redisReply* r, std::vector<std::string>& out) {
  if (r == nullptr) return;
  switch (r->type) {
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < r->elements; ++i) flatten(r->element[i], out);
      break;
    case REDIS_REPLY_INTEGER: out.push_back(std::to_string(r->integer)); break;
    case REDIS_REPLY_NIL: out.push_back("(nil)"); break;
    default: out.emplace_back(r->str, r->len);
  }
}

}  // namespace

RedisServer::RedisServer() : port_(free_port()) { start(); }

RedisServer::~RedisServer() { kill(); }

bool RedisServer::start() {
  std::vector<std::string> args = {"redis-server", "--bind", "127.0.0.1", "--port", std::to_string(port_), "--save", "",
                                   "--appendonly", "no", "--dir", dir_.path()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, dir_.file("redis.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const int rc = posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  for (int i = 0; i < 200; ++i) {
    RedisClient probe(port_);
    if (probe.connected() && !probe.command({"PING"}).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void RedisServer::kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

RedisClient::RedisClient(int port) {
  timeval timeout{2, 0};
  context_ = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (context_ != nullptr && context_->err) {
    redisFree(context_);
    context_ = nullptr;
  }
  if (context_ != nullptr) redisSetTimeout(context_, timeout);
}

RedisClient::~RedisClient() {
  if (context_ != nullptr) redisFree(context_);
}

std::vector<std::string> RedisClient::command(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  if (context_ == nullptr) return out;
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data()));
  flatten(reply, out);
  if (reply != nullptr) freeReplyObject(reply);
  return out;
}

long long RedisClient::integer(const std::vector<std::string>& argv) {
  auto r = command(argv);
  return r.empty() ? -1 : std::atoll(r[0].c_str());
}

std::string RedisClient::next_message() {
  void* raw = nullptr;
  if (context_ == nullptr || redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) return "";
  std::vector<std::string> out;
  flatten(static_cast<redisReply*>(raw), out);
  freeReplyObject(raw);
  return out.size() == 3 && out[0] == "message" ? out[2] : "";
}

}  // namespace router::testing
