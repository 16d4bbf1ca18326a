#include "adapters/delivery/delivery_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <random>

#include "adapters/delivery/http_client.hpp"
#include "adapters/crypto/standard_webhooks.hpp"
#include "adapters/metrics/registry.hpp"
#include "adapters/platforms/encoders.hpp"
#include "adapters/storage/journal.hpp"
#include "router/core/json_writer.hpp"

namespace router::adapters::delivery {

namespace asio = boost::asio;

namespace {

core::TimestampMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Delivery {
  std::string id;  // the event id: also the Idempotency-Key
  std::string source;
  std::string workspace;
  std::string conversation;
  std::string event_type;
  std::string method;
  std::string url;
  std::string body;
  bool sign = false;
  core::TimestampMs created_at = 0;
  core::TimestampMs next_at = 0;
  std::uint32_t attempts = 0;
  bool dead = false;
  bool inflight = false;
  std::string last_error;

  std::string key() const { return source + '\x1f' + conversation; }
};

std::string record_json(const Delivery& d) {
  core::JsonWriter w;
  w.begin_object().field("op", "add").field("id", d.id).field("source", d.source).field("workspace", d.workspace);
  w.field("conversation", d.conversation).field("eventType", d.event_type).field("method", d.method).field("url", d.url);
  w.field("body", d.body).field("sign", d.sign).field("createdAt", d.created_at).field("attempts", d.attempts);
  w.field("dead", d.dead).field("lastError", d.last_error).end_object();
  return std::move(w).str();
}

std::string op_json(std::string_view op, const std::string& id, const std::string& error = "") {
  core::JsonWriter w;
  w.begin_object().field("op", op).field("id", id);
  if (!error.empty()) w.field("error", error);
  w.end_object();
  return std::move(w).str();
}

void write_view(core::JsonWriter& w, const Delivery& d) {
  w.begin_object().field("id", d.id).field("source", d.source).field("workspaceId", d.workspace);
  w.field("conversationId", d.conversation).field("eventType", d.event_type).field("method", d.method).field("url", d.url);
  w.field("state", d.dead ? "dead" : "pending").field("attempts", d.attempts);
  w.field("createdAt", core::format_rfc3339_ms(d.created_at));
  if (!d.dead) w.field("nextAttemptAt", core::format_rfc3339_ms(d.next_at));
  w.key("lastError");
  d.last_error.empty() ? w.null() : w.value(d.last_error);
  w.end_object();
}

}  // namespace

struct DeliveryService::State : std::enable_shared_from_this<State>, storage::RecoveryVisitor {
  State(asio::io_context& io, std::vector<platforms::SourceSpec> srcs, DeliveryOptions opts, storage::StorageOptions st)
      : options(opts),
        storage_options(std::move(st)),
        strand(asio::make_strand(io)),
        timer(strand),
        client(io, std::chrono::milliseconds(opts.connect_timeout_ms), std::chrono::milliseconds(opts.response_timeout_ms)) {
    set_sources(std::move(srcs));
  }

  DeliveryOptions options;
  storage::StorageOptions storage_options;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
  HttpClient client;
  std::map<std::string, platforms::SourceSpec> sources;
  std::map<std::string, platforms::ThreadFlags> threads;  // per source
  std::unique_ptr<storage::Journal> journal;
  std::map<std::string, Delivery> deliveries;                  // pending and dead, by id
  std::map<std::string, std::deque<std::string>> lines;        // pending ids per conversation, in order
  std::deque<std::string> dead_order;
  std::size_t inflight = 0;
  core::TimestampMs armed_for = -1;
  bool stopped = false;
  std::atomic<std::uint64_t> delivered{0}, failed{0}, dead_total{0}, pending_count{0};
  std::atomic<std::uint64_t> confirmed{0};  // events up to this one are recorded (or need no callback)
  std::mt19937 rng{std::random_device{}()};

  void set_sources(std::vector<platforms::SourceSpec> srcs) {
    sources.clear();
    for (auto& s : srcs) sources.emplace(s.name, std::move(s));
  }

  void persist(std::string record) {
    if (journal) journal->append(std::move(record), [] {});
  }

