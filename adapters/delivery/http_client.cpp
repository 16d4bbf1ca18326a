#include "adapters/delivery/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

namespace router::adapters::delivery {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

std::optional<Url> parse_url(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  const std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  const std::size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (!u.host.empty() && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty()) return std::nullopt;
  return u;
}

// One open connection, plain or TLS.
struct Connection {
  explicit Connection(asio::any_io_executor ex) : tcp(ex) {}
  beast::tcp_stream tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream&>> tls;
};

}  // namespace

struct HttpClient::State : std::enable_shared_from_this<State> {
  State(asio::io_context& context, std::chrono::milliseconds connect, std::chrono::milliseconds response)
      : io(context), connect_timeout(connect), response_timeout(response) {}

  asio::io_context& io;
  std::chrono::milliseconds connect_timeout;
  std::chrono::milliseconds response_timeout;
  std::mutex mutex;
  std::multimap<std::string, std::unique_ptr<Connection>> idle;  // key: scheme host port ca
  std::map<std::string, std::shared_ptr<asio::ssl::context>> tls_contexts;

  std::shared_ptr<asio::ssl::context> tls_context(const std::string& ca_file, std::string& error) {
    std::lock_guard lock(mutex);
    auto& ctx = tls_contexts[ca_file];
    if (!ctx) {
      auto fresh = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
      SSL_CTX_set_min_proto_version(fresh->native_handle(), TLS1_2_VERSION);
      fresh->set_verify_mode(asio::ssl::verify_peer);
      boost::system::error_code ec;
      if (ca_file.empty()) {
        fresh->set_default_verify_paths(ec);
      } else {
        fresh->load_verify_file(ca_file, ec);
      }
      if (ec) {
        error = "cannot load the CA certificates: " + ec.message();
        return nullptr;
      }
      ctx = std::move(fresh);
    }
    return ctx;
  }

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    std::lock_guard lock(mutex);
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto conn = std::move(it->second);
    idle.erase(it);
    return conn;
  }

  void give_back(const std::string& key, std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mutex);
    if (idle.count(key) < 8) idle.emplace(key, std::move(conn));
  }

  asio::awaitable<HttpResult> run(HttpCall call) {
    HttpResult result;
    auto url = parse_url(call.url);
    if (!url) {
      result.error = "invalid callback URL";
      co_return result;
    }
    const std::string key = (url->tls ? "https " : "http ") + url->host + " " + url->port + " " + call.ca_file;
    bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(call.method), url->target, 11};
    request.set(bhttp::field::host, url->host);
    request.set(bhttp::field::user_agent, "escalation-routerd");
    request.set(bhttp::field::content_type, "application/json");
    for (const auto& [name, value] : call.headers) request.set(name, value);
    request.body() = call.body;
    request.keep_alive(true);
    request.prepare_payload();

    // A reused connection may have been closed by the peer meanwhile: one fresh retry then.
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Connection> conn = attempt == 0 ? take_idle(key) : nullptr;
      const bool reused = conn != nullptr;
      if (!conn) {
        conn = std::make_unique<Connection>(asio::make_strand(io));
        tcp::resolver resolver(conn->tcp.get_executor());
        auto [rec, endpoints] = co_await resolver.async_resolve(url->host, url->port, use_tuple);
        if (rec) {
          result.error = "cannot resolve " + url->host + ": " + rec.message();
          co_return result;
        }
        conn->tcp.expires_after(connect_timeout);
        auto [cec, endpoint] = co_await conn->tcp.async_connect(endpoints, use_tuple);
        (void)endpoint;
        if (cec) {
          result.error = "cannot connect to " + url->host + ":" + url->port + ": " + cec.message();
          co_return result;
        }
        if (url->tls) {
          std::string error;
          auto ctx = tls_context(call.ca_file, error);
          if (!ctx) {
            result.error = error;
            co_return result;
          }
          conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream&>>(conn->tcp, *ctx);
          SSL_set_tlsext_host_name(conn->tls->native_handle(), url->host.c_str());  // SNI
          conn->tls->set_verify_callback(asio::ssl::host_name_verification(url->host));
          conn->tcp.expires_after(connect_timeout);
          auto [hec] = co_await conn->tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
          if (hec) {
            result.error = "TLS handshake with " + url->host + " failed: " + hec.message();
            co_return result;
          }
        }
      }
      beast::flat_buffer buffer;
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(1 << 20);
      conn->tcp.expires_after(response_timeout);
      boost::system::error_code ec;
      if (conn->tls) {
        std::tie(ec, std::ignore) = co_await bhttp::async_write(*conn->tls, request, use_tuple);
        if (!ec) std::tie(ec, std::ignore) = co_await bhttp::async_read(*conn->tls, buffer, parser, use_tuple);
      } else {
        std::tie(ec, std::ignore) = co_await bhttp::async_write(conn->tcp, request, use_tuple);
        if (!ec) std::tie(ec, std::ignore) = co_await bhttp::async_read(conn->tcp, buffer, parser, use_tuple);
      }
      if (ec) {
        if (reused && (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
                       ec == asio::error::broken_pipe || ec == asio::error::eof)) {
          continue;  // the idle connection had been closed: try once on a fresh one
        }
        result.error = ec == beast::error::timeout ? "no response within the timeout" : "request failed: " + ec.message();
        co_return result;
      }
      auto response = parser.release();
      result.status = static_cast<int>(response.result_int());
      const auto retry_after = response[bhttp::field::retry_after];
      if (!retry_after.empty() && std::all_of(retry_after.begin(), retry_after.end(), ::isdigit) && retry_after.size() < 10) {
        result.retry_after_seconds = std::stoll(std::string(retry_after));
      }
      result.body_start = response.body().substr(0, 200);
      if (response.keep_alive()) give_back(key, std::move(conn));
      co_return result;
    }
    result.error = "the connection was closed by the peer";
    co_return result;
  }
};

HttpClient::HttpClient(asio::io_context& io, std::chrono::milliseconds connect_timeout, std::chrono::milliseconds response_timeout)
    : state_(std::make_shared<State>(io, connect_timeout, response_timeout)) {}

HttpClient::~HttpClient() = default;

void HttpClient::send(HttpCall call, std::function<void(HttpResult)> done) {
  auto self = state_;
  asio::co_spawn(asio::make_strand(state_->io), self->run(std::move(call)),
                 [self, done = std::move(done)](std::exception_ptr e, HttpResult result) {
                   if (e) {
                     result = HttpResult{};
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       result.error = std::string("client error: ") + ex.what();
                     }
                   }
                   done(std::move(result));
                 });
}

}  // namespace router::adapters::delivery
