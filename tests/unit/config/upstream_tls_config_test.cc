// The connection options beyond the contract: an https upstream's `tls` block and
// limits.tunnel_idle_timeout.
#include <doctest/doctest.h>

#include <string>

#include "config/gateway_config.h"

using namespace portcullis::config;
using std::chrono::milliseconds;

namespace {

LoadResult parse(const std::string& yaml) { return parse_gateway_config(yaml, "gateway.yaml", "/etc/portcullis"); }

std::string errors_of(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

TEST_CASE("https upstream tls options") {
  SUBCASE("defaults: system trust store, the URL's host") {
    LoadResult r = parse("listen: 127.0.0.1:8080\nupstreams: {default: {url: \"https://api.internal\"}}\n");
    REQUIRE_MESSAGE(r.ok(), errors_of(r));
    const UpstreamConfig& u = r.config->upstreams[0];
    CHECK(u.scheme == "https");
    CHECK(u.port == 443);
    CHECK(u.ca_file.empty());
    CHECK(u.server_name.empty());
  }
  SUBCASE("ca_file is resolved against the config's directory; server_name is kept") {
    LoadResult r = parse(
        "listen: 127.0.0.1:8080\n"
        "upstreams:\n"
        "  default:\n"
        "    url: https://10.0.0.7:8443\n"
        "    tls: {ca_file: certs/internal-ca.pem, server_name: api.internal}\n");
    REQUIRE_MESSAGE(r.ok(), errors_of(r));
    const UpstreamConfig& u = r.config->upstreams[0];
    CHECK(u.ca_file == "/etc/portcullis/certs/internal-ca.pem");
    CHECK(u.server_name == "api.internal");
  }
  SUBCASE("a bracketed IPv6 server_name loses its brackets") {
    LoadResult r = parse("listen: 127.0.0.1:8080\n"
                         "upstreams: {default: {url: \"https://h\", tls: {server_name: \"[::1]\"}}}\n");
    REQUIRE_MESSAGE(r.ok(), errors_of(r));
    CHECK(r.config->upstreams[0].server_name == "::1");
  }
}

TEST_CASE("https upstream tls options: errors") {
  struct Row {
    const char* name;
    const char* yaml;
    const char* key;
    const char* message;
  } rows[] = {
      {"tls on http", "listen: 127.0.0.1:8080\nupstreams: {default: {url: \"http://h\", tls: {ca_file: a.pem}}}\n",
       "upstreams.default.tls", "only for https://"},
      {"unknown key", "listen: 127.0.0.1:8080\nupstreams: {default: {url: \"https://h\", tls: {verify: false}}}\n",
       "upstreams.default.tls.verify", "allowed: ca_file, server_name"},
      {"bad server_name", "listen: 127.0.0.1:8080\nupstreams: {default: {url: \"https://h\", tls: {server_name: \"a b\"}}}\n",
       "upstreams.default.tls.server_name", "not a host name"},
      {"empty ca_file", "listen: 127.0.0.1:8080\nupstreams: {default: {url: \"https://h\", tls: {ca_file: \"\"}}}\n",
       "upstreams.default.tls.ca_file", "must not be empty"},
      {"tunnel timeout unit", "listen: 127.0.0.1:8080\nlimits: {tunnel_idle_timeout: 30}\nupstreams: {default: {url: \"http://h\"}}\n",
       "limits.tunnel_idle_timeout", "no unit"},
      {"tunnel timeout range", "listen: 127.0.0.1:8080\nlimits: {tunnel_idle_timeout: 10ms}\nupstreams: {default: {url: \"http://h\"}}\n",
       "limits.tunnel_idle_timeout", "must be between"},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      LoadResult r = parse(row.yaml);
      REQUIRE_FALSE(r.ok());
      REQUIRE_MESSAGE(r.errors.size() == 1, errors_of(r));
      CHECK(r.errors[0].key == row.key);
      CHECK_MESSAGE(r.errors[0].message.find(row.message) != std::string::npos, r.errors[0].message);
    }
  }
}

TEST_CASE("tunnel_idle_timeout: default and explicit") {
  LoadResult d = parse("listen: 127.0.0.1:8080\nupstreams: {default: {url: \"http://h\"}}\n");
  REQUIRE(d.ok());
  CHECK(d.config->limits.tunnel_idle_timeout == milliseconds(300000));
  LoadResult e = parse("listen: 127.0.0.1:8080\nlimits: {tunnel_idle_timeout: 90s}\nupstreams: {default: {url: \"http://h\"}}\n");
  REQUIRE_MESSAGE(e.ok(), errors_of(e));
  CHECK(e.config->limits.tunnel_idle_timeout == milliseconds(90000));
}

}  // namespace
