// Inputs as bytes, for the journal: every input the core applied (its time included) is recorded,
// so replaying the records rebuilds exactly the same state.
#pragma once

#include <string>
#include <string_view>

#include "router/core/events.hpp"
#include "router/core/result.hpp"

namespace router::core {

std::string encode_input(const Input& input);
Result<Input> decode_input(std::string_view bytes);

}  // namespace router::core