  // --- recovery (RecoveryVisitor): a snapshot is a sequence of "add" records, one per line
  void on_identity(std::uint64_t) override {}
  core::Status on_snapshot(std::uint64_t, std::string_view bytes) override {
    std::size_t start = 0;
    while (start < bytes.size()) {
      std::size_t end = bytes.find('\n', start);
      if (end == std::string_view::npos) end = bytes.size();
      if (auto status = on_record(0, bytes.substr(start, end - start)); !status) return status;
      start = end + 1;
    }
    return core::Ok{};
  }
  core::Status on_record(std::uint64_t, std::string_view payload) override {
    simdjson::dom::parser parser;
    const simdjson::padded_string padded(payload);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) return core::invalid_argument("unreadable delivery record");
    auto str = [&](const char* key) {
      std::string_view v;
      return root[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
    };
    const std::string op = str("op");
    const std::string id = str("id");
    if (op == "add") {
      Delivery d;
      d.id = id;
      d.source = str("source");
      d.workspace = str("workspace");
      d.conversation = str("conversation");
      d.event_type = str("eventType");
      d.method = str("method");
      d.url = str("url");
      d.body = str("body");
      bool flag = false;
      if (root["sign"].get_bool().get(flag) == simdjson::SUCCESS) d.sign = flag;
      if (root["dead"].get_bool().get(flag) == simdjson::SUCCESS) d.dead = flag;
      std::int64_t number = 0;
      if (root["createdAt"].get_int64().get(number) == simdjson::SUCCESS) d.created_at = number;
      std::uint64_t attempts = 0;
      if (root["attempts"].get_uint64().get(attempts) == simdjson::SUCCESS) d.attempts = static_cast<std::uint32_t>(attempts);
      d.last_error = str("lastError");
      add(std::move(d), false);
    } else if (op == "done") {
      remove(id);
    } else if (op == "dead") {
      auto it = deliveries.find(id);
      if (it != deliveries.end() && !it->second.dead) kill(it->second, str("error"), false);
    } else if (op == "retry") {
      auto it = deliveries.find(id);
      if (it != deliveries.end() && it->second.dead) revive(it->second, false);
    }
    return core::Ok{};
  }

  std::string snapshot_bytes() const {
    std::string out;
    // Pending in their line order first, then the dead.
    for (const auto& [key, ids] : lines) {
      for (const auto& id : ids) out += record_json(deliveries.at(id)) + "\n";
    }
    for (const auto& id : dead_order) out += record_json(deliveries.at(id)) + "\n";
    return out;
  }

  // --- state changes
  void add(Delivery d, bool durable) {
    if (deliveries.count(d.id) != 0) return;  // the same event twice (re-published): once is enough
    if (durable) persist(record_json(d));
    const std::string id = d.id;
    if (d.dead) {
      dead_order.push_back(id);
    } else {
      lines[d.key()].push_back(id);
      ++pending_count;
    }
    deliveries.emplace(id, std::move(d));
    trim_dead();
  }

  void remove(const std::string& id) {
    auto it = deliveries.find(id);
    if (it == deliveries.end()) return;
    if (!it->second.dead) {
      auto line = lines.find(it->second.key());
      if (line != lines.end()) {
        auto& ids = line->second;
        ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
        if (ids.empty()) lines.erase(line);
      }
      --pending_count;
    } else {
      dead_order.erase(std::remove(dead_order.begin(), dead_order.end(), id), dead_order.end());
    }
    deliveries.erase(it);
  }

  void kill(Delivery& d, const std::string& error, bool durable) {
    auto line = lines.find(d.key());
    if (line != lines.end()) {
      auto& ids = line->second;
      ids.erase(std::remove(ids.begin(), ids.end(), d.id), ids.end());
      if (ids.empty()) lines.erase(line);
    }
    --pending_count;
    d.dead = true;
    d.last_error = error;
    dead_order.push_back(d.id);
    ++dead_total;
    if (durable) {
      metrics::registry().counter("escalation_router_deliveries_total", "Callback attempts by outcome",
                                  {{"sink", "http"}, {"outcome", "dead"}}).add();
      persist(op_json("dead", d.id, error));
      spdlog::error("delivery dead-lettered: {} {} for conversation {} (source {}) after {} attempt(s): {}", d.method, d.url,
                    d.conversation, d.source, d.attempts, error);
    }
    trim_dead();
  }

  void revive(Delivery& d, bool durable) {
    dead_order.erase(std::remove(dead_order.begin(), dead_order.end(), d.id), dead_order.end());
    d.dead = false;
    d.attempts = 0;
    d.next_at = 0;
    lines[d.key()].push_back(d.id);
    ++pending_count;
    if (durable) persist(op_json("retry", d.id));
  }

  void trim_dead() {
    while (dead_order.size() > options.max_dead) {
      const std::string id = dead_order.front();
      dead_order.pop_front();
      deliveries.erase(id);
      persist(op_json("done", id));
    }
  }

