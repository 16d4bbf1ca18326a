#include "adapters/redis/stream_consumer.hpp"

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "adapters/platforms/canonical.hpp"

namespace router::adapters::redis {

namespace asio = boost::asio;

namespace {
constexpr int batch = 100;
constexpr auto block_ms = std::chrono::milliseconds(1000);

std::string default_consumer() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string("router-") + host;
}
}  // namespace

// Acknowledgements wait on the core thread until the entry is durable, then run on the connection.
class AckOutlet final : public engine::AnswerOutlet {
 public:
  explicit AckOutlet(Connection& connection) : connection_(connection) {}
  void deliver(std::vector<std::function<void()>> acks) override {
    connection_.dispatch([acks = std::move(acks)] {
      for (const auto& ack : acks) ack();
    });
  }

 private:
  Connection& connection_;
};

struct StreamConsumer::State : std::enable_shared_from_this<State> {
  State(asio::io_context& io, RedisOptions opts, engine::Engine& e)
      : options(std::move(opts)), engine(e), connection(io, options, "input-stream"), retry(io), outlet(connection) {
    if (options.consumer.empty()) options.consumer = default_consumer();
  }

  RedisOptions options;
  engine::Engine& engine;
  Connection connection;
  asio::steady_timer retry;
  AckOutlet outlet;
  std::uint64_t generation = 0;  // bumps on every (re)connect: stale loops stop
  std::chrono::steady_clock::time_point last_claim{};
  bool stopping = false;

  void on_state(bool up) {
    ++generation;
    if (!up || stopping) return;
    const std::uint64_t gen = generation;
    // From the start of the stream: events producers wrote before the first start are consumed too.
    connection.command({"XGROUP", "CREATE", options.input_stream, options.group, "0", "MKSTREAM"},
                       [self = shared_from_this(), gen](const RedisValue* reply) {
                         if (reply == nullptr || gen != self->generation) return;
                         if (reply->is_error() && reply->str.rfind("BUSYGROUP", 0) != 0) {
                           spdlog::error("redis input stream: XGROUP CREATE failed: {}", reply->str);
                         }
                         self->read("0", gen);  // our own pending entries first
                       });
  }

  void read(const std::string& from, std::uint64_t gen) {
    if (gen != generation || stopping) return;
    if (from == ">" && std::chrono::steady_clock::now() - last_claim > std::chrono::milliseconds(options.claim_idle_ms / 2 + 1)) {
      return claim("0-0", gen);
    }
    std::vector<std::string> command{"XREADGROUP", "GROUP", options.group, options.consumer, "COUNT", std::to_string(batch)};
    if (from == ">") {
      command.insert(command.end(), {"BLOCK", std::to_string(block_ms.count())});
    }
    command.insert(command.end(), {"STREAMS", options.input_stream, from});
    const bool sent = connection.command(
        command,
        [self = shared_from_this(), from, gen](const RedisValue* reply) {
          if (reply == nullptr || gen != self->generation) return;
          if (reply->is_error()) {
            spdlog::warn("redis input stream: XREADGROUP: {}", reply->str);
            return self->later([self, gen] { self->on_state(true); });
          }
          std::size_t entries = 0;
          bool refused = false;
          if (reply->type == RedisValue::Type::array && !reply->elements.empty()) {
            const RedisValue& stream = reply->elements[0];
            if (stream.elements.size() == 2) {
              for (const RedisValue& entry : stream.elements[1].elements) {
                ++entries;
                if (!self->handle(entry)) {
                  refused = true;
                  break;
                }
              }
            }
          }
          if (refused) {
            // The engine is at capacity: leave the rest pending, read them again shortly.
            return self->later([self, gen] { self->read("0", gen); });
          }
          // Pending entries drained: switch to new ones.
          self->read(from == "0" && entries == 0 ? ">" : from, gen);
        },
        block_ms + std::chrono::milliseconds(5000));
    if (!sent) later([self = shared_from_this(), from, gen] { self->read(from, gen); });
  }

