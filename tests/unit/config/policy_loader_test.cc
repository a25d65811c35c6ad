#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/policy_loader.h"

using namespace portcullis::config;
using namespace portcullis::policy;

namespace {

// A gateway config as the loader needs it: issuers corp and partner, upstreams default and
// billing.
GatewayConfig example_config() {
  GatewayConfig cfg;
  cfg.file = "gateway.yaml";
  IssuerConfig corp;
  corp.name = "corp";
  corp.issuer = "https://auth.example.com";
  IssuerConfig partner;
  partner.name = "partner";
  partner.issuer = "https://partner.example.net";
  partner.scope_claim = "scp";
  cfg.issuers = {corp, partner};
  UpstreamConfig def;
  def.name = "default";
  UpstreamConfig billing;
  billing.name = "billing";
  cfg.upstreams = {def, billing};
  return cfg;
}

std::string errors_text(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

// The repository root, from this file's path (CMake passes absolute paths).
std::string repo_root() {
  std::string f = __FILE__;
  return f.substr(0, f.rfind("/tests/unit/config/"));
}

// PRODUCT.md "Policy files", verbatim.
constexpr const char* kContractExample = R"(routes:
  - name: health
    match: {path: /healthz, methods: [GET]}
    auth: none
  - name: orders-read
    match: {host: api.example.com, path_prefix: /orders, methods: [GET, HEAD]}
    upstream: default
    issuers: [corp]
    require:
      scopes: {all_of: [orders:read]}           # or any_of
      claims: {tenant_id: {equals: acme}, roles: {contains: admin}}
  - name: admin
    match: {path_prefix: /admin}
    require: {scopes: {any_of: [admin]}}
default: deny
)";

}  // namespace

TEST_CASE("the contract's example policy loads") {
  auto cfg = example_config();
  PolicyLoadResult r = parse_policy_text(kContractExample, "policies/example.yaml", cfg);
  INFO(errors_text(r.errors));
  REQUIRE(r.ok());
  const PolicySet& set = *r.policies;
  REQUIRE(set.routes.size() == 3);
  CHECK(set.default_deny);
  CHECK(set.files == std::vector<std::string>{"policies/example.yaml"});
  CHECK(set.issuers.size() == 2);
  CHECK(set.upstreams == std::vector<std::string>{"default", "billing"});

  const Route& health = set.routes[0];
  CHECK(health.name == "health");
  CHECK(health.line == 2);
  CHECK(health.file == "policies/example.yaml");
  CHECK(health.auth == AuthMode::None);
  CHECK_FALSE(health.path.prefix);
  CHECK(health.path.value == "/healthz");
  CHECK(health.methods.names == std::vector<std::string>{"GET"});
  CHECK(health.host.kind == HostMatch::Kind::Any);

  const Route& read = set.routes[1];
  CHECK(read.auth == AuthMode::Required);
  CHECK(read.host.kind == HostMatch::Kind::Exact);
  CHECK(read.host.value == "api.example.com");
  CHECK(read.path.prefix);
  CHECK(read.issuers == std::vector<size_t>{0});
  CHECK(read.upstream == 0);
  CHECK(read.has_scopes);
  CHECK(read.scopes.mode == ScopeRequirement::Mode::AllOf);
  CHECK(read.scopes.scopes == std::vector<std::string>{"orders:read"});
  CHECK(read.required_scopes == "orders:read");
  REQUIRE(read.claims.size() == 2);
  CHECK(read.claims[0].name == "tenant_id");
  CHECK(read.claims[0].op == ClaimRequirement::Op::Equals);
  CHECK(read.claims[0].values[0].type == ClaimValue::Type::String);
  CHECK(read.claims[0].values[0].text == "acme");
  CHECK(read.claims[1].name == "roles");
  CHECK(read.claims[1].op == ClaimRequirement::Op::Contains);

  const Route& admin = set.routes[2];
  CHECK(admin.methods.all);
  CHECK(admin.issuers.empty());
  CHECK(admin.scopes.mode == ScopeRequirement::Mode::AnyOf);
  CHECK(admin.upstream_name == "default");
  // The index was compiled.
  CHECK_FALSE(set.index.nodes.empty());
  CHECK(set.index.exact.count("/healthz") == 1);
}

