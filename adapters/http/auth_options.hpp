// API tokens (config [[tokens]]): a bearer secret, its scopes and the workspaces it may see.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace router::adapters::http {

enum class Scope : std::uint8_t { ingest = 1, operate = 2, admin = 4 };

struct TokenSpec {
  std::string name;
  std::string secret;  // never logged
  std::uint8_t scopes = 0;  // bit set of Scope
  bool all_workspaces = true;
  std::vector<std::string> workspaces;  // when !all_workspaces
};

}  // namespace router::adapters::http
