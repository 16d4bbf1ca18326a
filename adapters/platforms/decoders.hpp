// One decoder per platform format: a webhook body in the platform's own shape -> canonical events.
// A payload that means nothing to the router (an Invent chat still handled by the AI) decodes to
// no event. Errors name the field.
#pragma once

#include <string_view>
#include <vector>

#include "adapters/platforms/canonical.hpp"
#include "adapters/platforms/source_options.hpp"

namespace router::adapters::platforms {

core::Result<std::vector<core::InboundEvent>> decode_widget(std::string_view json, const DecodeOptions& options);
core::Result<std::vector<core::InboundEvent>> decode_conduit(std::string_view json, const DecodeOptions& options);
core::Result<std::vector<core::InboundEvent>> decode_chatbot_thread(std::string_view json, const DecodeOptions& options);
core::Result<std::vector<core::InboundEvent>> decode_invent(std::string_view json, const DecodeOptions& options);

// Dispatches on the source's format.
core::Result<std::vector<core::InboundEvent>> decode_webhook(Format format, std::string_view json, const DecodeOptions& options);

}  // namespace router::adapters::platforms