TEST_CASE("the shipped example policies load and their tests parse") {
  auto cfg = example_config();
  const std::string root = repo_root();
  PolicyLoadResult r = load_policies({root + "/policies/orders.yaml"}, cfg);
  INFO(errors_text(r.errors));
  REQUIRE(r.ok());
  CHECK(r.policies->routes.size() == 5);
  CHECK(r.policies->find("tenant-acme") != nullptr);

  PolicyTestsResult t = load_policy_tests(root + "/policies/tests.yaml");
  INFO(errors_text(t.errors));
  REQUIRE(t.ok());
  CHECK(t.cases.size() >= 15);
  int statuses[6] = {};
  for (const auto& c : t.cases) {
    CHECK_FALSE(c.name.empty());
    CHECK(c.line > 0);
    for (int i = 0; i < 6; ++i) statuses[i] += c.expect_status == (int[]){200, 400, 401, 403, 404, 405}[i];
  }
  for (int count : statuses) CHECK(count > 0);  // every outcome is covered
}

TEST_CASE("claim values keep their YAML types") {
  auto cfg = example_config();
  const char* yaml = R"(routes:
  - name: r
    match: {path_prefix: /}
    require:
      claims:
        s: {equals: acme}
        quoted_number: {equals: "42"}
        int: {equals: 42}
        negative: {equals: -7}
        float: {equals: 1.5}
        exp_float: {equals: 1e3}
        yes_is_a_string: {equals: yes}
        bool: {equals: true}
        single_quoted_bool: {equals: 'true'}
        list: {one_of: [a, 2, false]}
        has: {exists: false}
        colon: {contains: "orders:read"}
)";
  PolicyLoadResult r = parse_policy_text(yaml, "p.yaml", cfg);
  INFO(errors_text(r.errors));
  REQUIRE(r.ok());
  const auto& c = r.policies->routes[0].claims;
  REQUIRE(c.size() == 12);
  using T = ClaimValue::Type;
  CHECK(c[0].values[0].type == T::String);
  CHECK(c[1].values[0].type == T::String);
  CHECK(c[1].values[0].text == "42");
  CHECK(c[2].values[0].type == T::Integer);
  CHECK(c[2].values[0].integer == 42);
  CHECK(c[3].values[0].integer == -7);
  CHECK(c[4].values[0].type == T::Number);
  CHECK(c[4].values[0].number == 1.5);
  CHECK(c[5].values[0].type == T::Number);
  CHECK(c[5].values[0].number == 1000.0);
  CHECK(c[6].values[0].type == T::String);
  CHECK(c[7].values[0].type == T::Bool);
  CHECK(c[7].values[0].boolean);
  CHECK(c[8].values[0].type == T::String);
  REQUIRE(c[9].values.size() == 3);
  CHECK(c[9].values[1].type == T::Integer);
  CHECK(c[9].values[2].type == T::Bool);
  CHECK(c[10].op == ClaimRequirement::Op::Exists);
  CHECK_FALSE(c[10].exists);
  CHECK(c[11].values[0].text == "orders:read");
}

TEST_CASE("normalization of what ops write: hosts lowercased, methods uppercased, wildcards") {
  auto cfg = example_config();
  const char* yaml = R"(routes:
  - name: r1
    match: {host: API.Example.COM, path: /a, methods: [get, Post, PURGE]}
  - name: r2
    match: {host: "*.Example.com", path_prefix: /}
    auth: optional
    upstream: billing
    issuers: [partner, corp]
    require: {scopes: {any_of: [a, b]}}
  - name: r3
    match: {path_prefix: /}
    auth: required
)";
  PolicyLoadResult r = parse_policy_text(yaml, "p.yaml", cfg);
  INFO(errors_text(r.errors));
  REQUIRE(r.ok());
  const auto& routes = r.policies->routes;
  CHECK(routes[0].host.value == "api.example.com");
  CHECK(routes[0].methods.names == std::vector<std::string>{"GET", "POST", "PURGE"});
  CHECK(routes[0].methods.allows("PURGE"));
  CHECK_FALSE(routes[0].methods.allows("get"));
  CHECK(routes[1].host.kind == HostMatch::Kind::Wildcard);
  CHECK(routes[1].host.value == ".example.com");
  CHECK(routes[1].auth == AuthMode::Optional);
  CHECK(routes[1].upstream == 1);
  CHECK(routes[1].upstream_name == "billing");
  CHECK(routes[1].issuers == std::vector<size_t>{1, 0});
  CHECK(routes[1].required_scopes == "a b");
  CHECK(routes[2].auth == AuthMode::Required);
}

