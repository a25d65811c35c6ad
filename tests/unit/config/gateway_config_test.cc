#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "config/gateway_config.h"

using namespace portcullis::config;
using std::chrono::milliseconds;

namespace {

// PRODUCT.md's gateway.yaml, verbatim except that `mode` names one value instead of the
// alternatives.
constexpr const char* kContractExample = R"(listen: 0.0.0.0:8080            # or {address: ..., tls: {cert_file: ..., key_file: ...}}
admin_listen: 127.0.0.1:9901    # /metrics, /healthz, /readyz — never on the public port
workers: auto                   # one event loop per core, SO_REUSEPORT
limits: {max_header_bytes: 16384, max_body_bytes: 10485760, max_token_bytes: 8192,
         client_timeout: 30s, max_connections: 10000}
upstreams:
  default: {url: "http://127.0.0.1:9000", connect_timeout: 2s, timeout: 30s,
            max_idle_connections: 64}
issuers:
  - name: corp
    issuer: https://auth.example.com           # exact match against "iss"
    discovery: true                            # fetch {issuer}/.well-known/openid-configuration
    # jwks_uri: https://auth.example.com/jwks   (instead of discovery)
    # jwks_file: /etc/portcullis/jwks.json      (offline; reloaded on change)
    audiences: [orders-api]                    # token "aud" (string or array) must contain one
    algorithms: [RS256, ES256]                 # allow-list; "none" and HS* with asymmetric keys never
    leeway: 30s
    jwks_refresh: 10m                          # background refresh; also on unknown kid, rate-limited
    scope_claim: scope                         # space-separated string ("scope") or array ("scp")
    introspection:                             # optional, RFC 7662
      endpoint: https://auth.example.com/oauth2/introspect
      client_id: portcullis
      client_secret_file: /var/run/secrets/portcullis/client-secret
      mode: periodic                           # periodic: re-check cached JWTs every `interval`
      interval: 60s
      on_error: deny
identity_headers:
  subject: X-Auth-Subject
  issuer: X-Auth-Issuer
  scopes: X-Auth-Scopes
  claims: {email: X-Auth-Email, tenant_id: X-Auth-Tenant}
  forward_token: true          # keep Authorization for the upstream, or strip it
policies: [policies/*.yaml]    # reloaded on SIGHUP and on file change; a bad file keeps the old set
)";

// Smallest valid file: three lines, so rows below know their line numbers.
constexpr const char* kBase =
    "listen: 127.0.0.1:8080\n"
    "upstreams:\n"
    "  default: {url: \"http://127.0.0.1:9000\"}\n";

// kBase + one issuer: "issuers:" is line 4, "- name: corp" line 5, `body` starts on line 6
// (each body line indented by four spaces).
std::string with_issuer(const std::string& body) { return std::string(kBase) + "issuers:\n  - name: corp\n" + body; }

// A valid issuer body (lines 6-9) for rows that only add a key.
constexpr const char* kIssuerBody =
    "    issuer: https://auth.example.com\n"
    "    jwks_uri: https://auth.example.com/jwks\n"
    "    audiences: [api]\n"
    "    algorithms: [RS256]\n";

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

LoadResult parse(const std::string& yaml) { return parse_gateway_config(yaml, "gateway.yaml", "/etc/portcullis"); }

// The file fails, and one of its errors is at `line` for `key` and mentions `needle`.
void expect_error(const std::string& yaml, const std::string& key, int line, const std::string& needle) {
  LoadResult r = parse(yaml);
  CHECK_FALSE(r.ok());
  CHECK(r.config == nullptr);
  bool found = false;
  for (const auto& e : r.errors) {
    if (e.key == key && e.line == line && e.message.find(needle) != std::string::npos) found = true;
  }
  CHECK_MESSAGE(found, "wanted gateway.yaml:" << line << ": " << key << ": ..." << needle << "...\ngot:\n"
                                                << all_errors(r) << "for:\n"
                                                << yaml);
}

struct ErrorRow {
  const char* name;
  std::string yaml;
  const char* key;
  int line;
  const char* needle;
};

void run_rows(const std::vector<ErrorRow>& rows) {
  for (const auto& row : rows) {
    SUBCASE(row.name) { expect_error(row.yaml, row.key, row.line, row.needle); }
  }
}

}  // namespace

TEST_CASE("the contract example from PRODUCT.md loads") {
  LoadResult r = parse(kContractExample);
  REQUIRE_MESSAGE(r.ok(), all_errors(r));
  const GatewayConfig& c = *r.config;
  CHECK(c.file == "gateway.yaml");
  CHECK(c.dir == "/etc/portcullis");
  CHECK(c.listen.host == "0.0.0.0");
  CHECK(c.listen.port == 8080);
  CHECK_FALSE(c.listen.tls.has_value());
  CHECK(c.admin_host == "127.0.0.1");
  CHECK(c.admin_port == 9901);
  CHECK(c.workers >= 1);
  CHECK(c.workers == std::clamp(std::thread::hardware_concurrency(), 1u, 256u));
  CHECK(c.limits.max_header_bytes == 16384);
  CHECK(c.limits.max_body_bytes == 10485760);
  CHECK(c.limits.max_token_bytes == 8192);
  CHECK(c.limits.client_timeout == milliseconds(30000));
  CHECK(c.limits.max_connections == 10000);

  REQUIRE(c.upstreams.size() == 1);
  const UpstreamConfig* up = c.find_upstream("default");
  REQUIRE(up != nullptr);
  CHECK(up == &c.upstreams[0]);
  CHECK(up->name == "default");
  CHECK(up->url == "http://127.0.0.1:9000");
  CHECK(up->scheme == "http");
  CHECK(up->host == "127.0.0.1");
  CHECK(up->port == 9000);
  CHECK(up->connect_timeout == milliseconds(2000));
  CHECK(up->timeout == milliseconds(30000));
  CHECK(up->max_idle_connections == 64);
  CHECK(c.find_upstream("other") == nullptr);

  REQUIRE(c.issuers.size() == 1);
  const IssuerConfig* iss = c.find_issuer("corp");
  REQUIRE(iss != nullptr);
  CHECK(c.find_issuer("nope") == nullptr);
  CHECK(iss->issuer == "https://auth.example.com");
  CHECK(iss->discovery);
  CHECK(iss->jwks_uri.empty());
  CHECK(iss->jwks_file.empty());
  CHECK(iss->secret_file.empty());
  CHECK(iss->audiences == std::vector<std::string>{"orders-api"});
  CHECK(iss->algorithms == std::vector<std::string>{"RS256", "ES256"});
  CHECK(iss->leeway == milliseconds(30000));
  CHECK(iss->jwks_refresh == milliseconds(600000));
  CHECK(iss->scope_claim == "scope");
  // Defaults from "Rules that settle the edge cases".
  CHECK(iss->require_exp);
  CHECK(iss->require_typ.empty());
  CHECK(iss->jwks_min_refetch == milliseconds(30000));
  CHECK(iss->fetch_timeout == milliseconds(5000));
  CHECK(iss->jwks_max_bytes == 1048576);
  CHECK(iss->cookie.empty());
  REQUIRE(iss->introspection.has_value());
  const IntrospectionConfig& in = *iss->introspection;
  CHECK(in.endpoint == "https://auth.example.com/oauth2/introspect");
  CHECK(in.client_id == "portcullis");
  CHECK(in.client_secret_file == "/var/run/secrets/portcullis/client-secret");
  CHECK(in.auth_method == IntrospectionConfig::AuthMethod::ClientSecretBasic);
  CHECK(in.mode == IntrospectionConfig::Mode::Periodic);
  CHECK(in.interval == milliseconds(60000));
  CHECK(in.on_error == IntrospectionConfig::OnError::Deny);

  CHECK(c.identity_headers.subject == "X-Auth-Subject");
  CHECK(c.identity_headers.issuer == "X-Auth-Issuer");
  CHECK(c.identity_headers.scopes == "X-Auth-Scopes");
  using Claim = std::pair<std::string, std::string>;
  CHECK(c.identity_headers.claims == std::vector<Claim>{{"email", "X-Auth-Email"}, {"tenant_id", "X-Auth-Tenant"}});
  CHECK(c.identity_headers.forward_token);
  CHECK(c.policies == std::vector<std::string>{"/etc/portcullis/policies/*.yaml"});
  CHECK(c.access_log);
  CHECK(c.drain_timeout == milliseconds(20000));
}

TEST_CASE("defaults apply when optional sections are absent") {
  LoadResult r = parse(kBase);
  REQUIRE_MESSAGE(r.ok(), all_errors(r));
  const GatewayConfig& c = *r.config;
  CHECK(c.admin_host == "127.0.0.1");
  CHECK(c.admin_port == 9901);
  CHECK(c.workers >= 1);
  CHECK(c.limits.max_header_bytes == 16384);
  CHECK(c.limits.max_body_bytes == 10485760);
  CHECK(c.limits.max_token_bytes == 8192);
  CHECK(c.limits.client_timeout == milliseconds(30000));
  CHECK(c.limits.max_connections == 10000);
  CHECK(c.upstreams[0].connect_timeout == milliseconds(2000));
  CHECK(c.upstreams[0].timeout == milliseconds(30000));
  CHECK(c.upstreams[0].max_idle_connections == 64);
  CHECK(c.issuers.empty());
  CHECK(c.identity_headers.subject == "X-Auth-Subject");
  CHECK(c.identity_headers.claims.empty());
  CHECK(c.identity_headers.forward_token);
  CHECK(c.policies.empty());
  CHECK(c.access_log);
  CHECK(c.drain_timeout == milliseconds(20000));
}

TEST_CASE("every option can be set") {
  const std::string yaml = R"(listen:
  address: "[::]:8443"
  tls: {cert_file: tls/cert.pem, key_file: /abs/key.pem}
admin_listen: "[::1]:9902"
workers: 4
limits:
  max_header_bytes: 32KiB
  max_body_bytes: 0
  max_token_bytes: 1KiB
  client_timeout: 1m30s
  max_connections: 1
upstreams:
  default: {url: "https://backend.internal", connect_timeout: 10ms, timeout: 1h, max_idle_connections: 0}
  legacy: {url: "http://[::1]:81/"}
issuers:
  - name: hmac
    issuer: http://localhost:8081
    secret_file: secrets/hmac.key
    audiences: [a, b]
    algorithms: [HS256, HS512]
    leeway: 0s
    jwks_refresh: 1s
    scope_claim: scp
    require_exp: false
    require_typ: at+jwt
    jwks_min_refetch: 1s
    fetch_timeout: 100ms
    jwks_max_bytes: 64MiB
    cookie: session_token
    introspection:
      endpoint: http://127.0.0.1:8081/introspect?v=1
      client_id: gw
      client_secret_file: ../secret
      auth_method: client_secret_post
      mode: always
      interval: 1s
      on_error: use_cached
      cache_ttl: 0s
      inactive_cache_ttl: 1h
      max_concurrent: 10000
  - name: files
    issuer: https://files.example.com/tenant/v2.0
    jwks_file: jwks.json
    audiences: [api]
    algorithms: [EdDSA, PS384, ES512, RS512]
identity_headers:
  subject: X-User
  issuer: X-Iss
  scopes: X-Scopes
  claims:
    email: X-Email
    "https://example.com/roles": X-Roles
  forward_token: false
policies:
  - policies/*.yaml
  - /srv/extra.yaml
access_log: false
drain_timeout: 0s
)";
  LoadResult r = parse(yaml);
  REQUIRE_MESSAGE(r.ok(), all_errors(r));
  const GatewayConfig& c = *r.config;
  CHECK(c.listen.host == "::");
  CHECK(c.listen.port == 8443);
  REQUIRE(c.listen.tls.has_value());
  CHECK(c.listen.tls->cert_file == "/etc/portcullis/tls/cert.pem");
  CHECK(c.listen.tls->key_file == "/abs/key.pem");
  CHECK(c.admin_host == "::1");
  CHECK(c.admin_port == 9902);
  CHECK(c.workers == 4);
  CHECK(c.limits.max_header_bytes == 32768);
  CHECK(c.limits.max_body_bytes == 0);
  CHECK(c.limits.max_token_bytes == 1024);
  CHECK(c.limits.client_timeout == milliseconds(90000));
  CHECK(c.limits.max_connections == 1);

  REQUIRE(c.upstreams.size() == 2);
  CHECK(c.upstreams[0].name == "default");
  CHECK(c.upstreams[0].scheme == "https");
  CHECK(c.upstreams[0].host == "backend.internal");
  CHECK(c.upstreams[0].port == 443);
  CHECK(c.upstreams[0].connect_timeout == milliseconds(10));
  CHECK(c.upstreams[0].timeout == milliseconds(3600000));
  CHECK(c.upstreams[0].max_idle_connections == 0);
  const UpstreamConfig* legacy = c.find_upstream("legacy");
  REQUIRE(legacy != nullptr);
  CHECK(legacy->host == "::1");
  CHECK(legacy->port == 81);
  CHECK(legacy->scheme == "http");

  REQUIRE(c.issuers.size() == 2);
  const IssuerConfig& h = c.issuers[0];
  CHECK(h.name == "hmac");
  CHECK(h.issuer == "http://localhost:8081");
  CHECK_FALSE(h.discovery);
  CHECK(h.secret_file == "/etc/portcullis/secrets/hmac.key");
  CHECK(h.audiences == std::vector<std::string>{"a", "b"});
  CHECK(h.algorithms == std::vector<std::string>{"HS256", "HS512"});
  CHECK(h.leeway == milliseconds(0));
  CHECK(h.jwks_refresh == milliseconds(1000));
  CHECK(h.scope_claim == "scp");
  CHECK_FALSE(h.require_exp);
  CHECK(h.require_typ == "at+jwt");
  CHECK(h.jwks_min_refetch == milliseconds(1000));
  CHECK(h.fetch_timeout == milliseconds(100));
  CHECK(h.jwks_max_bytes == (64u << 20));
  CHECK(h.cookie == "session_token");
  REQUIRE(h.introspection.has_value());
  CHECK(h.introspection->endpoint == "http://127.0.0.1:8081/introspect?v=1");
  CHECK(h.introspection->client_id == "gw");
  CHECK(h.introspection->client_secret_file == "/etc/portcullis/../secret");
  CHECK(h.introspection->auth_method == IntrospectionConfig::AuthMethod::ClientSecretPost);
  CHECK(h.introspection->mode == IntrospectionConfig::Mode::Always);
  CHECK(h.introspection->interval == milliseconds(1000));
  CHECK(h.introspection->on_error == IntrospectionConfig::OnError::UseCached);
  CHECK(h.introspection->cache_ttl == milliseconds(0));
  CHECK(h.introspection->inactive_cache_ttl == milliseconds(3600000));
  CHECK(h.introspection->max_concurrent == 10000);
  const IssuerConfig& f = c.issuers[1];
  CHECK(f.issuer == "https://files.example.com/tenant/v2.0");
  CHECK(f.jwks_file == "/etc/portcullis/jwks.json");
  CHECK(f.algorithms == std::vector<std::string>{"EdDSA", "PS384", "ES512", "RS512"});
  CHECK_FALSE(f.introspection.has_value());

  CHECK(c.identity_headers.subject == "X-User");
  CHECK(c.identity_headers.issuer == "X-Iss");
  CHECK(c.identity_headers.scopes == "X-Scopes");
  using Claim = std::pair<std::string, std::string>;
  CHECK(c.identity_headers.claims ==
        std::vector<Claim>{{"email", "X-Email"}, {"https://example.com/roles", "X-Roles"}});
  CHECK_FALSE(c.identity_headers.forward_token);
  CHECK(c.policies == std::vector<std::string>{"/etc/portcullis/policies/*.yaml", "/srv/extra.yaml"});
  CHECK_FALSE(c.access_log);
  CHECK(c.drain_timeout == milliseconds(0));
}

TEST_CASE("discovery may supply the introspection endpoint") {
  LoadResult r = parse(with_issuer("    issuer: https://idp.example.com\n"
                                   "    discovery: true\n"
                                   "    audiences: [api]\n"
                                   "    algorithms: [ES256]\n"
                                   "    introspection: {client_id: gw, client_secret_file: s}\n"));
  REQUIRE_MESSAGE(r.ok(), all_errors(r));
  REQUIRE(r.config->issuers[0].introspection.has_value());
  CHECK(r.config->issuers[0].introspection->endpoint.empty());
  CHECK(r.config->issuers[0].introspection->client_secret_file == "/etc/portcullis/s");
}

TEST_CASE("relative paths resolve against the config file's directory") {
  const std::string yaml = std::string(kBase) +
                           "issuers:\n"
                           "  - {name: a, issuer: https://a.example, jwks_file: keys/jwks.json, audiences: [x], algorithms: [RS256]}\n"
                           "  - {name: b, issuer: https://b.example, secret_file: /abs/secret, audiences: [x], algorithms: [HS256]}\n"
                           "policies: [policies/*.yaml, ./p.yaml, ../shared/q.yaml, /abs/r.yaml]\n";
  SUBCASE("absolute dir") {
    LoadResult r = parse_gateway_config(yaml, "/srv/gw/gateway.yaml", "/srv/gw");
    REQUIRE_MESSAGE(r.ok(), all_errors(r));
    CHECK(r.config->issuers[0].jwks_file == "/srv/gw/keys/jwks.json");
    CHECK(r.config->issuers[1].secret_file == "/abs/secret");
    CHECK(r.config->policies ==
          std::vector<std::string>{"/srv/gw/policies/*.yaml", "/srv/gw/./p.yaml", "/srv/gw/../shared/q.yaml", "/abs/r.yaml"});
  }
  SUBCASE("dir with trailing slash") {
    LoadResult r = parse_gateway_config(yaml, "gateway.yaml", "/srv/gw/");
    REQUIRE_MESSAGE(r.ok(), all_errors(r));
    CHECK(r.config->issuers[0].jwks_file == "/srv/gw/keys/jwks.json");
  }
  SUBCASE("empty dir leaves paths as written") {
    LoadResult r = parse_gateway_config(yaml, "gateway.yaml", "");
    REQUIRE_MESSAGE(r.ok(), all_errors(r));
    CHECK(r.config->issuers[0].jwks_file == "keys/jwks.json");
    CHECK(r.config->policies[0] == "policies/*.yaml");
  }
}

TEST_CASE("resolve_path") {
  CHECK(resolve_path("/etc/p", "a.yaml") == "/etc/p/a.yaml");
  CHECK(resolve_path("/etc/p/", "a.yaml") == "/etc/p/a.yaml");
  CHECK(resolve_path("/etc/p", "/x/a.yaml") == "/x/a.yaml");
  CHECK(resolve_path("", "a.yaml") == "a.yaml");
  CHECK(resolve_path("/etc/p", "") == "");
}

TEST_CASE("ConfigError::to_string") {
  CHECK(ConfigError{"g.yaml", 12, "issuers[0].leeway", "bad"}.to_string() == "g.yaml:12: issuers[0].leeway: bad");
  CHECK(ConfigError{"g.yaml", 0, "listen", "bad"}.to_string() == "g.yaml: listen: bad");
  CHECK(ConfigError{"g.yaml", 3, "", "YAML syntax error: x"}.to_string() == "g.yaml:3: YAML syntax error: x");
  CHECK(ConfigError{"g.yaml", 4, "a\x1b[2Jb", "unknown"}.to_string() == "g.yaml:4: a?[2Jb: unknown");
}

TEST_CASE("file-level errors: empty, syntax, several documents, not a map") {
  SUBCASE("empty") {
    LoadResult r = parse("");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find("empty") != std::string::npos);
    CHECK(r.errors[0].line == 0);
    CHECK(r.config == nullptr);
  }
  SUBCASE("only comments") {
    LoadResult r = parse("# nothing here\n\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find("empty") != std::string::npos);
  }
  SUBCASE("unclosed flow sequence reports its line") {
    LoadResult r = parse("listen: 127.0.0.1:8080\nupstreams: [a, b\nworkers: 2\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find("YAML syntax error") != std::string::npos);
    CHECK(r.errors[0].line == 3);
    CHECK(r.errors[0].to_string().rfind("gateway.yaml:3: YAML syntax error", 0) == 0);
  }
  SUBCASE("bad indentation reports its line") {
    LoadResult r = parse("listen: 127.0.0.1:8080\nworkers: 2\n  extra: 1\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 3);
  }
  SUBCASE("tab indentation") {
    LoadResult r = parse("limits:\n\tmax_connections: 1\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find("YAML syntax error") != std::string::npos);
    CHECK(r.errors[0].line == 2);
  }
  SUBCASE("two documents") {
    LoadResult r = parse(std::string(kBase) + "---\nworkers: 2\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find("more than one YAML document") != std::string::npos);
    CHECK(r.errors[0].line == 5);
  }
  SUBCASE("top level is a list") {
    expect_error("- listen: 1\n", "", 1, "must be a map");
  }
  SUBCASE("top level is a scalar") {
    expect_error("hello\n", "", 1, "must be a map");
  }
  SUBCASE("deep nesting is an error, not a crash") {
    std::string deep = "listen: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
    LoadResult r = parse(deep);
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.errors.empty());
  }
}

TEST_CASE("all errors are collected, not only the first") {
  LoadResult r = parse("listen: nowhere\n"
                       "workers: 0\n"
                       "limits: {client_timeout: 30}\n"
                       "upstreams: {}\n"
                       "bogus: 1\n");
  CHECK_FALSE(r.ok());
  CHECK_MESSAGE(r.errors.size() == 5, all_errors(r));
  // Errors carry the file name given to the parser.
  for (const auto& e : r.errors) CHECK(e.file == "gateway.yaml");
}

TEST_CASE("unknown keys are errors at every level") {
  run_rows({
      {"top", std::string(kBase) + "listen_port: 80\n", "listen_port", 4, "unknown key 'listen_port' (allowed: listen, admin_listen"},
      {"limits", std::string(kBase) + "limits: {max_headers: 1}\n", "limits.max_headers", 4, "allowed: max_header_bytes"},
      {"upstream", "listen: 127.0.0.1:8080\nupstreams:\n  default: {url: \"http://h\", retries: 3}\n",
       "upstreams.default.retries", 3, "unknown key 'retries'"},
      {"listen map", "listen: {address: 127.0.0.1:80, port: 80}\nupstreams: {default: {url: \"http://h\"}}\n",
       "listen.port", 1, "allowed: address, tls"},
      {"tls", "listen:\n  address: 127.0.0.1:80\n  tls: {cert_file: a, key_file: b, ca_file: c}\n"
              "upstreams: {default: {url: \"http://h\"}}\n",
       "listen.tls.ca_file", 3, "allowed: cert_file, key_file"},
      {"issuer", with_issuer(std::string(kIssuerBody) + "    audience: api\n"), "issuers[0].audience", 10,
       "unknown key 'audience'"},
      {"introspection", with_issuer(std::string(kIssuerBody) +
                                    "    introspection:\n"
                                    "      endpoint: https://idp/introspect\n"
                                    "      client_id: a\n"
                                    "      client_secret_file: s\n"
                                    "      timeout: 1s\n"),
       "issuers[0].introspection.timeout", 14, "allowed: endpoint, client_id"},
      {"identity_headers", std::string(kBase) + "identity_headers:\n  subject: X-Sub\n  email: X-Email\n",
       "identity_headers.email", 6, "allowed: subject, issuer, scopes, claims, forward_token"},
      {"merge key", std::string(kBase) + "limits:\n  <<: {max_connections: 1}\n", "limits.<<", 5, "merge keys"},
      {"non-scalar key", std::string(kBase) + "limits:\n  ? [a, b]\n  : 1\n", "limits", 5, "map keys must be plain strings"},
      {"control bytes are escaped", std::string(kBase) + "\"bad\\x1b[31m\": 1\n", "bad\x1b[31m", 4,
       "unknown key 'bad\\x1b[31m'"},
  });
}

TEST_CASE("duplicate keys are errors (yaml-cpp keeps both silently)") {
  run_rows({
      {"top", std::string(kBase) + "listen: 0.0.0.0:80\n", "listen", 4, "duplicate key (first defined on line 1)"},
      {"nested", std::string(kBase) + "limits:\n  max_connections: 1\n  max_connections: 2\n",
       "limits.max_connections", 6, "duplicate key (first defined on line 5)"},
      {"flow", "listen: 127.0.0.1:8080\nupstreams: {default: {url: \"http://a\"}, default: {url: \"http://b\"}}\n",
       "upstreams.default", 2, "duplicate key"},
      {"issuer", with_issuer(std::string(kIssuerBody) + "    algorithms: [HS256]\n"), "issuers[0].algorithms", 10,
       "duplicate key (first defined on line 9)"},
      {"claims", std::string(kBase) + "identity_headers:\n  claims:\n    email: X-A\n    email: X-B\n",
       "identity_headers.claims.email", 7, "duplicate key"},
  });
}

TEST_CASE("a duplicate key does not silently pick a value") {
  LoadResult r = parse(std::string(kBase) + "limits:\n  max_connections: 1\n  max_connections: 2\n");
  CHECK_FALSE(r.ok());
  CHECK(r.config == nullptr);
}

TEST_CASE("required keys and wrong types") {
  run_rows({
      {"listen missing", "upstreams: {default: {url: \"http://h\"}}\n", "listen", 1, "is required"},
      {"upstreams missing", "listen: 127.0.0.1:8080\n", "upstreams", 1, "is required"},
      {"default upstream missing", "listen: 127.0.0.1:8080\nupstreams:\n  api: {url: \"http://h\"}\n", "upstreams", 2,
       "an upstream named 'default' is required"},
      {"upstreams empty", "listen: 127.0.0.1:8080\nupstreams: {}\n", "upstreams", 2, "at least one upstream"},
      {"upstreams null", "listen: 127.0.0.1:8080\nupstreams:\n", "upstreams", 2, "has no value; expected a map"},
      {"block upstream url missing", "listen: 127.0.0.1:8080\nupstreams:\n  default:\n    timeout: 1s\n",
       "upstreams.default.url", 3, "is required"},
      {"upstreams a list", "listen: 127.0.0.1:8080\nupstreams: [default]\n", "upstreams", 2, "must be a map"},
      {"upstream url missing", "listen: 127.0.0.1:8080\nupstreams:\n  default: {timeout: 1s}\n", "upstreams.default.url",
       3, "is required"},
      {"upstream a string", "listen: 127.0.0.1:8080\nupstreams:\n  default: http://h\n", "upstreams.default", 3,
       "must be a map"},
      {"upstream bad name", std::string(kBase) + "  \"a b\": {url: \"http://h\"}\n", "upstreams.a b", 4,
       "upstream name 'a b'"},
      {"limits a list", std::string(kBase) + "limits: [1]\n", "limits", 4, "must be a map"},
      {"issuers a map", std::string(kBase) + "issuers: {corp: {}}\n", "issuers", 4, "must be a list of issuers"},
      {"issuer a string", std::string(kBase) + "issuers: [corp]\n", "issuers[0]", 4, "must be a map"},
      {"string is a list", std::string(kBase) + "admin_listen: [127.0.0.1:1]\n", "admin_listen", 4, "must be host:port"},
      {"no value", std::string(kBase) + "drain_timeout:\n", "drain_timeout", 4, "has no value"},
      {"bool", std::string(kBase) + "access_log: yes\n", "access_log", 4, "must be true or false, not 'yes'"},
      {"bool a map", std::string(kBase) + "access_log: {}\n", "access_log", 4, "must be true or false"},
      {"policies a string", std::string(kBase) + "policies: policies/*.yaml\n", "policies", 4, "must be a list of strings"},
      {"policies item empty", std::string(kBase) + "policies: [a, \"\"]\n", "policies[1]", 4, "must not be empty"},
      {"policies item a map", std::string(kBase) + "policies:\n  - a\n  - {b: 1}\n", "policies[1]", 6, "must be a string"},
      {"drain_timeout too long", std::string(kBase) + "drain_timeout: 2h\n", "drain_timeout", 4,
       "between 0s and 1h (got 2h)"},
  });
}

TEST_CASE("listen and admin_listen") {
  run_rows({
      {"no port", "listen: 127.0.0.1\nupstreams: {default: {url: \"http://h\"}}\n", "listen", 1, "is not host:port"},
      {"port too big", "listen: 127.0.0.1:70000\nupstreams: {default: {url: \"http://h\"}}\n", "listen", 1,
       "is not host:port"},
      {"unbracketed ipv6", "listen: \"::1:8080\"\nupstreams: {default: {url: \"http://h\"}}\n", "listen", 1,
       "IPv6 needs brackets"},
      {"a number", "listen: 8080\nupstreams: {default: {url: \"http://h\"}}\n", "listen", 1, "is not host:port"},
      {"a list", "listen: [a]\nupstreams: {default: {url: \"http://h\"}}\n", "listen", 1,
       "must be host:port or a map {address"},
      {"map without address", "listen: {tls: {cert_file: a, key_file: b}}\nupstreams: {default: {url: \"http://h\"}}\n",
       "listen.address", 1, "is required"},
      {"tls without key", "listen:\n  address: 0.0.0.0:443\n  tls: {cert_file: a}\nupstreams: {default: {url: \"http://h\"}}\n",
       "listen.tls.key_file", 3, "is required"},
      {"tls cert empty",
       "listen:\n  address: 0.0.0.0:443\n  tls:\n    cert_file: \"\"\n    key_file: k\nupstreams: {default: {url: \"http://h\"}}\n",
       "listen.tls.cert_file", 4, "must not be empty"},
      {"admin bad", std::string(kBase) + "admin_listen: localhost\n", "admin_listen", 4, "is not host:port"},
      {"admin on public port", std::string(kBase) + "admin_listen: 127.0.0.1:8080\n", "admin_listen", 4,
       "must not use the public listener's port 8080"},
      {"admin on wildcard public port", "listen: 0.0.0.0:8080\nupstreams: {default: {url: \"http://h\"}}\nadmin_listen: 127.0.0.1:8080\n",
       "admin_listen", 3, "public listener's port"},
  });
  SUBCASE("different hosts on the same port are fine; so is port 0 twice") {
    CHECK(parse(std::string(kBase) + "admin_listen: 127.0.0.2:8080\n").ok());
    CHECK(parse("listen: 127.0.0.1:0\nupstreams: {default: {url: \"http://h\"}}\nadmin_listen: 127.0.0.1:0\n").ok());
  }
}

TEST_CASE("workers: auto or 1..256") {
  run_rows({
      {"zero", std::string(kBase) + "workers: 0\n", "workers", 4, "between 1 and 256 (got 0)"},
      {"too many", std::string(kBase) + "workers: 257\n", "workers", 4, "between 1 and 256 (got 257)"},
      {"negative", std::string(kBase) + "workers: -1\n", "workers", 4, "must be auto or an integer"},
      {"Auto", std::string(kBase) + "workers: Auto\n", "workers", 4, "must be auto or an integer"},
      {"fraction", std::string(kBase) + "workers: 1.5\n", "workers", 4, "must be auto or an integer"},
  });
  SUBCASE("bounds") {
    CHECK(parse(std::string(kBase) + "workers: 1\n").config->workers == 1);
    CHECK(parse(std::string(kBase) + "workers: 256\n").config->workers == 256);
  }
}

TEST_CASE("durations: bare numbers, bad text and ranges") {
  run_rows({
      {"bare number", std::string(kBase) + "limits: {client_timeout: 30}\n", "limits.client_timeout", 4,
       "'30' has no unit; bare numbers are not durations: write e.g. 30s"},
      {"bad unit", std::string(kBase) + "limits: {client_timeout: 30sec}\n", "limits.client_timeout", 4,
       "'30sec' is not a duration"},
      {"client_timeout low", std::string(kBase) + "limits: {client_timeout: 999ms}\n", "limits.client_timeout", 4,
       "between 1s and 1h (got 999ms)"},
      {"client_timeout high", std::string(kBase) + "limits: {client_timeout: 61m}\n", "limits.client_timeout", 4,
       "between 1s and 1h"},
      {"connect_timeout low", "listen: 127.0.0.1:8080\nupstreams:\n  default: {url: \"http://h\", connect_timeout: 9ms}\n",
       "upstreams.default.connect_timeout", 3, "between 10ms and 5m"},
      {"connect_timeout high", "listen: 127.0.0.1:8080\nupstreams:\n  default: {url: \"http://h\", connect_timeout: 5m1s}\n",
       "upstreams.default.connect_timeout", 3, "between 10ms and 5m"},
      {"timeout low", "listen: 127.0.0.1:8080\nupstreams:\n  default: {url: \"http://h\", timeout: 500ms}\n",
       "upstreams.default.timeout", 3, "between 1s and 1h"},
      {"timeout bare", "listen: 127.0.0.1:8080\nupstreams:\n  default: {url: \"http://h\", timeout: 30}\n",
       "upstreams.default.timeout", 3, "bare numbers are not durations"},
      {"leeway high", with_issuer(std::string(kIssuerBody) + "    leeway: 2h\n"), "issuers[0].leeway", 10,
       "between 0s and 1h"},
      {"leeway negative", with_issuer(std::string(kIssuerBody) + "    leeway: -1s\n"), "issuers[0].leeway", 10,
       "is not a duration"},
      {"jwks_refresh low", with_issuer(std::string(kIssuerBody) + "    jwks_refresh: 500ms\n"), "issuers[0].jwks_refresh",
       10, "between 1s and"},
      {"jwks_refresh bare", with_issuer(std::string(kIssuerBody) + "    jwks_refresh: 600\n"), "issuers[0].jwks_refresh",
       10, "has no unit"},
      {"jwks_min_refetch low", with_issuer(std::string(kIssuerBody) + "    jwks_min_refetch: 0s\n"),
       "issuers[0].jwks_min_refetch", 10, "between 1s and"},
      {"fetch_timeout low", with_issuer(std::string(kIssuerBody) + "    fetch_timeout: 99ms\n"),
       "issuers[0].fetch_timeout", 10, "between 100ms and 5m"},
      {"fetch_timeout high", with_issuer(std::string(kIssuerBody) + "    fetch_timeout: 6m\n"),
       "issuers[0].fetch_timeout", 10, "between 100ms and 5m"},
      {"interval low", with_issuer(std::string(kIssuerBody) +
                                   "    introspection:\n      endpoint: https://i/x\n      client_id: a\n"
                                   "      client_secret_file: s\n      interval: 999ms\n"),
       "issuers[0].introspection.interval", 14, "between 1s and"},
      {"drain_timeout bare", std::string(kBase) + "drain_timeout: 20\n", "drain_timeout", 4, "has no unit"},
  });
}

TEST_CASE("sizes and counts: formats and ranges") {
  run_rows({
      {"header low", std::string(kBase) + "limits: {max_header_bytes: 1023}\n", "limits.max_header_bytes", 4,
       "between 1KiB and 1MiB (got 1023)"},
      {"header high", std::string(kBase) + "limits: {max_header_bytes: 2MiB}\n", "limits.max_header_bytes", 4,
       "between 1KiB and 1MiB (got 2MiB)"},
      {"header bad unit", std::string(kBase) + "limits: {max_header_bytes: 16k}\n", "limits.max_header_bytes", 4,
       "'16k' is not a size"},
      {"body high", std::string(kBase) + "limits: {max_body_bytes: 65GiB}\n", "limits.max_body_bytes", 4,
       "between 0 and 64GiB"},
      {"body negative", std::string(kBase) + "limits: {max_body_bytes: -1}\n", "limits.max_body_bytes", 4, "is not a size"},
      {"token low", std::string(kBase) + "limits: {max_token_bytes: 255}\n", "limits.max_token_bytes", 4,
       "between 256 and"},
      {"token over header", std::string(kBase) + "limits: {max_header_bytes: 4KiB, max_token_bytes: 8KiB}\n",
       "limits.max_token_bytes", 4, "must not exceed max_header_bytes (4KiB)"},
      {"default token over header", std::string(kBase) + "limits:\n  max_header_bytes: 4KiB\n", "limits.max_token_bytes",
       5, "exceeds max_header_bytes"},
      {"connections zero", std::string(kBase) + "limits: {max_connections: 0}\n", "limits.max_connections", 4,
       "between 1 and 1000000 (got 0)"},
      {"connections high", std::string(kBase) + "limits: {max_connections: 1000001}\n", "limits.max_connections", 4,
       "between 1 and 1000000"},
      {"connections unit", std::string(kBase) + "limits: {max_connections: 1KiB}\n", "limits.max_connections", 4,
       "must be an integer"},
      {"connections huge", std::string(kBase) + "limits: {max_connections: 99999999999999999999999}\n",
       "limits.max_connections", 4, "must be an integer"},
      {"idle high", "listen: 127.0.0.1:8080\nupstreams:\n  default: {url: \"http://h\", max_idle_connections: 100001}\n",
       "upstreams.default.max_idle_connections", 3, "between 0 and 100000"},
      {"jwks_max_bytes low", with_issuer(std::string(kIssuerBody) + "    jwks_max_bytes: 1000\n"),
       "issuers[0].jwks_max_bytes", 10, "between 1KiB and 64MiB"},
      {"jwks_max_bytes high", with_issuer(std::string(kIssuerBody) + "    jwks_max_bytes: 65MiB\n"),
       "issuers[0].jwks_max_bytes", 10, "between 1KiB and 64MiB"},
      {"max_concurrent zero", with_issuer(std::string(kIssuerBody) +
                                          "    introspection: {endpoint: \"https://i/x\", client_id: a, "
                                          "client_secret_file: s, max_concurrent: 0}\n"),
       "issuers[0].introspection.max_concurrent", 10, "between 1 and 10000"},
  });
  SUBCASE("limits at their bounds load") {
    LoadResult r = parse(std::string(kBase) +
                         "limits: {max_header_bytes: 1MiB, max_body_bytes: 64GiB, max_token_bytes: 1MiB, "
                         "client_timeout: 1h, max_connections: 1000000}\n");
    REQUIRE_MESSAGE(r.ok(), all_errors(r));
    CHECK(r.config->limits.max_body_bytes == (64ull << 30));
    CHECK(r.config->limits.max_token_bytes == (1u << 20));
    LoadResult low = parse(std::string(kBase) + "limits: {max_header_bytes: 1KiB, max_token_bytes: 256}\n");
    REQUIRE_MESSAGE(low.ok(), all_errors(low));
    CHECK(low.config->limits.max_header_bytes == 1024);
  }
}

TEST_CASE("upstream urls: http(s)://host[:port] only") {
  auto up = [](const std::string& url) {
    return "listen: 127.0.0.1:8080\nupstreams:\n  default:\n    url: \"" + url + "\"\n";
  };
  run_rows({
      {"path", up("http://127.0.0.1:9000/api"), "upstreams.default.url", 4, "must not have a path"},
      {"query", up("http://127.0.0.1:9000/?a=b"), "upstreams.default.url", 4, "must not have a query"},
      {"no scheme", up("127.0.0.1:9000"), "upstreams.default.url", 4, "not an absolute URL"},
      {"ftp", up("ftp://h"), "upstreams.default.url", 4, "only http and https"},
      {"unix", up("unix:///run/app.sock"), "upstreams.default.url", 4, "only http and https"},
      {"userinfo", up("http://u:p@h"), "upstreams.default.url", 4, "userinfo"},
      {"fragment", up("http://h/#x"), "upstreams.default.url", 4, "fragment"},
      {"bad port", up("http://h:99999"), "upstreams.default.url", 4, "invalid port"},
      {"empty", up(""), "upstreams.default.url", 4, "must not be empty"},
  });
  SUBCASE("https is recorded with port 443; a trailing slash is fine") {
    LoadResult r = parse(up("https://api.internal/"));
    REQUIRE_MESSAGE(r.ok(), all_errors(r));
    CHECK(r.config->upstreams[0].scheme == "https");
    CHECK(r.config->upstreams[0].port == 443);
    LoadResult plain = parse(up("http://api.internal"));
    REQUIRE(plain.ok());
    CHECK(plain.config->upstreams[0].port == 80);
  }
}

TEST_CASE("issuers: names, urls, key sources") {
  run_rows({
      {"name missing", std::string(kBase) + "issuers:\n  - issuer: https://a\n    jwks_uri: https://a/j\n"
                                            "    audiences: [x]\n    algorithms: [RS256]\n",
       "issuers[0].name", 5, "is required"},
      {"name bad", std::string(kBase) + "issuers:\n  - name: \"my idp\"\n" + kIssuerBody, "issuers[0].name", 5,
       "issuer name 'my idp'"},
      {"issuer missing", with_issuer("    jwks_uri: https://a/j\n    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].issuer", 5, "is required"},
      {"issuer http", with_issuer("    issuer: http://auth.example.com\n    jwks_uri: https://a/j\n"
                                  "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].issuer", 6, "must use https (http is allowed only on loopback hosts"},
      {"issuer http lookalike", with_issuer("    issuer: http://127.0.0.1.evil.com\n    jwks_uri: https://a/j\n"
                                            "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].issuer", 6, "must use https"},
      {"issuer not a url", with_issuer("    issuer: corp\n    jwks_uri: https://a/j\n"
                                       "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].issuer", 6, "not an absolute URL"},
      {"issuer query", with_issuer("    issuer: https://a/?tenant=1\n    jwks_uri: https://a/j\n"
                                   "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].issuer", 6, "must not have a query"},
      {"jwks_uri http", with_issuer("    issuer: https://a\n    jwks_uri: http://a/jwks\n"
                                    "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].jwks_uri", 7, "must use https"},
      {"jwks_uri file", with_issuer("    issuer: https://a\n    jwks_uri: file:///etc/jwks.json\n"
                                    "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].jwks_uri", 7, "only http and https"},
      {"no key source", with_issuer("    issuer: https://a\n    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0]", 5, "needs exactly one key source"},
      {"discovery false is no source", with_issuer("    issuer: https://a\n    discovery: false\n"
                                                   "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0]", 5, "needs exactly one key source"},
      {"discovery and jwks_uri", with_issuer("    issuer: https://a\n    discovery: true\n    jwks_uri: https://a/j\n"
                                             "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].jwks_uri", 8, "conflicts with issuers[0].discovery: choose exactly one key source"},
      {"jwks_uri and jwks_file", with_issuer("    issuer: https://a\n    jwks_uri: https://a/j\n    jwks_file: j.json\n"
                                             "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].jwks_file", 8, "conflicts with issuers[0].jwks_uri"},
      {"jwks_file and secret_file", with_issuer("    issuer: https://a\n    jwks_file: j.json\n    secret_file: k\n"
                                                "    audiences: [x]\n    algorithms: [HS256]\n"),
       "issuers[0].secret_file", 8, "conflicts with issuers[0].jwks_file"},
      {"discovery not bool", with_issuer("    issuer: https://a\n    discovery: sure\n"
                                         "    audiences: [x]\n    algorithms: [RS256]\n"),
       "issuers[0].discovery", 7, "must be true or false"},
      {"duplicate name", std::string(kBase) + "issuers:\n  - name: corp\n" + kIssuerBody +
                             "  - name: corp\n    issuer: https://other\n    jwks_uri: https://other/j\n"
                             "    audiences: [x]\n    algorithms: [RS256]\n",
       "issuers[1].name", 10, "issuer name 'corp' is already used on line 5"},
      {"duplicate iss", std::string(kBase) + "issuers:\n  - name: corp\n" + kIssuerBody +
                            "  - name: corp2\n    issuer: https://auth.example.com\n    jwks_uri: https://other/j\n"
                            "    audiences: [x]\n    algorithms: [RS256]\n",
       "issuers[1].issuer", 11, "issuer 'https://auth.example.com' is already used on line 6"},
      {"scope_claim empty", with_issuer(std::string(kIssuerBody) + "    scope_claim: \"\"\n"), "issuers[0].scope_claim",
       10, "must not be empty"},
      {"require_exp not bool", with_issuer(std::string(kIssuerBody) + "    require_exp: no\n"),
       "issuers[0].require_exp", 10, "must be true or false"},
      {"require_typ empty", with_issuer(std::string(kIssuerBody) + "    require_typ: \"\"\n"), "issuers[0].require_typ",
       10, "must not be empty"},
      {"cookie bad", with_issuer(std::string(kIssuerBody) + "    cookie: \"my cookie\"\n"), "issuers[0].cookie", 10,
       "not a valid cookie name"},
      {"tls on a jwks_file issuer", with_issuer("    issuer: https://a\n    jwks_file: j.json\n"
                                                "    audiences: [x]\n    algorithms: [RS256]\n    tls: {ca_file: ca.pem}\n"),
       "issuers[0].tls", 10, "only for issuers that fetch over the network"},
      {"tls without ca_file", with_issuer(std::string(kIssuerBody) + "    tls: {}\n"), "issuers[0].tls.ca_file", 10,
       "is required"},
      {"tls with an unknown key", with_issuer(std::string(kIssuerBody) + "    tls: {ca_file: ca.pem, verify: false}\n"),
       "issuers[0].tls.verify", 10, "unknown key"},
  });
  SUBCASE("tls.ca_file resolves against the config's directory, for discovery and jwks_uri issuers") {
    for (const char* source : {"    jwks_uri: https://a/j\n", "    discovery: true\n"}) {
      CAPTURE(source);
      LoadResult r = parse_gateway_config(with_issuer(std::string("    issuer: https://a\n") + source +
                                                      "    audiences: [x]\n    algorithms: [RS256]\n"
                                                      "    tls: {ca_file: certs/internal-ca.pem}\n"),
                                          "/srv/gw/gateway.yaml", "/srv/gw");
      REQUIRE_MESSAGE(r.ok(), all_errors(r));
      CHECK(r.config->issuers[0].ca_file == "/srv/gw/certs/internal-ca.pem");
    }
  }
  SUBCASE("http issuer, jwks_uri and endpoint are fine on loopback hosts") {
    for (const char* host : {"127.0.0.1:8081", "localhost", "[::1]:9000", "127.9.9.9"}) {
      CAPTURE(host);
      std::string h = host;
      LoadResult r = parse(with_issuer("    issuer: http://" + h + "\n    jwks_uri: http://" + h +
                                       "/jwks\n    audiences: [x]\n    algorithms: [RS256]\n"
                                       "    introspection: {endpoint: \"http://" + h +
                                       "/introspect\", client_id: a, client_secret_file: s}\n"));
      CHECK_MESSAGE(r.ok(), all_errors(r));
    }
  }
}

TEST_CASE("issuers: audiences") {
  auto doc = [](const std::string& line) {
    return with_issuer("    issuer: https://a\n    jwks_uri: https://a/j\n    algorithms: [RS256]\n" + line);
  };
  run_rows({
      {"missing", doc(""), "issuers[0].audiences", 5, "is required"},
      {"empty list", doc("    audiences: []\n"), "issuers[0].audiences", 9, "at least one audience"},
      {"a string", doc("    audiences: api\n"), "issuers[0].audiences", 9, "must be a list of strings"},
      {"item a map", doc("    audiences: [{a: 1}]\n"), "issuers[0].audiences[0]", 9, "must be a string"},
      {"item empty", doc("    audiences:\n      - api\n      - \"\"\n"), "issuers[0].audiences[1]", 11,
       "must not be empty"},
      {"null", doc("    audiences:\n"), "issuers[0].audiences", 9, "must be a list of strings"},
  });
}

TEST_CASE("issuers: algorithms") {
  auto doc = [](const std::string& source, const std::string& algs) {
    return with_issuer("    issuer: https://a\n    " + source + "\n    audiences: [x]\n    algorithms: " + algs + "\n");
  };
  const std::string jwks = "jwks_uri: https://a/j";
  const std::string secret = "secret_file: hmac.key";
  run_rows({
      {"missing", with_issuer("    issuer: https://a\n    jwks_uri: https://a/j\n    audiences: [x]\n"),
       "issuers[0].algorithms", 5, "is required"},
      {"empty", doc(jwks, "[]"), "issuers[0].algorithms", 9, "at least one algorithm"},
      {"a string", doc(jwks, "RS256"), "issuers[0].algorithms", 9, "must be a list of strings"},
      {"none", doc(jwks, "[RS256, none]"), "issuers[0].algorithms[1]", 9, "'none' is never allowed"},
      {"NONE", doc(jwks, "[NONE]"), "issuers[0].algorithms[0]", 9, "'none' is never allowed"},
      {"lowercase", doc(jwks, "[rs256]"), "issuers[0].algorithms[0]", 9, "case-sensitive: did you mean RS256?"},
      {"eddsa", doc(jwks, "[EDDSA]"), "issuers[0].algorithms[0]", 9, "did you mean EdDSA?"},
      {"unknown", doc(jwks, "[RS1]"), "issuers[0].algorithms[0]", 9, "unknown algorithm 'RS1' (allowed: RS256"},
      {"Ed25519 is not a JWS alg", doc(jwks, "[Ed25519]"), "issuers[0].algorithms[0]", 9, "unknown algorithm"},
      {"twice", doc(jwks, "[RS256, ES256, RS256]"), "issuers[0].algorithms[2]", 9, "listed twice"},
      {"HS with jwks", doc(jwks, "[RS256, HS256]"), "issuers[0].algorithms[1]", 9, "HS256 requires secret_file"},
      {"HS with discovery", doc("discovery: true", "[HS384]"), "issuers[0].algorithms[0]", 9,
       "HS384 requires secret_file"},
      {"RS with secret", doc(secret, "[HS256, RS256]"), "issuers[0].algorithms[1]", 9,
       "RS256 cannot be used with secret_file"},
      {"block list line", with_issuer("    issuer: https://a\n    jwks_uri: https://a/j\n    audiences: [x]\n"
                                      "    algorithms:\n      - ES256\n      - HS512\n"),
       "issuers[0].algorithms[1]", 11, "HS512 requires secret_file"},
  });
  SUBCASE("every supported algorithm loads") {
    CHECK(parse(doc(jwks, "[RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA]")).ok());
    CHECK(parse(doc(secret, "[HS256, HS384, HS512]")).ok());
  }
}

TEST_CASE("issuers: introspection") {
  auto doc = [](const std::string& issuer_lines, const std::string& intro_lines) {
    return with_issuer("    issuer: https://a\n" + issuer_lines + "    audiences: [x]\n    algorithms: [RS256]\n" +
                       "    introspection:\n" + intro_lines);
  };
  const std::string jwks = "    jwks_uri: https://a/j\n";
  const std::string ok_lines = "      endpoint: https://a/introspect\n      client_id: gw\n      client_secret_file: s\n";
  // "introspection:" is line 10 (where missing keys are reported), its first key line 11.
  run_rows({
      {"endpoint missing", doc(jwks, "      client_id: gw\n      client_secret_file: s\n"),
       "issuers[0].introspection.endpoint", 10, "is required (or discovery: true"},
      {"endpoint http", doc(jwks, "      endpoint: http://a/introspect\n      client_id: gw\n      client_secret_file: s\n"),
       "issuers[0].introspection.endpoint", 11, "must use https"},
      {"client_id missing", doc(jwks, "      endpoint: https://a/i\n      client_secret_file: s\n"),
       "issuers[0].introspection.client_id", 10, "is required"},
      {"client_secret_file missing", doc(jwks, "      endpoint: https://a/i\n      client_id: gw\n"),
       "issuers[0].introspection.client_secret_file", 10, "is required"},
      {"client_id empty", doc(jwks, "      endpoint: https://a/i\n      client_id: \"\"\n      client_secret_file: s\n"),
       "issuers[0].introspection.client_id", 12, "must not be empty"},
      {"mode", doc(jwks, ok_lines + "      mode: sometimes\n"), "issuers[0].introspection.mode", 14,
       "must be one of opaque | always | periodic, not 'sometimes'"},
      {"mode case", doc(jwks, ok_lines + "      mode: Opaque\n"), "issuers[0].introspection.mode", 14, "must be one of"},
      {"on_error", doc(jwks, ok_lines + "      on_error: allow\n"), "issuers[0].introspection.on_error", 14,
       "must be one of deny | use_cached, not 'allow'"},
      {"auth_method", doc(jwks, ok_lines + "      auth_method: private_key_jwt\n"),
       "issuers[0].introspection.auth_method", 14, "must be one of client_secret_basic | client_secret_post"},
      {"interval bare", doc(jwks, ok_lines + "      interval: 60\n"), "issuers[0].introspection.interval", 14,
       "has no unit"},
      {"not a map", with_issuer(std::string(kIssuerBody) + "    introspection: true\n"), "issuers[0].introspection", 10,
       "must be a map"},
  });
}

TEST_CASE("identity_headers") {
  auto doc = [](const std::string& body) { return std::string(kBase) + "identity_headers:\n" + body; };
  // "identity_headers:" is line 4, body starts on line 5.
  run_rows({
      {"invalid name", doc("  subject: \"X Auth\"\n"), "identity_headers.subject", 5, "is not a valid header name"},
      {"colon", doc("  issuer: \"X-Auth:\"\n"), "identity_headers.issuer", 5, "is not a valid header name"},
      {"empty", doc("  scopes: \"\"\n"), "identity_headers.scopes", 5, "must not be empty"},
      {"authorization", doc("  subject: Authorization\n"), "identity_headers.subject", 5, "cannot be an identity header"},
      {"host", doc("  subject: host\n"), "identity_headers.subject", 5, "cannot be an identity header"},
      {"content-length", doc("  claims: {email: Content_Length}\n"), "identity_headers.claims.email", 5,
       "cannot be an identity header"},
      {"transfer-encoding", doc("  claims: {email: Transfer-Encoding}\n"), "identity_headers.claims.email", 5,
       "cannot be an identity header"},
      {"connection", doc("  subject: Connection\n"), "identity_headers.subject", 5, "cannot be an identity header"},
      {"keep-alive", doc("  subject: keep_alive\n"), "identity_headers.subject", 5, "cannot be an identity header"},
      {"te", doc("  subject: TE\n"), "identity_headers.subject", 5, "cannot be an identity header"},
      {"trailer", doc("  subject: Trailer\n"), "identity_headers.subject", 5, "cannot be an identity header"},
      {"upgrade", doc("  subject: Upgrade\n"), "identity_headers.subject", 5, "cannot be an identity header"},
      {"proxy-*", doc("  subject: Proxy-Authorization\n"), "identity_headers.subject", 5,
       "cannot be an identity header"},
      {"x-forwarded-*", doc("  subject: X-Forwarded-User\n"), "identity_headers.subject", 5,
       "cannot be an identity header"},
      {"x_forwarded_for", doc("  claims: {ip: x_forwarded_for}\n"), "identity_headers.claims.ip", 5,
       "cannot be an identity header"},
      {"x-request-id", doc("  subject: X-Request-Id\n"), "identity_headers.subject", 5, "cannot be an identity header"},
      {"same as another", doc("  subject: X-User\n  issuer: x_user\n"), "identity_headers.issuer", 6,
       "is the same header as identity_headers.subject"},
      {"claim same as default", doc("  claims: {email: X-AUTH-SUBJECT}\n"), "identity_headers.claims.email", 5,
       "is the same header as identity_headers.subject (default)"},
      {"two claims one header", doc("  claims:\n    email: X-Email\n    mail: X_Email\n"), "identity_headers.claims.mail",
       7, "is the same header as identity_headers.claims.email"},
      {"claims a list", doc("  claims: [email]\n"), "identity_headers.claims", 5, "must be a map"},
      {"claim header a list", doc("  claims: {email: [X-A]}\n"), "identity_headers.claims.email", 5, "must be a string"},
      {"claim name empty", doc("  claims: {\"\": X-A}\n"), "identity_headers.claims.", 5, "claim name must not be empty"},
      {"forward_token", doc("  forward_token: maybe\n"), "identity_headers.forward_token", 5, "must be true or false"},
      {"not a map", std::string(kBase) + "identity_headers: X-Auth\n", "identity_headers", 4, "must be a map"},
  });
}

namespace {

// A scratch directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "portcullis-config-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::filesystem::path p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
};

std::filesystem::path repo_root() {
  if (const char* env = std::getenv("PORTCULLIS_SOURCE_DIR")) return env;
  // tests/unit/config/<this file> -> repo root.
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

}  // namespace

TEST_CASE("load_gateway_config reads the file and resolves paths against its directory") {
  TempDir tmp;
  std::string file = tmp.write("etc/gateway.yaml", std::string(kBase) + "policies: [policies/*.yaml]\n");
  LoadResult r = load_gateway_config(file);
  REQUIRE_MESSAGE(r.ok(), all_errors(r));
  CHECK(r.config->file == file);
  CHECK(r.config->dir == (tmp.path / "etc").string());
  CHECK(r.config->policies == std::vector<std::string>{(tmp.path / "etc" / "policies/*.yaml").string()});
}

TEST_CASE("load_gateway_config with a relative path gives an absolute dir") {
  TempDir tmp;
  tmp.write("conf/gateway.yaml", std::string(kBase) + "policies: [p.yaml]\n");
  std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(tmp.path);
  LoadResult r = load_gateway_config("conf/gateway.yaml");
  std::filesystem::current_path(cwd);
  REQUIRE_MESSAGE(r.ok(), all_errors(r));
  CHECK(r.config->file == "conf/gateway.yaml");
  CHECK(r.config->dir == (std::filesystem::canonical(tmp.path) / "conf").string());
  CHECK(r.config->policies[0] == (std::filesystem::canonical(tmp.path) / "conf" / "p.yaml").string());
}

TEST_CASE("load_gateway_config errors carry the file name") {
  TempDir tmp;
  SUBCASE("missing file") {
    std::string missing = (tmp.path / "nope.yaml").string();
    LoadResult r = load_gateway_config(missing);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].file == missing);
    CHECK(r.errors[0].message.find("cannot open") != std::string::npos);
    CHECK(r.config == nullptr);
  }
  SUBCASE("empty file") {
    std::string file = tmp.write("empty.yaml", "");
    LoadResult r = load_gateway_config(file);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].to_string() == file + ": file is empty; expected a map of settings (listen, upstreams, ...)");
  }
  SUBCASE("validation error") {
    std::string file = tmp.write("bad.yaml", std::string(kBase) + "workers: 0\n");
    LoadResult r = load_gateway_config(file);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].to_string() == file + ":4: workers: must be between 1 and 256 (got 0)");
  }
}

TEST_CASE("read_file") {
  TempDir tmp;
  std::string error;
  std::string file = tmp.write("a.txt", "hello\n");
  CHECK(read_file(file, error) == "hello\n");
  CHECK(error.empty());
  CHECK(read_file(file, error, 3).empty());
  CHECK(error.find("larger than") != std::string::npos);
  CHECK(read_file(tmp.path.string(), error).empty());
  CHECK(error.find("is a directory") != std::string::npos);
  CHECK(read_file((tmp.path / "missing").string(), error).empty());
  CHECK(error.find("cannot open") != std::string::npos);
}

TEST_CASE("examples/gateway.yaml loads") {
  std::filesystem::path file = repo_root() / "examples" / "gateway.yaml";
  REQUIRE_MESSAGE(std::filesystem::exists(file), file.string());
  LoadResult r = load_gateway_config(file.string());
  REQUIRE_MESSAGE(r.ok(), all_errors(r));
  const GatewayConfig& c = *r.config;
  CHECK(c.listen.host == "127.0.0.1");
  CHECK(c.listen.port == 8080);
  CHECK(c.admin_host == "127.0.0.1");
  CHECK(c.admin_port == 9901);
  CHECK(c.workers >= 1);
  REQUIRE(c.find_upstream("default") != nullptr);
  CHECK(c.find_upstream("default")->host == "127.0.0.1");
  CHECK(c.find_upstream("default")->port == 9000);
  CHECK(c.issuers.empty());
  CHECK(c.policies.empty());
}
