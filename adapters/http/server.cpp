#include "adapters/http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <optional>
#include <chrono>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "adapters/engine/engine.hpp"

namespace router::adapters::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit_bytes = 16 * 1024;

// Answers the core thread builds come back to the I/O thread of their connection, one post per batch.
class IoOutlet final : public engine::AnswerOutlet {
 public:
  explicit IoOutlet(asio::io_context& io) : io_(io) {}
  void deliver(std::vector<std::function<void()>> answers) override {
    asio::post(io_, [answers = std::move(answers)]() {
      for (const auto& answer : answers) answer();
    });
  }

 private:
  asio::io_context& io_;
};

// What drain() needs of a connection, whatever its stream: the TCP layer and whether it is idle.
struct Connection {
  Connection(tcp::socket socket, IoOutlet* o) : lowest(std::move(socket)), outlet(o) {}
  beast::tcp_stream lowest;  // the TCP layer under any TLS; touched only on its I/O thread
  IoOutlet* outlet;          // that thread's
  bool idle = true;          // waiting for a new request; drain() closes such connections
};

using TlsStream = beast::ssl_stream<beast::tcp_stream&>;


bool is_parse_error(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

std::chrono::milliseconds ms(core::DurationMs value) { return std::chrono::milliseconds(value); }

// Calls the completion once: with the handler's response, or with a 500 if the handler dropped
// its Respond without calling it (a bug, but never a hung connection). A response made on the core
// thread waits there for the batch to be durable and goes back with the batch's others.
template <typename Completion>
class PendingResponse {
 public:
  PendingResponse(Completion completion, IoOutlet* outlet) : completion_(std::move(completion)), outlet_(outlet) {}
  ~PendingResponse() {
    if (!done_) {
      complete(error_response(core::ErrorCode::internal, "the request was dropped without a response"));
    }
  }
  void complete(Response response) {
    if (done_.exchange(true)) {
      return;
    }
    auto executor = asio::get_associated_executor(completion_);
    auto completion = std::make_shared<Completion>(std::move(completion_));
    std::function<void()> answer = [completion, r = std::move(response)]() mutable { std::move(*completion)(std::move(r)); };
    if (outlet_ != nullptr && engine::defer_answer(*outlet_, answer)) {
      return;
    }
    asio::post(executor, std::move(answer));
  }

 private:
  Completion completion_;
  IoOutlet* outlet_;
  std::atomic<bool> done_{false};
};

}  // namespace

