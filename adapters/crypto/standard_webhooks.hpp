// Standard Webhooks signatures (standardwebhooks.com): the key a "whsec_..." secret stands for and
// the "v1,<base64 HMAC-SHA256>" signature of "<id>.<timestamp>.<body>". Outbound callbacks sign
// with it; inbound webhooks are verified against it (adapters/http/auth).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace router::adapters::crypto {

// The HMAC key of a secret: base64 after an optional "whsec_" prefix, else the bytes as they are.
std::string standard_webhook_key(std::string_view secret);

// The signature a sender puts in "webhook-signature".
std::string sign_standard_webhook(std::string_view secret, std::string_view id, std::int64_t timestamp_seconds,
                                  std::string_view body);

}  // namespace router::adapters::crypto
