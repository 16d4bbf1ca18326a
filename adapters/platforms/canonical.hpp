// The canonical event format (SPEC §3): decoding `POST /v1/events` bodies, Redis stream entries and
// `simulate` input lines into core InboundEvents. Every byte is validated (simdjson DOM); errors
// name the offending field ("events[3].priority: must be an integer").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "router/core/events.hpp"
#include "router/core/result.hpp"

namespace router::adapters::platforms {

struct DecodeOptions {
  std::string default_workspace;  // for payloads that carry none (a source's workspace)
  std::string source;             // stamped on events that name none
  std::size_t max_batch = 1000;
};

// One canonical event object, or {"events": [...]} (all-or-nothing: one bad event fails the batch).
core::Result<std::vector<core::InboundEvent>> decode_canonical(std::string_view json, const DecodeOptions& options);

// Limits on canonical fields (also used by other formats' decoders).
inline constexpr std::size_t max_id_bytes = 256;
inline constexpr std::size_t max_text_bytes = 64 * 1024;
inline constexpr std::size_t max_skills = 32;
inline constexpr std::size_t max_attributes = 64;

}  // namespace router::adapters::platforms
