#include "adapters/crypto/standard_webhooks.hpp"

#include "adapters/crypto/crypto.hpp"

namespace router::adapters::crypto {

std::string standard_webhook_key(std::string_view secret) {
  if (secret.substr(0, 6) == "whsec_") {
    secret.remove_prefix(6);
  }
  if (auto decoded = base64_decode(secret)) {
    return *decoded;
  }
  return std::string(secret);  // not base64: use the bytes as they are
}

std::string sign_standard_webhook(std::string_view secret, std::string_view id, std::int64_t timestamp_seconds,
                                  std::string_view body) {
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp_seconds)).append(".").append(body);
  const Digest mac = hmac_sha256(standard_webhook_key(secret), content);
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

}  // namespace router::adapters::crypto