TEST_CASE("empty routes are allowed; an empty file is not") {
  auto cfg = example_config();
  SUBCASE("routes: []") {
    auto r = parse_policy_text("routes: []\n", "p.yaml", cfg);
    REQUIRE(r.ok());
    CHECK(r.policies->routes.empty());
  }
  SUBCASE("routes with no value") { CHECK(parse_policy_text("routes:\ndefault: deny\n", "p.yaml", cfg).ok()); }
  SUBCASE("default only") { CHECK(parse_policy_text("default: deny\n", "p.yaml", cfg).ok()); }
  SUBCASE("empty file") {
    auto r = parse_policy_text("# nothing\n", "p.yaml", cfg);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find("file is empty") != std::string::npos);
    CHECK_FALSE(r.policies);
  }
}

TEST_CASE("every policy error names file, line and YAML path") {
  auto cfg = example_config();
  struct Row {
    const char* name;
    const char* route;  // YAML text of one route item, indented under "routes:" (lines start at 2)
    int line;
    const char* key;
    const char* message;  // substring
  };
  const std::vector<Row> rows = {
      {"unknown route key", "  - name: r\n    match: {path: /a}\n    upstreams: x\n", 4, "routes[0].upstreams",
       "unknown key 'upstreams'"},
      {"unknown match key", "  - name: r\n    match:\n      path_prefx: /a\n", 4, "routes[0].match.path_prefx",
       "unknown key 'path_prefx'"},
      {"unknown require key", "  - name: r\n    match: {path: /a}\n    require: {scope: {all_of: [a]}}\n", 4,
       "routes[0].require.scope", "unknown key 'scope'"},
      {"unknown claim operator",
       "  - name: r\n    match: {path: /a}\n    require:\n      claims: {t: {equal: a}}\n", 5,
       "routes[0].require.claims.t.equal", "unknown key 'equal'"},
      {"duplicate key", "  - name: r\n    name: s\n    match: {path: /a}\n", 3, "routes[0].name", "duplicate key"},
      {"route not a map", "  - just a string\n", 2, "routes[0]", "must be a map"},
      {"name missing", "  - match: {path: /a}\n", 2, "routes[0].name", "is required"},
      {"name empty", "  - name: \"\"\n    match: {path: /a}\n", 2, "routes[0].name", "must not be empty"},
      {"name with spaces", "  - name: my route\n    match: {path: /a}\n", 2, "routes[0].name",
       "not a valid route name"},
      {"name a list", "  - name: [a]\n    match: {path: /a}\n", 2, "routes[0].name", "must be a string"},
      {"match missing", "  - name: r\n", 2, "routes[0].match", "is required"},
      {"match a string", "  - name: r\n    match: /a\n", 3, "routes[0].match", "must be a map"},
      {"neither path nor prefix", "  - name: r\n    match: {methods: [GET]}\n", 3, "routes[0].match",
       "needs path (exact) or path_prefix"},
      {"both path and prefix", "  - name: r\n    match: {path: /a, path_prefix: /a}\n", 3,
       "routes[0].match.path_prefix", "either path (exact) or path_prefix"},
      {"path without slash", "  - name: r\n    match: {path: a}\n", 3, "routes[0].match.path", "must start with '/'"},
      {"path with dot-dot", "  - name: r\n    match: {path: /a/../b}\n", 3, "routes[0].match.path",
       "not canonical: requests are matched after normalization, so write '/b'"},
      {"path with double slash", "  - name: r\n    match:\n      path_prefix: //a\n", 4,
       "routes[0].match.path_prefix", "write '/a'"},
      {"path with encoded unreserved", "  - name: r\n    match: {path: /%61}\n", 3, "routes[0].match.path",
       "write '/a'"},
      {"path with lowercase escape", "  - name: r\n    match: {path: /a%3b}\n", 3, "routes[0].match.path",
       "write '/a%3B'"},
      {"path with encoded slash", "  - name: r\n    match: {path: /a%2Fb}\n", 3, "routes[0].match.path",
       "not a valid request path (encoded_slash)"},
      {"path with a query", "  - name: r\n    match: {path: \"/a?b=1\"}\n", 3, "routes[0].match.path",
       "not a valid request path"},
      {"path with a space", "  - name: r\n    match: {path: \"/a b\"}\n", 3, "routes[0].match.path",
       "not a valid request path"},
      {"prefix with trailing slash", "  - name: r\n    match: {path_prefix: /orders/}\n", 3,
       "routes[0].match.path_prefix", "must not end with '/'"},
      {"prefix with params", "  - name: r\n    match: {path_prefix: \"/a;v=1\"}\n", 3,
       "routes[0].match.path_prefix", "cannot contain ';'"},
      {"path a number", "  - name: r\n    match: {path: [/a]}\n", 3, "routes[0].match.path", "must be a string"},
      {"host with port", "  - name: r\n    match: {host: \"api.example.com:8080\", path: /a}\n", 3,
       "routes[0].match.host", "has a port"},
      {"host star", "  - name: r\n    match: {host: \"*\", path: /a}\n", 3, "routes[0].match.host",
       "leave host out"},
      {"host inner wildcard", "  - name: r\n    match: {host: \"a.*.com\", path: /a}\n", 3, "routes[0].match.host",
       "whole leading label"},
      {"host partial wildcard", "  - name: r\n    match: {host: \"*api.com\", path: /a}\n", 3,
       "routes[0].match.host", "whole leading label"},
      {"host invalid", "  - name: r\n    match: {host: \"api/x\", path: /a}\n", 3, "routes[0].match.host",
       "not a valid host name"},
      {"host bracketed", "  - name: r\n    match: {host: \"[::1]\", path: /a}\n", 3, "routes[0].match.host",
       "without brackets"},
      {"methods empty", "  - name: r\n    match: {path: /a, methods: []}\n", 3, "routes[0].match.methods",
       "leave methods out"},
      {"methods a string", "  - name: r\n    match: {path: /a, methods: GET}\n", 3, "routes[0].match.methods",
       "must be a list"},
      {"method not a token", "  - name: r\n    match:\n      path: /a\n      methods: [GET, \"GE T\"]\n", 5,
       "routes[0].match.methods[1]", "not a method token"},
      {"method twice", "  - name: r\n    match:\n      path: /a\n      methods: [GET, get]\n", 5,
       "routes[0].match.methods[1]", "GET is listed twice"},
      {"method CONNECT", "  - name: r\n    match:\n      path: /a\n      methods: [CONNECT]\n", 5,
       "routes[0].match.methods[0]", "always refused"},
      {"auth bad", "  - name: r\n    match: {path: /a}\n    auth: maybe\n", 4, "routes[0].auth",
       "not an auth mode"},
      {"auth bool", "  - name: r\n    match: {path: /a}\n    auth: [none]\n", 4, "routes[0].auth",
       "must be none, optional or required"},
      {"unknown upstream", "  - name: r\n    match: {path: /a}\n    upstream: payments\n", 4, "routes[0].upstream",
       "no upstream named 'payments' in gateway.yaml (known: default, billing)"},
      {"unknown issuer", "  - name: r\n    match: {path: /a}\n    issuers: [corp, google]\n", 4,
       "routes[0].issuers[1]", "no issuer named 'google' in gateway.yaml (known: corp, partner)"},
      {"issuer twice", "  - name: r\n    match: {path: /a}\n    issuers: [corp, corp]\n", 4, "routes[0].issuers[1]",
       "listed twice"},
      {"issuers empty", "  - name: r\n    match: {path: /a}\n    issuers: []\n", 4, "routes[0].issuers",
       "leave issuers out"},
      {"issuers a string", "  - name: r\n    match: {path: /a}\n    issuers: corp\n", 4, "routes[0].issuers",
       "must be a list"},
      {"auth none with issuers", "  - name: r\n    match: {path: /a}\n    auth: none\n    issuers: [corp]\n", 5,
       "routes[0].issuers", "not allowed on an auth: none route"},
      {"auth none with require",
       "  - name: r\n    match: {path: /a}\n    auth: none\n    require: {scopes: {all_of: [a]}}\n", 5,
       "routes[0].require", "not allowed on an auth: none route"},
      {"scopes both", "  - name: r\n    match: {path: /a}\n    require: {scopes: {all_of: [a], any_of: [b]}}\n", 4,
       "routes[0].require.scopes.any_of", "either all_of or any_of"},
      {"scopes neither", "  - name: r\n    match: {path: /a}\n    require:\n      scopes: {}\n", 5,
       "routes[0].require.scopes", "needs all_of or any_of"},
      {"scopes empty list", "  - name: r\n    match: {path: /a}\n    require: {scopes: {all_of: []}}\n", 4,
       "routes[0].require.scopes.all_of", "must not be empty"},
      {"scope with a space", "  - name: r\n    match: {path: /a}\n    require: {scopes: {all_of: [\"a b\"]}}\n", 4,
       "routes[0].require.scopes.all_of[0]", "not a scope token"},
      {"scope with a quote", "  - name: r\n    match: {path: /a}\n    require: {scopes: {any_of: ['a\"b']}}\n", 4,
       "routes[0].require.scopes.any_of[0]", "not a scope token"},
      {"scope twice", "  - name: r\n    match: {path: /a}\n    require: {scopes: {all_of: [a, a]}}\n", 4,
       "routes[0].require.scopes.all_of[1]", "listed twice"},
      {"claims empty", "  - name: r\n    match: {path: /a}\n    require: {claims: {}}\n", 4,
       "routes[0].require.claims", "must not be empty"},
      {"claim two operators",
       "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {equals: a, exists: true}\n", 6,
       "routes[0].require.claims.t.exists", "one of equals, one_of, contains or exists"},
      {"claim no operator", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {}\n", 6,
       "routes[0].require.claims.t", "needs one of"},
      {"claim not a map", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: acme\n", 6,
       "routes[0].require.claims.t", "must be a map"},
      {"equals null", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {equals: null}\n",
       6, "routes[0].require.claims.t.equals", "null is not a claim value"},
      {"equals empty", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {equals: }\n", 6,
       "routes[0].require.claims.t.equals", "has no value"},
      {"equals a list", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {equals: [a]}\n",
       6, "routes[0].require.claims.t.equals", "must be a string, number or boolean"},
      {"equals huge integer",
       "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {equals: 99999999999999999999}\n", 6,
       "routes[0].require.claims.t.equals", "not a usable number"},
      {"equals .inf", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {equals: .inf}\n",
       6, "routes[0].require.claims.t.equals", "not a usable number"},
      {"one_of empty", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {one_of: []}\n",
       6, "routes[0].require.claims.t.one_of", "at least one value"},
      {"one_of scalar", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {one_of: a}\n", 6,
       "routes[0].require.claims.t.one_of", "must be a list"},
      {"one_of holding a map",
       "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {one_of: [a, {b: c}]}\n", 6,
       "routes[0].require.claims.t.one_of[1]", "must be a string, number or boolean"},
      {"contains a map",
       "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {contains: {a: b}}\n", 6,
       "routes[0].require.claims.t.contains", "must be a string, number or boolean"},
      {"exists not a bool", "  - name: r\n    match: {path: /a}\n    require:\n      claims:\n        t: {exists: yes}\n",
       6, "routes[0].require.claims.t.exists", "must be true or false"},
      {"require a list", "  - name: r\n    match: {path: /a}\n    require: [a]\n", 4, "routes[0].require",
       "must be a map"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      std::string yaml = std::string("routes:\n") + row.route;
      PolicyLoadResult r = parse_policy_text(yaml, "policies/p.yaml", cfg);
      INFO(yaml);
      INFO(errors_text(r.errors));
      CHECK_FALSE(r.policies);
      // One error, except where a misspelt key also leaves a required one missing.
      const std::string name = row.name;
      REQUIRE(r.errors.size() == (name == "unknown match key" || name == "unknown claim operator" ? 2u : 1u));
      const ConfigError& e = *std::find_if(r.errors.begin(), r.errors.end(),
                                           [&](const ConfigError& x) { return x.key == row.key; });
      CHECK(e.file == "policies/p.yaml");
      CHECK(e.line == row.line);
      CHECK(e.key == row.key);
      CHECK(e.message.find(row.message) != std::string::npos);
    }
  }
}