struct Server::State : std::enable_shared_from_this<State> {
  State(asio::io_context& context, std::vector<asio::io_context*> workers, ServerOptions opts, Handler h)
      : io(context), options(std::move(opts)), handler(std::move(h)), acceptor(asio::make_strand(context)) {
    for (asio::io_context* worker : workers) {
      connection_ios.push_back(worker);
      outlets.push_back(std::make_unique<IoOutlet>(*worker));
    }
    if (workers.empty()) {
      connection_ios.push_back(&context);  // strands: answers are posted to each connection's own
      outlets.push_back(nullptr);
    }
    if (!options.tls_cert.empty()) {
      tls.emplace(asio::ssl::context::tls_server);
      tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                       asio::ssl::context::single_dh_use);
      SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
      tls->use_certificate_chain_file(options.tls_cert);  // throws on a bad file: a start-up error
      tls->use_private_key_file(options.tls_key, asio::ssl::context::pem);
    }
  }

  asio::io_context& io;
  std::vector<asio::io_context*> connection_ios;  // one thread each: connections need no strand
  std::vector<std::unique_ptr<IoOutlet>> outlets;  // outlets[i] answers to connection_ios[i]
  std::size_t next_io = 0;
  std::optional<asio::ssl::context> tls;
  ServerOptions options;
  Handler handler;
  tcp::acceptor acceptor;
  std::atomic<bool> draining{false};
  mutable std::mutex mutex;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;
  std::uint64_t next_id = 0;

  std::size_t count() const {
    std::lock_guard lock(mutex);
    return connections.size();
  }

  asio::awaitable<Response> call_handler(Request request, IoOutlet* outlet) {
    auto initiate = [this, outlet](auto completion, Request req) {
      using C = decltype(completion);
      auto pending = std::make_shared<PendingResponse<C>>(std::move(completion), outlet);
      try {
        handler(std::move(req), [pending](Response response) { pending->complete(std::move(response)); });
      } catch (const std::exception& e) {
        spdlog::error("http: handler threw: {}", e.what());
        pending->complete(error_response(core::ErrorCode::internal, "internal error"));
      }
    };
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Response)>(
        std::move(initiate), asio::use_awaitable, std::move(request));
  }

  template <typename Stream>
  asio::awaitable<void> write_response(Connection& conn, Stream& stream, Response response, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status), version};
    res.set(bhttp::field::server, "escalation-routerd");
    res.set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) {
      res.set(name, value);
    }
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();
    conn.lowest.expires_after(ms(options.request_timeout_ms));
    auto [ec, bytes] = co_await bhttp::async_write(stream, res, use_tuple);
    (void)bytes;
    if (ec) {
      spdlog::debug("http: write failed: {}", ec.message());
    }
  }

  // The request loop, over a plain or a TLS stream. Returns whether the connection may be shut
  // down gracefully (TLS close_notify).
  template <typename Stream>
  asio::awaitable<void> serve(std::shared_ptr<Connection> conn, Stream& stream, beast::flat_buffer& buffer, std::string remote) {
    bool first = true;
    while (!draining) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(header_limit_bytes);
      parser.body_limit(options.max_body_bytes);
      if (buffer.size() == 0) {
        // Idle until the first byte of the next request: drain() may close the connection now.
        conn->idle = true;
        conn->lowest.expires_after(ms(first ? options.header_timeout_ms : options.idle_timeout_ms));
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
        conn->idle = false;
        if (ec) {
          break;
        }
        buffer.commit(n);
      }
      first = false;
      conn->lowest.expires_after(ms(options.header_timeout_ms));
      auto [ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
      (void)header_bytes;
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          // Beast checks Content-Length against body_limit with the headers: the body is never read.
          co_await write_response(*conn, stream, error_response(core::ErrorCode::payload_too_large,
                                                        "request body exceeds max_body_bytes (" + std::to_string(options.max_body_bytes) + ")"),
                                  parser.get().version(), false);
        } else if (ec == bhttp::error::header_limit) {
          co_await write_response(*conn, stream, error_response(core::ErrorCode::invalid_argument, "request headers are too large (limit 16 KiB)"), 11, false);
        } else if (is_parse_error(ec)) {
          co_await write_response(*conn, stream, error_response(core::ErrorCode::invalid_argument, "malformed HTTP request: " + ec.message()), 11, false);
        }
        break;  // end of stream, timeout, reset, or drain
      }
      const unsigned version = parser.get().version();
      const bool keep_alive = parser.get().keep_alive();
      if (iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [wec, n] = co_await asio::async_write(stream, asio::buffer(continue_line), use_tuple);
        (void)n;
        if (wec) {
          break;
        }
      }
      // A small body usually came with the headers: parse it from the buffer, no read, no timer.
      boost::system::error_code rec;
      while (!parser.is_done() && buffer.size() != 0) {
        const std::size_t used = parser.put(buffer.data(), rec);
        buffer.consume(used);
        if (rec == bhttp::error::need_more) {
          rec = {};
          break;
        }
        if (rec || used == 0) break;
      }
      if (!rec && !parser.is_done()) {
        conn->lowest.expires_after(ms(options.request_timeout_ms));
        auto [read_ec, body_bytes] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
        (void)body_bytes;
        rec = read_ec;
      }
      if (rec) {
        if (rec == bhttp::error::body_limit) {
          co_await write_response(*conn, stream, error_response(core::ErrorCode::payload_too_large,
                                                        "request body exceeds max_body_bytes (" + std::to_string(options.max_body_bytes) + ")"),
                                  version, false);
        } else if (is_parse_error(rec)) {
          co_await write_response(*conn, stream, error_response(core::ErrorCode::invalid_argument, "malformed HTTP request: " + rec.message()), version, false);
        }
        break;
      }
      auto message = parser.release();
      Request request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      const std::size_t question = request.target.find('?');
      request.path = request.target.substr(0, question);
      if (question != std::string::npos) {
        request.query = request.target.substr(question + 1);
      }
      request.headers.reserve(8);
      for (const auto& field : message) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      request.body = std::move(message.body());
      request.remote_address = remote;
      Response response = co_await call_handler(std::move(request), conn->outlet);
      co_await write_response(*conn, stream, std::move(response), version, keep_alive && !draining);
      if (!keep_alive) {
        break;
      }
    }
  }

  asio::awaitable<void> session(std::shared_ptr<Connection> conn, std::uint64_t id) {
    beast::flat_buffer buffer(options.max_body_bytes + 2 * header_limit_bytes);
    std::string remote;
    {
      boost::system::error_code ec;
      auto endpoint = conn->lowest.socket().remote_endpoint(ec);
      if (!ec) {
        remote = endpoint.address().to_string();
      }
    }
    if (tls) {
      TlsStream stream(conn->lowest, *tls);
      conn->lowest.expires_after(ms(options.header_timeout_ms));
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
      if (!ec) {
        co_await serve(conn, stream, buffer, remote);
        conn->lowest.expires_after(std::chrono::seconds(2));
        auto [shutdown_ec] = co_await stream.async_shutdown(use_tuple);
        (void)shutdown_ec;
      } else {
        spdlog::debug("http: TLS handshake failed: {}", ec.message());
      }
    } else {
      co_await serve(conn, conn->lowest, buffer, remote);
      boost::system::error_code ignored;
      conn->lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    conn->lowest.close();
    std::lock_guard lock(mutex);
    connections.erase(id);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!draining) {
      const std::size_t index = next_io++ % connection_ios.size();
      // A worker context runs on one thread; the accepting context (tests, threads = 1) may run on
      // several, so its connections get a strand.
      const asio::any_io_executor executor = outlets[index] == nullptr ? asio::any_io_executor(asio::make_strand(io))
                                                                       : asio::any_io_executor(connection_ios[index]->get_executor());
      auto [ec, socket] = co_await acceptor.async_accept(executor, use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || draining) {
          break;
        }
        spdlog::warn("http: accept failed: {}", ec.message());
        asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      if (count() >= options.max_connections) {
        spdlog::warn("http: connection limit {} reached, refusing a connection", options.max_connections);
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto conn = std::make_shared<Connection>(std::move(socket), outlets[index].get());
      std::uint64_t id = 0;
      {
        std::lock_guard lock(mutex);
        id = next_id++;
        connections.emplace(id, conn);
      }
      asio::co_spawn(conn->lowest.get_executor(), session(conn, id), [self](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("http: connection ended by an exception: {}", ex.what());
          }
        }
      });
    }
  }
};

