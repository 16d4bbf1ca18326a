// A configured chat platform (config [[sources]]): its payload format, inbound auth and callback.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace router::adapters::platforms {

enum class Format : std::uint8_t { canonical, widget, conduit, chatbot_thread, invent };
const char* format_name(Format format) noexcept;
std::optional<Format> parse_format(std::string_view text) noexcept;

enum class AuthType : std::uint8_t { bearer, hmac, widget };

struct SourceAuth {
  AuthType type = AuthType::bearer;
  std::string secret;  // bearer token, whsec_ HMAC secret, or widget API key; never logged
  std::string bot_id;  // widget only
};

struct Callback {
  std::string url;      // base URL, http:// or https://
  std::string token;    // bearer token or widget API key; never logged
  std::string secret;   // Standard Webhooks signing secret (canonical format); never logged
  std::string bot_id;   // widget only
  std::string ca_file;  // optional: CA bundle to verify the peer instead of the system's
};

struct SourceSpec {
  std::string name;
  Format format = Format::canonical;
  std::string workspace;  // for payloads that carry none
  SourceAuth auth;
  std::optional<Callback> callback;
};

}  // namespace router::adapters::platforms