TEST_CASE("file-level errors") {
  auto cfg = example_config();
  struct Row {
    const char* name;
    const char* yaml;
    int line;
    const char* key;
    const char* message;
  };
  const std::vector<Row> rows = {
      {"default allow", "routes: []\ndefault: allow\n", 2, "default", "the only value is 'deny'"},
      {"unknown top-level key", "routes: []\nroute: []\n", 2, "route", "unknown key 'route' (allowed: routes, default)"},
      {"routes a map", "routes: {a: b}\n", 1, "routes", "must be a list of routes"},
      {"top level a list", "- a\n", 1, "", "must be a map"},
      {"two documents", "routes: []\n---\nroutes: []\n", 3, "", "more than one YAML document"},
      {"syntax error", "routes: [\n", 2, "", "YAML syntax error"},
      {"merge key", "routes:\n  - <<: {name: a}\n    match: {path: /a}\n", 2, "routes[0].<<", "merge keys"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      PolicyLoadResult r = parse_policy_text(row.yaml, "p.yaml", cfg);
      INFO(errors_text(r.errors));
      REQUIRE_FALSE(r.errors.empty());
      CHECK(r.errors[0].line == row.line);
      CHECK(r.errors[0].key == row.key);
      CHECK(r.errors[0].message.find(row.message) != std::string::npos);
      CHECK_FALSE(r.policies);
    }
  }
}