  // --- sending
  void pump() {
    if (stopped) return;
    const core::TimestampMs now = now_ms();
    core::TimestampMs next = -1;
    for (auto& [key, ids] : lines) {
      if (ids.empty()) continue;
      Delivery& d = deliveries.at(ids.front());
      if (d.inflight) continue;  // one at a time per conversation: order holds under retries
      if (d.next_at > now) {
        next = next < 0 ? d.next_at : std::min(next, d.next_at);
        continue;
      }
      if (inflight >= options.concurrency) break;
      send(d);
    }
    if (next >= 0 && next != armed_for) {
      armed_for = next;
      timer.expires_after(std::chrono::milliseconds(std::max<core::TimestampMs>(1, next - now)));
      timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        self->armed_for = -1;
        self->pump();
      });
    }
  }

  void send(Delivery& d) {
    auto source = sources.find(d.source);
    if (source == sources.end() || !source->second.callback) {
      kill(d, "source \"" + d.source + "\" has no callback any more", true);
      return;
    }
    d.inflight = true;
    ++inflight;
    ++d.attempts;
    HttpCall call;
    call.method = d.method;
    call.url = d.url;
    call.body = d.body;
    call.ca_file = source->second.callback->ca_file;
    call.headers = platforms::callback_headers(source->second);
    call.headers.emplace_back("Idempotency-Key", d.id);
    if (d.sign) {
      const auto seconds = now_ms() / 1000;
      call.headers.emplace_back("webhook-id", d.id);
      call.headers.emplace_back("webhook-timestamp", std::to_string(seconds));
      call.headers.emplace_back("webhook-signature", crypto::sign_standard_webhook(source->second.callback->secret, d.id, seconds, d.body));
    }
    const auto started = std::chrono::steady_clock::now();
    client.send(std::move(call), [self = shared_from_this(), id = d.id, started](HttpResult result) {
      static auto& latency = metrics::registry().histogram("escalation_router_delivery_duration_seconds",
                                                           "Time of one callback attempt", {{"sink", "http"}});
      latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      asio::post(self->strand, [self, id, result = std::move(result)] { self->finished(id, result); });
    });
  }

  void finished(const std::string& id, const HttpResult& result) {
    --inflight;
    auto it = deliveries.find(id);
    if (it == deliveries.end()) return pump();
    Delivery& d = it->second;
    d.inflight = false;
    auto outcome = [](const char* name) {
      metrics::registry().counter("escalation_router_deliveries_total", "Callback attempts by outcome",
                                  {{"sink", "http"}, {"outcome", name}}).add();
    };
    if (result.status >= 200 && result.status < 300) {
      outcome("delivered");
      ++delivered;
      persist(op_json("done", id));
      remove(id);
      return pump();
    }
    const bool retryable = result.status == 0 || result.status == 408 || result.status == 429 || result.status >= 500;
    const std::string error = result.status == 0 ? result.error
                                                 : "HTTP " + std::to_string(result.status) +
                                                       (result.body_start.empty() ? "" : ": " + result.body_start);
    d.last_error = error;
    outcome("failed");
    ++failed;
    const core::TimestampMs now = now_ms();
    if (!retryable) {
      kill(d, error, true);
    } else if (d.attempts >= options.max_attempts || now - d.created_at >= options.max_age_ms) {
      kill(d, error + " (gave up after " + std::to_string(d.attempts) + " attempts)", true);
    } else {
      double delay = static_cast<double>(options.initial_backoff_ms) * static_cast<double>(1ULL << std::min<std::uint32_t>(d.attempts - 1, 30));
      delay = std::min(delay, static_cast<double>(options.max_backoff_ms));
      delay *= std::uniform_real_distribution<double>(0.8, 1.2)(rng);  // jitter: retries of many deliveries spread out
      if (result.retry_after_seconds >= 0) delay = std::max(delay, static_cast<double>(result.retry_after_seconds) * 1000.0);
      d.next_at = now + static_cast<core::TimestampMs>(delay);
      if (d.attempts == 1) {
        spdlog::warn("delivery: {} {} failed ({}); retrying", d.method, d.url, error);
      }
    }
    pump();
  }

  // --- events
  void accept(const core::OutboundEvent& event) {
    auto source = sources.find(event.source);
    if (source == sources.end()) return;
    auto request = platforms::encode_callback(source->second, event, threads[event.source]);
    if (!request) return;
    Delivery d;
    d.id = event.event_id;
    d.source = event.source;
    d.workspace = event.workspace_id;
    d.conversation = event.conversation_id;
    d.event_type = core::outbound_type_name(event.type);
    d.method = request->method;
    d.url = request->url;
    d.body = std::move(request->body);
    d.sign = request->sign_standard_webhook;
    d.created_at = now_ms();
    add(std::move(d), true);
  }
};

DeliveryService::DeliveryService(asio::io_context& io, std::vector<platforms::SourceSpec> sources, DeliveryOptions options,
                                 storage::StorageOptions storage)
    : state_(std::make_shared<State>(io, std::move(sources), options, std::move(storage))) {}

DeliveryService::~DeliveryService() {
  stop();
  state_->journal.reset();
}

