// docs/openapi.yaml lists exactly the routes the server has, and the server answers each of them.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <set>

#include "adapters/http/api.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

namespace router::testing {
namespace {

using namespace std::chrono_literals;

std::set<std::string> documented_routes() {
  std::ifstream in(std::string(ROUTER_SOURCE_DIR) + "/docs/openapi.yaml");
  std::set<std::string> out;
  std::string line;
  std::string path;
  const std::regex path_line(R"(^  (/\S*):\s*$)");
  const std::regex method_line(R"(^    (get|post|put|patch|delete):\s*$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (std::regex_match(line, m, method_line) && !path.empty()) {
      std::string method = m[1];
      for (char& c : method) c = static_cast<char>(std::toupper(c));
      out.insert(method + " " + path);
    }
  }
  return out;
}

TEST(OpenApi, TheDocumentListsEveryRouteOfTheServerAndNoOther) {
  std::set<std::string> served;
  for (const auto& route : adapters::http::api_routes()) served.insert(std::string(route.method) + " " + route.path);
  const std::set<std::string> documented = documented_routes();
  ASSERT_FALSE(documented.empty());
  for (const auto& r : served) EXPECT_EQ(documented.count(r), 1u) << r << " is served but not documented";
  for (const auto& r : documented) EXPECT_EQ(served.count(r), 1u) << r << " is documented but not served";
}

TEST(OpenApi, TheServerAnswersEveryDocumentedRoute) {
  TempDir dir;
  const std::string config = "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\ndir = \"" + dir.file("data") +
                             "\"\n[[tokens]]\nname = \"t\"\ntoken = \"tok\"\nscopes = [\"ingest\", \"operate\", \"admin\"]\n";
  DaemonProcess daemon({"--config", dir.write("router.toml", config)}, dir.file("daemon.log"));
  const int port = daemon.wait_for_port();
  ASSERT_GT(port, 0) << daemon.output();
  for (const std::string& route : documented_routes()) {
    const std::string method = route.substr(0, route.find(' '));
    std::string path = route.substr(route.find(' ') + 1);
    path = std::regex_replace(path, std::regex(R"(\{[a-z]+\})"), "x");
    auto r = http_request(port, method, path, method == "GET" ? "" : "{}", {{"Authorization", "Bearer tok"}});
    EXPECT_NE(r.status, 0) << route;
    EXPECT_NE(r.status, 405) << route << ": " << r.body;
    EXPECT_EQ(r.body.find("no route for"), std::string::npos) << route << ": " << r.body;
  }
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

}  // namespace
}  // namespace router::testing