TEST_CASE("an upstream named default is needed by routes that name none") {
  auto cfg = example_config();
  cfg.upstreams.erase(cfg.upstreams.begin());
  auto r = parse_policy_text("routes:\n  - name: r\n    match: {path: /a}\n", "p.yaml", cfg);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 2);
  CHECK(r.errors[0].key == "routes[0].upstream");
  CHECK(r.errors[0].message.find("routes without `upstream` use 'default'") != std::string::npos);
}

TEST_CASE("errors are all collected, in line order") {
  auto cfg = example_config();
  const char* yaml = R"(routes:
  - name: a
    match: {path: a}
  - name: b
    match: {path: /b, methods: []}
    upstream: nope
default: allow
)";
  auto r = parse_policy_text(yaml, "p.yaml", cfg);
  REQUIRE(r.errors.size() == 4);
  CHECK(r.errors[0].line == 3);
  CHECK(r.errors[1].line == 5);
  CHECK(r.errors[2].line == 6);
  CHECK(r.errors[3].line == 7);
  CHECK(r.errors[0].to_string() == "p.yaml:3: routes[0].match.path: 'a' must start with '/'");
}

TEST_CASE("shadowed routes are errors naming both routes") {
  auto cfg = example_config();
  struct Row {
    const char* name;
    const char* first;   // match of the earlier route
    const char* second;  // match of the later route
    bool shadowed;
  };
  const std::vector<Row> rows = {
      {"same exact path", "{path: /a}", "{path: /a}", true},
      {"prefix covers exact below", "{path_prefix: /a}", "{path: /a/b}", true},
      {"prefix covers its own exact", "{path_prefix: /a}", "{path: /a}", true},
      {"prefix covers exact with params", "{path_prefix: /a}", "{path: \"/a;x/b\"}", true},
      {"prefix covers longer prefix", "{path_prefix: /a}", "{path_prefix: /a/b}", true},
      {"root covers everything", "{path_prefix: /}", "{path: /x}", true},
      {"same prefix", "{path_prefix: /a}", "{path_prefix: /a}", true},
      {"prefix is segment-aware", "{path_prefix: /a}", "{path_prefix: /ab}", false},
      {"exact does not cover prefix", "{path: /a}", "{path_prefix: /a}", false},
      {"longer prefix does not cover shorter", "{path_prefix: /a/b}", "{path_prefix: /a}", false},
      {"all methods cover some", "{path_prefix: /a}", "{path: /a, methods: [GET]}", true},
      {"superset of methods", "{path_prefix: /a, methods: [GET, POST]}", "{path: /a, methods: [post]}", true},
      {"extension methods", "{path_prefix: /a, methods: [PURGE, GET]}", "{path: /a, methods: [PURGE]}", true},
      {"disjoint methods", "{path_prefix: /a, methods: [GET]}", "{path: /a, methods: [POST]}", false},
      {"partial methods", "{path_prefix: /a, methods: [GET]}", "{path: /a, methods: [GET, POST]}", false},
      {"some methods do not cover all", "{path_prefix: /a, methods: [GET]}", "{path: /a}", false},
      {"any host covers a host", "{path_prefix: /a}", "{host: api.example.com, path: /a}", true},
      {"host does not cover any host", "{host: api.example.com, path_prefix: /a}", "{path: /a}", false},
      {"same host, other case", "{host: API.example.com, path_prefix: /a}", "{host: api.EXAMPLE.com, path: /a}", true},
      {"other host", "{host: a.example.com, path_prefix: /a}", "{host: b.example.com, path: /a}", false},
      {"wildcard covers subdomain", "{host: \"*.example.com\", path_prefix: /}", "{host: api.example.com, path: /a}",
       true},
      {"wildcard does not cover apex", "{host: \"*.example.com\", path_prefix: /}", "{host: example.com, path: /a}",
       false},
      {"wildcard covers deeper wildcard", "{host: \"*.example.com\", path_prefix: /}",
       "{host: \"*.eu.example.com\", path: /a}", true},
      {"deeper wildcard does not cover wider", "{host: \"*.eu.example.com\", path_prefix: /}",
       "{host: \"*.example.com\", path: /a}", false},
      {"exact host does not cover wildcard", "{host: api.example.com, path_prefix: /}",
       "{host: \"*.example.com\", path: /a}", false},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      std::string yaml = std::string("routes:\n  - name: first\n    match: ") + row.first +
                         "\n  - name: second\n    match: " + row.second + "\n";
      auto r = parse_policy_text(yaml, "p.yaml", cfg);
      INFO(yaml);
      INFO(errors_text(r.errors));
      if (row.shadowed) {
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].line == 4);
        CHECK(r.errors[0].key == "routes[1]");
        CHECK(r.errors[0].message.find("route 'second' (p.yaml:4) is unreachable: route 'first' (p.yaml:2") !=
              std::string::npos);
      } else {
        CHECK(r.ok());
      }
    }
  }
}

