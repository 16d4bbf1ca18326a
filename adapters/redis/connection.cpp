#include "adapters/redis/connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <random>

namespace router::adapters::redis {

namespace asio = boost::asio;

namespace {

RedisValue convert(const redisReply* reply) {
  RedisValue v;
  if (reply == nullptr) return v;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER: v.type = RedisValue::Type::integer; v.integer = reply->integer; break;
    case REDIS_REPLY_STRING: v.type = RedisValue::Type::string; v.str.assign(reply->str, reply->len); break;
    case REDIS_REPLY_STATUS: v.type = RedisValue::Type::status; v.str.assign(reply->str, reply->len); break;
    case REDIS_REPLY_ERROR: v.type = RedisValue::Type::error; v.str.assign(reply->str, reply->len); break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::array;
      v.elements.reserve(reply->elements);
      for (std::size_t i = 0; i < reply->elements; ++i) v.elements.push_back(convert(reply->element[i]));
      break;
    default: break;
  }
  return v;
}

}  // namespace

struct Connection::State : std::enable_shared_from_this<State> {
  State(asio::io_context& io, RedisOptions opts, std::string n)
      : options(std::move(opts)), name(std::move(n)), strand(asio::make_strand(io)), reconnect_timer(strand) {}

  RedisOptions options;
  std::string name;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer reconnect_timer;
  redisAsyncContext* context = nullptr;        // null when hiredis has freed it
  std::unique_ptr<asio::posix::stream_descriptor> socket;
  std::uint64_t generation = 0;                // bumps with every context: stale waits do nothing
  bool reading = false;
  bool writing = false;
  std::atomic<bool> ready{false};              // connected and authenticated (read from other threads)
  bool stopping = false;
  bool logged_down = false;
  std::chrono::milliseconds backoff{100};
  std::function<void(bool)> state_handler;

  // One pending command: its handler and its timeout.
  struct Pending {
    Handler handler;
    std::unique_ptr<asio::steady_timer> timer;
    std::uint64_t generation;
    bool done = false;
  };

  // --- hiredis event hooks (called from inside hiredis, on the strand)
  static void add_read(void* data) {
    auto* self = static_cast<State*>(data);
    if (!self->reading) {
      self->reading = true;
      self->wait_read(self->generation);
    }
  }
  static void del_read(void* data) { static_cast<State*>(data)->reading = false; }
  static void add_write(void* data) {
    auto* self = static_cast<State*>(data);
    if (!self->writing) {
      self->writing = true;
      self->wait_write(self->generation);
    }
  }
  static void del_write(void* data) { static_cast<State*>(data)->writing = false; }
  static void cleanup(void* data) {
    // hiredis is freeing the context: forget it, give the fd back without closing it.
    auto* self = static_cast<State*>(data);
    self->forget_context();
  }

  void forget_context() {
    context = nullptr;
    reading = false;
    writing = false;
    ++generation;
    if (socket) {
      boost::system::error_code ignored;
      socket->cancel(ignored);
      socket->release();
      socket.reset();
    }
  }

  void wait_read(std::uint64_t gen) {
    if (!socket) return;
    socket->async_wait(asio::posix::stream_descriptor::wait_read,
                       [self = shared_from_this(), gen](const boost::system::error_code& ec) {
                         if (ec || gen != self->generation || self->context == nullptr || !self->reading) return;
                         redisAsyncHandleRead(self->context);  // may free the context (cleanup bumps generation)
                         if (gen == self->generation && self->reading) self->wait_read(gen);
                       });
  }

  void wait_write(std::uint64_t gen) {
    if (!socket) return;
    socket->async_wait(asio::posix::stream_descriptor::wait_write,
                       [self = shared_from_this(), gen](const boost::system::error_code& ec) {
                         if (ec || gen != self->generation || self->context == nullptr || !self->writing) return;
                         redisAsyncHandleWrite(self->context);
                         if (gen == self->generation && self->writing) self->wait_write(gen);
                       });
  }

