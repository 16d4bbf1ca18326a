#include "adapters/http/auth.hpp"

#include <algorithm>

#include "adapters/crypto/standard_webhooks.hpp"

namespace router::adapters::http {

using crypto::constant_time_equals;
using crypto::sha256;
using crypto::sign_standard_webhook;

namespace {

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view prefix = "Bearer ";
  if (authorization.size() > prefix.size() && iequals(authorization.substr(0, prefix.size()), prefix)) {
    return authorization.substr(prefix.size());
  }
  return {};
}

}  // namespace

bool Principal::allows(std::string_view workspace) const {
  return all_workspaces || std::find(workspaces.begin(), workspaces.end(), workspace) != workspaces.end();
}

TokenAuthenticator::TokenAuthenticator(const std::vector<TokenSpec>& tokens) {
  for (const TokenSpec& t : tokens) {
    tokens_.push_back({sha256(t.secret), Principal{t.name, t.scopes, t.all_workspaces, t.workspaces}});
  }
}

std::optional<Principal> TokenAuthenticator::authenticate(const Request& request) const {
  const std::string_view token = bearer_token(request.header("Authorization"));
  if (token.empty()) {
    return std::nullopt;
  }
  const crypto::Digest presented = sha256(token);
  std::optional<Principal> found;
  for (const Entry& entry : tokens_) {  // no early exit: the time does not tell which token matched
    if (constant_time_equals(entry.digest, presented) && !found) {
      found = entry.principal;
    }
  }
  return found;
}

WebhookVerification verify_standard_webhook(std::string_view secret, const Request& request, core::TimestampMs now_ms,
                                            core::DurationMs tolerance_ms) {
  WebhookVerification out;
  const std::string_view id = request.header("webhook-id");
  const std::string_view timestamp = request.header("webhook-timestamp");
  const std::string_view signatures = request.header("webhook-signature");
  if (id.empty() || timestamp.empty() || signatures.empty()) {
    out.why = "missing webhook-id, webhook-timestamp or webhook-signature header";
    return out;
  }
  std::int64_t seconds = 0;
  if (timestamp.size() > 12) {
    out.why = "invalid webhook-timestamp";
    return out;
  }
  for (char c : timestamp) {
    if (c < '0' || c > '9') {
      out.why = "invalid webhook-timestamp";
      return out;
    }
    seconds = seconds * 10 + (c - '0');
  }
  if (std::llabs(now_ms - seconds * 1000) > tolerance_ms) {
    out.why = "webhook-timestamp is outside the 5-minute tolerance";
    return out;
  }
  const std::string expected = sign_standard_webhook(secret, id, seconds, request.body);
  bool matched = false;
  std::size_t start = 0;
  while (start < signatures.size()) {
    std::size_t end = signatures.find(' ', start);
    if (end == std::string_view::npos) end = signatures.size();
    const std::string_view candidate = signatures.substr(start, end - start);
    if (candidate.substr(0, 3) == "v1," && constant_time_equals(candidate, expected)) {
      matched = true;
    }
    start = end + 1;
  }
  if (!matched) {
    out.why = "no valid v1 signature in webhook-signature";
    return out;
  }
  out.ok = true;
  out.webhook_id = std::string(id);
  return out;
}

std::string verify_source_auth(const platforms::SourceSpec& source, const Request& request, core::TimestampMs now_ms,
                               std::string* idempotency_key) {
  switch (source.auth.type) {
    case platforms::AuthType::bearer: {
      const std::string_view token = bearer_token(request.header("Authorization"));
      if (token.empty()) return "missing Authorization: Bearer <token>";
      return constant_time_equals(token, source.auth.secret) ? "" : "invalid token";
    }
    case platforms::AuthType::widget: {
      std::string_view key = request.header("Authorization");
      if (!bearer_token(key).empty()) key = bearer_token(key);
      const std::string_view bot = request.header("botid");
      if (key.empty() || bot.empty()) return "missing Authorization or botid header";
      const bool key_ok = constant_time_equals(key, source.auth.secret);
      const bool bot_ok = constant_time_equals(bot, source.auth.bot_id);
      return key_ok && bot_ok ? "" : "invalid API key or bot id";
    }
    case platforms::AuthType::hmac: {
      WebhookVerification v = verify_standard_webhook(source.auth.secret, request, now_ms);
      if (!v.ok) return v.why;
      if (idempotency_key != nullptr) *idempotency_key = "webhook:" + source.name + ":" + v.webhook_id;
      return "";
    }
  }
  return "unsupported auth";
}

}  // namespace router::adapters::http