TEST_CASE("cross-file checks: duplicate names and shadowing across files") {
  auto cfg = example_config();
  auto r = parse_policy_texts({{"a.yaml", "routes:\n  - name: all\n    match: {path_prefix: /api}\n"},
                               {"b.yaml", "routes:\n  - name: all\n    match: {path: /other}\n"
                                          "  - name: late\n    match: {path: /api/x}\n"}},
                              cfg);
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].to_string() ==
        "b.yaml:2: routes[0].name: duplicate route name 'all' (first defined at a.yaml:2)");
  CHECK(r.errors[1].file == "b.yaml");
  CHECK(r.errors[1].line == 4);
  CHECK(r.errors[1].message.find("route 'late' (b.yaml:4) is unreachable: route 'all' (a.yaml:2, path_prefix /api)") !=
        std::string::npos);

  auto ok = parse_policy_texts({{"a.yaml", "routes:\n  - name: a\n    match: {path: /a}\n"},
                                {"b.yaml", "routes:\n  - name: b\n    match: {path: /b}\n"}},
                               cfg);
  REQUIRE(ok.ok());
  CHECK(ok.policies->routes[1].file == "b.yaml");
  CHECK(ok.policies->files == std::vector<std::string>{"a.yaml", "b.yaml"});
}

TEST_CASE("load_policies expands globs in order, sorted per pattern") {
  auto cfg = example_config();
  char tmpl[] = "/tmp/portcullis-policy-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  auto write = [&](const std::string& name, const std::string& text) { std::ofstream(dir + "/" + name) << text; };
  write("b.yaml", "routes:\n  - name: b\n    match: {path: /b}\n");
  write("a.yaml", "routes:\n  - name: a\n    match: {path: /a}\n");
  write("z.yml", "routes:\n  - name: z\n    match: {path: /z}\n");
  write("bad.txt", "routes: [\n");

  SUBCASE("sorted within a pattern, patterns in order, duplicates once") {
    auto r = load_policies({dir + "/z.yml", dir + "/*.yaml", dir + "/a.yaml"}, cfg);
    INFO(errors_text(r.errors));
    REQUIRE(r.ok());
    REQUIRE(r.policies->routes.size() == 3);
    CHECK(r.policies->routes[0].name == "z");
    CHECK(r.policies->routes[1].name == "a");
    CHECK(r.policies->routes[2].name == "b");
    CHECK(r.policies->files.size() == 3);
  }
  SUBCASE("a pattern matching nothing") {
    auto r = load_policies({dir + "/*.json"}, cfg);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].file == "gateway.yaml");
    CHECK(r.errors[0].key == "policies");
    CHECK(r.errors[0].message.find("matches no file") != std::string::npos);
  }
  SUBCASE("a missing plain file") {
    auto r = load_policies({dir + "/missing.yaml"}, cfg);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find("matches no file") != std::string::npos);
  }
  SUBCASE("a bad file reports its own name") {
    auto r = load_policies({dir + "/*.yaml", dir + "/bad.txt"}, cfg);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].file == dir + "/bad.txt");
    CHECK(r.errors[0].message.find("YAML syntax error") != std::string::npos);
  }
  SUBCASE("a directory") {
    std::filesystem::create_directory(dir + "/sub.yaml");
    auto r = load_policies({dir + "/sub.yaml"}, cfg);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message.find("directory") != std::string::npos);
  }
  SUBCASE("no patterns: an empty set") {
    auto r = load_policies({}, cfg);
    REQUIRE(r.ok());
    CHECK(r.policies->routes.empty());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("policy tests file") {
  const char* yaml = R"(cases:
  - name: one
    request: {method: GET, path: "/orders?x=1", host: api.example.com, headers: {X-Original-URL: /admin}}
    token: {claims: {sub: alice, scope: "orders:read", n: 42, s: "42", f: 1.5, b: true, l: [a, 1], o: {k: null}}}
    expect: {status: 200, route: orders-read, reason: allowed}
  - name: two
    request: {method: POST, path: /x}
    token: invalid
    expect: {status: 401}
  - name: three
    request: {method: GET, path: /}
    token: none
    expect: {status: 404}
)";
  auto r = parse_policy_tests(yaml, "tests.yaml");
  INFO(errors_text(r.errors));
  REQUIRE(r.ok());
  REQUIRE(r.cases.size() == 3);
  const TestCase& one = r.cases[0];
  CHECK(one.name == "one");
  CHECK(one.line == 2);
  CHECK(one.file == "tests.yaml");
  CHECK(one.request.method == "GET");
  CHECK(one.request.target == "/orders?x=1");
  CHECK(one.request.host == "api.example.com");
  REQUIRE(one.request.headers.size() == 1);
  CHECK(one.request.headers[0].first == "X-Original-URL");
  CHECK(one.token.kind == SimToken::Kind::Claims);
  CHECK(one.token.claims_json ==
        R"({"sub":"alice","scope":"orders:read","n":42,"s":"42","f":1.5,"b":true,"l":["a",1],"o":{"k":null}})");
  CHECK(one.expect_status == 200);
  CHECK(one.expect_route == "orders-read");
  CHECK(one.expect_reason == "allowed");
  CHECK(r.cases[1].token.kind == SimToken::Kind::Invalid);
  CHECK(r.cases[2].token.kind == SimToken::Kind::None);
  CHECK(r.cases[2].expect_route.empty());
}