  static void on_connect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<State*>(ac->ev.data);
    if (status != REDIS_OK) {
      // hiredis frees the context after this callback returns (cleanup runs then).
      self->note_down(std::string("connect failed: ") + (ac->errstr[0] != '\0' ? ac->errstr : "unknown error"));
      self->schedule_reconnect();
      return;
    }
    self->authenticate();
  }

  static void on_disconnect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<State*>(ac->ev.data);
    const bool was_ready = self->ready;
    self->ready = false;
    if (was_ready && self->state_handler) self->state_handler(false);
    if (!self->stopping) {
      self->note_down(status == REDIS_OK ? "disconnected" : std::string("connection lost: ") + ac->errstr);
      self->schedule_reconnect();
    }
  }

  void note_down(const std::string& why) {
    if (!logged_down) {
      spdlog::warn("redis {}: {} ({}:{}); retrying with backoff", name, why, options.host, options.port);
      logged_down = true;
    }
  }

  void connect() {
    if (stopping || context != nullptr) return;
    redisAsyncContext* ac = redisAsyncConnect(options.host.c_str(), options.port);
    if (ac == nullptr) {
      schedule_reconnect();
      return;
    }
    if (ac->err) {
      note_down(std::string("connect failed: ") + ac->errstr);
      redisAsyncFree(ac);  // never attached: ours to free
      schedule_reconnect();
      return;
    }
    context = ac;
    ++generation;
    socket = std::make_unique<asio::posix::stream_descriptor>(strand, ac->c.fd);
    // The hooks first, then the callbacks (hiredis may call them at once).
    ac->ev.data = this;
    ac->ev.addRead = &State::add_read;
    ac->ev.delRead = &State::del_read;
    ac->ev.addWrite = &State::add_write;
    ac->ev.delWrite = &State::del_write;
    ac->ev.cleanup = &State::cleanup;
    redisAsyncSetConnectCallback(ac, &State::on_connect);
    redisAsyncSetDisconnectCallback(ac, &State::on_disconnect);
  }

  void authenticate() {
    auto after_select = [self = shared_from_this()](const RedisValue* reply) {
      if (reply == nullptr || reply->is_error()) {
        spdlog::error("redis {}: SELECT {} failed: {}", self->name, self->options.database, reply ? reply->str : "no reply");
        self->drop();
        return;
      }
      self->up();
    };
    auto select = [self = shared_from_this(), after_select]() {
      if (self->options.database == 0) return self->up();
      self->raw_command({"SELECT", std::to_string(self->options.database)}, after_select, std::chrono::milliseconds(5000));
    };
    if (options.password.empty()) return select();
    std::vector<std::string> auth{"AUTH"};
    if (!options.username.empty()) auth.push_back(options.username);
    auth.push_back(options.password);
    raw_command(auth,
                [self = shared_from_this(), select](const RedisValue* reply) {
                  if (reply == nullptr || reply->is_error()) {
                    // The reply text never holds the password; log it.
                    spdlog::error("redis {}: AUTH failed: {}", self->name, reply ? reply->str : "no reply");
                    self->drop();
                    return;
                  }
                  select();
                },
                std::chrono::milliseconds(5000));
  }

  void up() {
    ready = true;
    backoff = std::chrono::milliseconds(100);
    spdlog::info("redis {}: connected to {}:{}", name, options.host, options.port);
    logged_down = false;
    if (state_handler) state_handler(true);
  }

  void drop() {
    if (context != nullptr) redisAsyncDisconnect(context);  // disconnect callback reconnects
  }

  void schedule_reconnect() {
    if (stopping) return;
    static thread_local std::mt19937 rng{std::random_device{}()};
    const auto jitter = std::chrono::milliseconds(rng() % (backoff.count() / 2 + 1));
    reconnect_timer.expires_after(backoff + jitter);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
    reconnect_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->connect();
    });
  }

  static void on_reply(redisAsyncContext*, void* reply, void* privdata) {
    // hiredis calls this exactly once per command: with the reply, or with null when disconnecting.
    std::unique_ptr<std::shared_ptr<Pending>> owned(static_cast<std::shared_ptr<Pending>*>(privdata));
    const std::shared_ptr<Pending> pending = *owned;
    if (pending->done) return;  // timed out already
    pending->done = true;
    if (pending->timer) pending->timer->cancel();
    if (reply == nullptr) {
      pending->handler(nullptr);
      return;
    }
    const RedisValue value = convert(static_cast<redisReply*>(reply));
    pending->handler(&value);
  }

  bool raw_command(const std::vector<std::string>& argv, Handler handler, std::chrono::milliseconds timeout) {
    if (context == nullptr) return false;
    std::vector<const char*> args;
    std::vector<std::size_t> lengths;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lengths.push_back(a.size());
    }
    auto pending = std::make_shared<Pending>(Pending{std::move(handler), nullptr, generation});
    if (timeout.count() == 0) {
      auto* privdata = new std::shared_ptr<Pending>(pending);
      if (redisAsyncCommandArgv(context, &State::on_reply, privdata, static_cast<int>(args.size()), args.data(), lengths.data()) != REDIS_OK) {
        pending->done = true;
        delete privdata;
        return false;
      }
      return true;
    }
    pending->timer = std::make_unique<asio::steady_timer>(strand);
    pending->timer->expires_after(timeout);
    // Shared by hiredis (until its callback) and the timeout handler (until it runs): whichever comes
    // second finds `done` set.
    pending->timer->async_wait([self = shared_from_this(), pending, gen = generation](const boost::system::error_code& ec) {
      if (ec || pending->done || gen != self->generation) return;
      pending->done = true;
      spdlog::warn("redis {}: command timed out; reconnecting", self->name);
      pending->handler(nullptr);
      self->drop();
    });
    auto* privdata = new std::shared_ptr<Pending>(pending);
    if (redisAsyncCommandArgv(context, &State::on_reply, privdata, static_cast<int>(args.size()), args.data(), lengths.data()) != REDIS_OK) {
      pending->done = true;
      pending->timer->cancel();
      delete privdata;
      return false;
    }
    return true;
  }
};

