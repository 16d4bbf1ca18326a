// Who is calling: API bearer tokens ([[tokens]]) with scopes and workspace restriction, and each
// source's own webhook authentication (bearer, Standard Webhooks HMAC, widget API key + bot id).
// Every secret comparison is constant-time; no secret is ever logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/http/auth_options.hpp"
#include "adapters/crypto/crypto.hpp"
#include "adapters/http/message.hpp"
#include "adapters/platforms/source_options.hpp"
#include "router/core/time.hpp"

namespace router::adapters::http {

struct Principal {
  std::string name;
  std::uint8_t scopes = 0;
  bool all_workspaces = true;
  std::vector<std::string> workspaces;

  bool has(Scope scope) const { return (scopes & static_cast<std::uint8_t>(scope)) != 0; }
  bool allows(std::string_view workspace) const;
};

class TokenAuthenticator {
 public:
  explicit TokenAuthenticator(const std::vector<TokenSpec>& tokens);
  // From "Authorization: Bearer <token>"; nullopt when absent or unknown.
  std::optional<Principal> authenticate(const Request& request) const;
  bool empty() const { return tokens_.empty(); }

 private:
  struct Entry {
    crypto::Digest digest;
    Principal principal;
  };
  std::vector<Entry> tokens_;
};

// Standard Webhooks: "webhook-id", "webhook-timestamp", "webhook-signature: v1,<base64> ...".
// The secret is "whsec_<base64>" (or bare base64). Tolerance: 300 s either way.
struct WebhookVerification {
  bool ok = false;
  std::string why;         // for the 401 message: what was wrong, never the secret
  std::string webhook_id;  // idempotency key when ok
};
WebhookVerification verify_standard_webhook(std::string_view secret, const Request& request, core::TimestampMs now_ms,
                                            core::DurationMs tolerance_ms = 300'000);
// A source's inbound auth. Returns "" when authenticated, else why not.
std::string verify_source_auth(const platforms::SourceSpec& source, const Request& request, core::TimestampMs now_ms,
                               std::string* idempotency_key);

}  // namespace router::adapters::http