TEST_CASE("policy tests file errors") {
  struct Row {
    const char* name;
    const char* yaml;
    int line;
    const char* key;
    const char* message;
  };
  const std::vector<Row> rows = {
      {"no cases", "cases: []\n", 1, "cases", "at least one case"},
      {"cases missing", "{}\n", 1, "cases", "is required"},
      {"name missing", "cases:\n  - request: {method: GET, path: /}\n    expect: {status: 200}\n", 2, "cases[0].name",
       "is required"},
      {"request missing", "cases:\n  - name: a\n    expect: {status: 200}\n", 2, "cases[0].request", "is required"},
      {"path missing", "cases:\n  - name: a\n    request: {method: GET}\n    expect: {status: 200}\n", 3,
       "cases[0].request.path", "is required"},
      {"unknown request key",
       "cases:\n  - name: a\n    request: {method: GET, path: /, query: x}\n    expect: {status: 200}\n", 3,
       "cases[0].request.query", "unknown key"},
      {"expect missing", "cases:\n  - name: a\n    request: {method: GET, path: /}\n", 2, "cases[0].expect",
       "is required"},
      {"bad status", "cases:\n  - name: a\n    request: {method: GET, path: /}\n    expect: {status: 302}\n", 4,
       "cases[0].expect.status", "not a status a policy decides"},
      {"status text", "cases:\n  - name: a\n    request: {method: GET, path: /}\n    expect: {status: ok}\n", 4,
       "cases[0].expect.status", "not a status"},
      {"bad token word",
       "cases:\n  - name: a\n    request: {method: GET, path: /}\n    token: expired\n    expect: {status: 401}\n", 4,
       "cases[0].token", "not a token"},
      {"claims not a map",
       "cases:\n  - name: a\n    request: {method: GET, path: /}\n    token: {claims: [a]}\n    expect: {status: 401}\n",
       4, "cases[0].token.claims", "must be a map"},
      {"token unknown key",
       "cases:\n  - name: a\n    request: {method: GET, path: /}\n    token: {jwt: x}\n    expect: {status: 401}\n", 4,
       "cases[0].token.jwt", "unknown key"},
      {"duplicate case names",
       "cases:\n  - name: a\n    request: {method: GET, path: /}\n    expect: {status: 404}\n"
       "  - name: a\n    request: {method: GET, path: /}\n    expect: {status: 404}\n",
       5, "cases[1].name", "duplicate case name 'a' (first on line 2)"},
      {"empty file", "", 0, "", "file is empty"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      auto r = parse_policy_tests(row.yaml, "tests.yaml");
      INFO(errors_text(r.errors));
      // A misspelt key also leaves the required one missing: two errors there.
      REQUIRE(r.errors.size() == (std::string(row.name) == "token unknown key" ? 2u : 1u));
      CHECK(r.errors[0].line == row.line);
      CHECK(r.errors[0].key == row.key);
      CHECK(r.errors[0].message.find(row.message) != std::string::npos);
      CHECK(r.cases.empty());
    }
  }
  SUBCASE("missing file") {
    auto r = load_policy_tests("/nonexistent/tests.yaml");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].file == "/nonexistent/tests.yaml");
  }
}
