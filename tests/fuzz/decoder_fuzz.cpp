// libFuzzer target for one platform decoder (chosen at compile time with -DFUZZ_FORMAT=...).
// Built and run by scripts/fuzz. A decoder must never crash, hang or read out of bounds; whatever it
// accepts must be a well-formed event.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/platforms/decoders.hpp"

using namespace router::adapters::platforms;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  DecodeOptions options;
  options.default_workspace = "ws-1";
  options.source = "fuzz";
  auto result = decode_webhook(Format::FUZZ_FORMAT, input, options);
  if (result.ok()) {
    for (const auto& event : *result) {
      // Invariants of a decoded event.
      const bool about_agent = event.type == router::core::InboundType::agent_status ||
                               event.type == router::core::InboundType::agent_disconnect;
      if (!about_agent && (event.workspace_id.empty() || event.conversation_id.empty())) std::abort();
      if (event.skills && event.skills->size() > max_skills) std::abort();
      if (event.text.size() > max_text_bytes) std::abort();
    }
  } else if (result.error().message.empty()) {
    std::abort();  // every refusal says why
  }
  return 0;
}