  void claim(const std::string& cursor, std::uint64_t gen) {
    last_claim = std::chrono::steady_clock::now();
    connection.command({"XAUTOCLAIM", options.input_stream, options.group, options.consumer,
                        std::to_string(options.claim_idle_ms), cursor, "COUNT", std::to_string(batch)},
                       [self = shared_from_this(), gen](const RedisValue* reply) {
                         if (reply == nullptr || gen != self->generation) return;
                         if (reply->is_error() || reply->elements.size() < 2) {
                           if (reply->is_error()) spdlog::warn("redis input stream: XAUTOCLAIM: {}", reply->str);
                           return self->read(">", gen);
                         }
                         std::size_t claimed = 0;
                         for (const RedisValue& entry : reply->elements[1].elements) {
                           if (entry.type != RedisValue::Type::array) continue;  // deleted meanwhile
                           ++claimed;
                           if (!self->handle(entry)) break;
                         }
                         if (claimed != 0) {
                           spdlog::info("redis input stream: claimed {} entries pending at a dead consumer", claimed);
                         }
                         const std::string next = reply->elements[0].str;
                         if (next != "0-0" && claimed != 0) return self->claim(next, gen);
                         self->read(">", gen);
                       });
  }

  // One entry [id, [field, value, ...]]. Returns false when the engine refused it (at capacity).
  bool handle(const RedisValue& entry) {
    if (entry.type != RedisValue::Type::array || entry.elements.size() != 2) return true;
    const std::string id = entry.elements[0].str;
    const RedisValue& fields = entry.elements[1];
    std::string payload;
    bool found = false;
    for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      if (fields.elements[i].str == "event") {
        payload = fields.elements[i + 1].str;
        found = true;
      }
    }
    auto decoded = found ? platforms::decode_canonical(payload, platforms::DecodeOptions{})
                         : core::Result<std::vector<core::InboundEvent>>(core::invalid_argument("entry has no \"event\" field"));
    if (!decoded) {
      dead_letter(id, decoded.error().message, payload);
      return true;
    }
    std::vector<core::Command> commands;
    std::size_t index = 0;
    for (core::InboundEvent& event : decoded.value()) {
      if (event.event_id.empty()) {
        event.event_id = "stream:" + options.input_stream + ":" + id + (decoded->size() > 1 ? "#" + std::to_string(index) : "");
      }
      ++index;
      commands.emplace_back(std::move(event));
    }
    std::weak_ptr<State> weak = shared_from_this();
    return engine.submit_all(std::move(commands), [weak, id](const std::vector<core::Outcome>&, const core::Router&) {
      // Applied; acknowledged on the connection's strand once the journal has it.
      if (auto self = weak.lock()) {
        std::function<void()> ack = [self, id] { self->ack(id); };
        if (!engine::defer_answer(self->outlet, ack)) self->connection.dispatch(std::move(ack));
      }
    });
  }

  void ack(const std::string& id) {
    connection.command({"XACK", options.input_stream, options.group, id}, [id](const RedisValue* reply) {
      if (reply != nullptr && reply->is_error()) spdlog::warn("redis input stream: XACK {}: {}", id, reply->str);
    });
    // Not connected: the entry stays pending and is read again (and deduplicated) after reconnecting.
  }

  void dead_letter(const std::string& id, const std::string& error, const std::string& payload) {
    spdlog::warn("redis input stream: entry {} is malformed ({}); moved to {}:dead", id, error, options.input_stream);
    connection.command({"XADD", options.input_stream + ":dead", "*", "id", id, "error", error, "event", payload},
                       [self = shared_from_this(), id](const RedisValue* reply) {
                         if (reply == nullptr || reply->is_error()) return;  // not acked: retried later
                         self->ack(id);
                       });
  }

  void later(std::function<void()> fn) {
    retry.expires_after(std::chrono::milliseconds(200));
    retry.async_wait([self = shared_from_this(), fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec && !self->stopping) self->connection.dispatch(fn);
    });
  }
};

StreamConsumer::StreamConsumer(asio::io_context& io, RedisOptions options, engine::Engine& engine)
    : state_(std::make_shared<State>(io, std::move(options), engine)) {}

StreamConsumer::~StreamConsumer() { stop(); }

void StreamConsumer::start() {
  std::weak_ptr<State> weak = state_;
  state_->connection.on_state([weak](bool up) {
    if (auto s = weak.lock()) s->on_state(up);
  });
  state_->connection.start();
}

void StreamConsumer::close_now() {
  state_->stopping = true;
  state_->retry.cancel();
  state_->connection.close_now();
}

void StreamConsumer::stop() {
  state_->connection.dispatch([s = state_] {
    s->stopping = true;
    s->retry.cancel();
  });
  state_->connection.stop();
}

}  // namespace router::adapters::redis