core::Status DeliveryService::start() {
  State& s = *state_;
  metrics::registry().gauge("escalation_router_deliveries_pending", "Callbacks not yet delivered");
  metrics::registry().gauge("escalation_router_deliveries_dead", "Dead-lettered callbacks kept");
  std::weak_ptr<State> weak = state_;
  metrics::registry().add_collector([weak](metrics::GaugeWriter& g) {
    if (auto st = weak.lock()) {
      g.set("escalation_router_deliveries_pending", {}, static_cast<double>(st->pending_count.load()));
      g.set("escalation_router_deliveries_dead", {}, static_cast<double>(st->dead_total.load()));
    }
  });
  storage::StorageOptions options = s.storage_options;
  options.dir = options.dir + "/deliveries";
  options.snapshot_every = 0;
  storage::RecoveryReport report;
  auto journal = storage::Journal::open(options, s, report);
  if (!journal) return std::move(journal).error();
  s.journal = std::move(journal).value();
  // Compact: the current set as one snapshot; older segments go.
  s.journal->write_snapshot(s.journal->last_seq(), s.snapshot_bytes());
  if (s.pending_count != 0 || !s.dead_order.empty()) {
    spdlog::info("delivery: {} pending and {} dead deliveries recovered", s.pending_count.load(), s.dead_order.size());
  }
  asio::post(s.strand, [st = state_] { st->pump(); });
  return core::Ok{};
}

void DeliveryService::stop() {
  asio::post(state_->strand, [s = state_] {
    s->stopped = true;
    s->timer.cancel();
  });
}

void DeliveryService::reconfigure(std::vector<platforms::SourceSpec> sources) {
  asio::post(state_->strand, [s = state_, sources = std::move(sources)]() mutable { s->set_sources(std::move(sources)); });
}

void DeliveryService::publish(const engine::OutboundBatch& batch) {
  // Only the events of sources with a callback are copied and handed over.
  std::vector<core::OutboundEvent> events;
  for (const core::OutboundEvent& event : batch.events) {
    if (!event.source.empty()) events.push_back(event);
  }
  const std::uint64_t last = batch.events.empty() ? 0 : batch.events.back().sequence;
  asio::post(state_->strand, [s = state_, events = std::move(events), last] {
    for (const auto& event : events) s->accept(event);
    if (last > s->confirmed.load(std::memory_order_relaxed)) s->confirmed.store(last, std::memory_order_release);
    s->pump();
  });
}

void DeliveryService::resume_after(std::uint64_t sequence) { state_->confirmed.store(sequence, std::memory_order_release); }

std::uint64_t DeliveryService::confirmed_sequence() const { return state_->confirmed.load(std::memory_order_acquire); }

void DeliveryService::list(std::string state, std::vector<std::string> workspaces, std::function<void(std::string)> done) {
  asio::post(state_->strand, [s = state_, state = std::move(state), workspaces = std::move(workspaces), done = std::move(done)] {
    core::JsonWriter w;
    w.begin_object().key("data").begin_array();
    auto visible = [&](const Delivery& d) {
      return workspaces.empty() || std::find(workspaces.begin(), workspaces.end(), d.workspace) != workspaces.end();
    };
    if (state != "dead") {
      for (const auto& [key, ids] : s->lines) {
        for (const auto& id : ids) {
          if (visible(s->deliveries.at(id))) write_view(w, s->deliveries.at(id));
        }
      }
    }
    if (state != "pending") {
      for (const auto& id : s->dead_order) {
        if (visible(s->deliveries.at(id))) write_view(w, s->deliveries.at(id));
      }
    }
    w.end_array().end_object();
    done(std::move(w).str());
  });
}

void DeliveryService::retry(std::string id, std::vector<std::string> workspaces, std::function<void(core::Status, std::string)> done) {
  asio::post(state_->strand, [s = state_, id = std::move(id), workspaces = std::move(workspaces), done = std::move(done)] {
    auto it = s->deliveries.find(id);
    if (it == s->deliveries.end() ||
        (!workspaces.empty() && std::find(workspaces.begin(), workspaces.end(), it->second.workspace) == workspaces.end())) {
      return done(core::Status(core::not_found("delivery " + id + " not found")), "");
    }
    if (!it->second.dead) return done(core::Status(core::conflict("delivery " + id + " is not dead: it is still being delivered")), "");
    s->revive(it->second, true);
    core::JsonWriter w;
    write_view(w, it->second);
    done(core::Ok{}, std::move(w).str());
    s->pump();
  });
}

DeliveryService::Stats DeliveryService::stats() const {
  return {state_->delivered.load(), state_->failed.load(), state_->dead_total.load(), state_->pending_count.load()};
}

}  // namespace router::adapters::delivery