Connection::Connection(asio::io_context& io, RedisOptions options, std::string name)
    : state_(std::make_shared<State>(io, std::move(options), std::move(name))) {}

Connection::~Connection() { stop(); }

void Connection::on_state(std::function<void(bool)> handler) {
  asio::post(state_->strand, [s = state_, handler = std::move(handler)]() mutable { s->state_handler = std::move(handler); });
}

void Connection::start() {
  asio::post(state_->strand, [s = state_] { s->connect(); });
}

void Connection::stop() {
  asio::post(state_->strand, [s = state_] {
    s->stopping = true;
    s->reconnect_timer.cancel();
    if (s->context != nullptr) redisAsyncDisconnect(s->context);
  });
}

void Connection::close_now() {
  State& s = *state_;
  s.stopping = true;
  s.reconnect_timer.cancel();
  if (s.context != nullptr) {
    redisAsyncFree(s.context);  // the cleanup hook forgets it
  }
  s.state_handler = nullptr;
}

bool Connection::command(std::vector<std::string> argv, Handler handler, std::chrono::milliseconds timeout) {
  // Must be called on the strand (from dispatch() or a handler).
  if (!state_->ready) return false;
  return state_->raw_command(argv, std::move(handler), timeout);
}

bool Connection::connected() const { return state_->ready; }

void Connection::reset() { state_->drop(); }

void Connection::dispatch(std::function<void()> fn) { asio::post(state_->strand, std::move(fn)); }

}  // namespace router::adapters::redis
