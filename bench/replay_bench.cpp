// Restart cost (SPEC §10): replay speed of journal records and time to ready with N records after
// the last snapshot. Writes a real journal in a temporary directory (fsync none while writing),
// then measures Journal::open + replay into a fresh Router, as the daemon does at start.
//   build/bench/bench/replay_bench [records=1000000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "adapters/storage/journal.hpp"
#include "router/core/input_codec.hpp"
#include "router/core/router.hpp"

using namespace router;

namespace {

core::RuleSet rules() {
  core::RuleSet r;
  core::QueueSpec q;
  q.name = "general";
  q.agents.text = "escalation.language in agent.languages";
  r.queues = {q};
  core::RouteSpec route;
  route.name = "default";
  route.when.text = "true";
  route.queue = "general";
  r.routes = {route};
  for (int i = 0; i < 200; ++i) {
    core::AgentSpec a;
    a.id = "agent-" + std::to_string(i);
    a.workspaces = {"ws-" + std::to_string(i % 10)};
    a.languages = {"en", i % 2 ? "vi" : "fr"};
    a.capacity = 5;
    a.status = core::AgentStatus::available;
    r.agents.push_back(a);
  }
  return r;
}

// A steady mix: arrivals, customer messages, resolutions (state stays bounded).
core::Command input(std::uint64_t n, const core::Router& router) {
  const std::uint64_t conversation = n / 4;
  const std::string ws = "ws-" + std::to_string(conversation % 10);
  const std::string conv = "conv-" + std::to_string(conversation);
  switch (n % 4) {
    case 0: {
      core::InboundEvent e;
      e.type = core::InboundType::escalation_requested;
      e.workspace_id = ws;
      e.conversation_id = conv;
      e.language = conversation % 2 ? "vi" : "en";
      e.contact = core::Contact{"cust-" + std::to_string(conversation % 5000), "Nguyen Van A", {}};
      e.text = "Can I check in before 3 PM tomorrow?";
      return e;
    }
    case 1:
    case 2: {
      core::InboundEvent e;
      e.type = core::InboundType::message;
      e.workspace_id = ws;
      e.conversation_id = conv;
      e.text = "Any news?";
      return e;
    }
    default: {
      const core::Escalation* esc = router.find_open_escalation(ws, conv);
      return core::ResolveCommand{esc != nullptr ? esc->id.str() : std::string("none"), "done"};
    }
  }
}

struct Replay final : adapters::storage::RecoveryVisitor {
  core::Router router;
  bool with_events = false;  // as the daemon replays when a durable sink's mark is behind (the outbox)
  core::Outcome outcome;
  void on_identity(std::uint64_t seed) override { router = core::Router(core::RouterOptions{seed}); }
  core::Status on_snapshot(std::uint64_t, std::string_view bytes) override {
    auto r = core::Router::restore(bytes);
    if (!r) return std::move(r).error();
    router = std::move(r).value();
    return core::Ok{};
  }
  core::Status on_record(std::uint64_t, std::string_view payload) override {
    auto in = core::decode_input(payload);
    if (!in) return std::move(in).error();
    if (with_events) {
      router.apply(*in, outcome);
    } else {
      router.apply_quietly(*in);
    }
    return core::Ok{};
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t records = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  char pattern[] = "/tmp/replay-bench-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  adapters::storage::StorageOptions options;
  options.dir = dir;
  options.fsync = adapters::storage::FsyncMode::none;
  {
    Replay fresh;
    adapters::storage::RecoveryReport report;
    auto journal = adapters::storage::Journal::open(options, fresh, report);
    if (!journal) return std::fprintf(stderr, "%s\n", journal.error().message.c_str()), 1;
    core::Router& router = fresh.router;
    core::TimestampMs now = 1'773'309'900'000;
    auto first = core::Input{now, core::ReloadRulesCommand{rules()}};
    router.apply(first);
    (*journal)->append(core::encode_input(first));
    // A snapshot first, then `records` records after it: all of them must be replayed.
    (*journal)->write_snapshot(1, router.snapshot());
    for (std::uint64_t n = 0; n < records; ++n) {
      now += 3;
      const core::Input in{now, input(n, router)};
      router.apply(in);
      (*journal)->append(core::encode_input(in));
      if (n % 4096 == 0) (*journal)->commit(nullptr);
    }
    (*journal)->flush();
    std::printf("wrote %llu records after a snapshot; %zu open escalations\n", static_cast<unsigned long long>(records),
                router.open_escalation_count());
  }
  std::uintmax_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) bytes += e.file_size();
  const auto start = std::chrono::steady_clock::now();
  Replay replay;
  replay.with_events = argc > 2 && std::string_view(argv[2]) == "--with-events";
  adapters::storage::RecoveryReport report;
  auto journal = adapters::storage::Journal::open(options, replay, report);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!journal) return std::fprintf(stderr, "%s\n", journal.error().message.c_str()), 1;
  std::printf("journal: %.1f MiB; recovered: snapshot at %llu, %llu records replayed in %.3f s = %.0f records/s\n",
              static_cast<double>(bytes) / (1 << 20), static_cast<unsigned long long>(report.snapshot_seq),
              static_cast<unsigned long long>(report.records_replayed), seconds,
              static_cast<double>(report.records_replayed) / seconds);
  journal->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