Server::Server(asio::io_context& io, std::vector<asio::io_context*> connection_ios, ServerOptions options, Handler handler)
    : state_(std::make_shared<State>(io, std::move(connection_ios), std::move(options), std::move(handler))) {}

Server::~Server() = default;

std::uint16_t Server::listen() {
  auto& s = *state_;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.options.listen_host, ec);
  if (ec) {
    throw std::system_error(ec, "invalid listen address \"" + s.options.listen_host + "\"");
  }
  const tcp::endpoint endpoint(address, s.options.listen_port);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(asio::socket_base::reuse_address(true));
  s.acceptor.bind(endpoint, ec);
  if (ec) {
    throw std::system_error(ec, "cannot listen on " + s.options.listen_host + ":" + std::to_string(s.options.listen_port));
  }
  s.acceptor.listen(asio::socket_base::max_listen_connections);
  return s.acceptor.local_endpoint().port();
}

void Server::start() {
  asio::co_spawn(state_->acceptor.get_executor(), state_->accept_loop(), asio::detached);
}

void Server::drain(std::function<void()> done) {
  auto s = state_;
  s->draining = true;
  asio::post(s->acceptor.get_executor(), [s] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
  });
  auto close_connections = [s](bool only_idle) {
    std::lock_guard lock(s->mutex);
    for (auto& [id, weak] : s->connections) {
      if (auto conn = weak.lock()) {
        asio::post(conn->lowest.get_executor(), [conn, only_idle] {
          if (!only_idle || conn->idle) {
            conn->lowest.cancel();
          }
        });
      }
    }
  };
  close_connections(true);
  const auto deadline = std::chrono::steady_clock::now() + ms(s->options.drain_timeout_ms);
  auto timer = std::make_shared<asio::steady_timer>(s->io);
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [s, timer, poll, deadline, done = std::move(done), close_connections]() mutable {
    if (s->count() == 0) {
      done();
      *poll = nullptr;  // break the self-reference
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("http: drain timeout, closing {} connection(s)", s->count());
      close_connections(false);
    } else {
      close_connections(true);  // connections that went idle since
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([poll](const boost::system::error_code&) {
      if (*poll) {
        (*poll)();
      }
    });
  };
  (*poll)();
}

std::size_t Server::connection_count() const { return state_->count(); }

}  // namespace router::adapters::http
