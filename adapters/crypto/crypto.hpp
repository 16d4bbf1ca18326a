// Small cryptographic helpers over OpenSSL: digests, HMAC, base64, constant-time comparison.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace router::adapters::crypto {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view data);
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);  // standard alphabet, padding required
bool constant_time_equals(const Digest& a, const Digest& b);
// Equal strings, in time that depends only on the lengths (compares digests).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace router::adapters::crypto
