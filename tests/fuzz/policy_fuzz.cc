// Fuzz target: the policy loader (config/policy_loader.h) and what it compiles. Each input is
// read as a policy file and, when it mentions "cases", as a `portcullis test` case file,
// against the gateway config of policies/gateway.yaml (issuer corp, upstream default; plus
// issuer partners and upstream billing, so cross-references have somewhere to point).
//
// Differentials: for a policy file that loads, the compiled matcher (exact-path map + segment
// trie) picks the same route as a plain first-match scan over the routes in file order, for
// probes built from every route's own host, path and methods; a test case file that loads
// runs against the example policies without tripping anything.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"
#include "config/policy_loader.h"
#include "fuzz_check.h"
#include "policy/matcher.h"
#include "policy/model.h"
#include "policy/simulate.h"

namespace config = portcullis::config;
namespace policy = portcullis::policy;

namespace {

constexpr std::string_view kGatewayYaml = R"yaml(
listen: 127.0.0.1:8080
upstreams:
  default: {url: "http://127.0.0.1:9000"}
  billing: {url: "http://127.0.0.1:9001"}
issuers:
  - name: corp
    issuer: https://auth.example.com
    discovery: true
    audiences: [orders-api]
    algorithms: [RS256, ES256]
  - name: partners
    issuer: https://partners.example.net
    jwks_uri: https://partners.example.net/jwks.json
    audiences: [orders-api]
    algorithms: [ES256]
    scope_claim: scp
policies: [orders.yaml]
)yaml";

// policies/orders.yaml without its comments: what the test-case files run against.
constexpr std::string_view kExamplePolicies = R"yaml(
routes:
  - name: health
    match: {path: /healthz, methods: [GET]}
    auth: none
  - name: orders-read
    match: {path_prefix: /orders, methods: [GET, HEAD]}
    upstream: default
    issuers: [corp]
    require:
      scopes: {all_of: ["orders:read"]}
  - name: orders-write
    match: {path_prefix: /orders, methods: [POST, PUT, PATCH]}
    issuers: [corp]
    require:
      scopes: {all_of: ["orders:write"]}
  - name: admin
    match: {path_prefix: /admin}
    issuers: [corp]
    require:
      claims:
        roles: {contains: admin}
  - name: tenant-acme
    match: {path_prefix: /tenants/acme, methods: [GET, POST]}
    issuers: [corp]
    require:
      claims:
        tenant_id: {equals: acme}
default: deny
)yaml";

struct Fixture {
  std::shared_ptr<const config::GatewayConfig> cfg;
  std::shared_ptr<const policy::PolicySet> examples;
};

const Fixture& fixture() {
  static const Fixture* f = [] {
    auto* fx = new Fixture;
    config::LoadResult loaded = config::parse_gateway_config(kGatewayYaml, "gateway.yaml", "/etc/portcullis");
    FUZZ_CHECK(loaded.ok());
    fx->cfg = loaded.config;
    config::PolicyLoadResult examples = config::parse_policy_text(kExamplePolicies, "orders.yaml", *fx->cfg);
    FUZZ_CHECK(examples.ok());
    fx->examples = examples.policies;
    return fx;
  }();
  return *f;
}

// "/a;x=1/b;y" -> "/a/b": how an exact route also covers a path with matrix parameters.
std::string without_params(std::string_view path) {
  std::string out;
  size_t at = 1;
  while (at <= path.size()) {
    size_t end = path.find('/', at);
    if (end == std::string_view::npos) end = path.size();
    out += '/';
    out.append(policy::strip_params(path.substr(at, end - at)));
    at = end + 1;
  }
  return out;
}

bool path_matches(const policy::PathMatch& p, std::string_view path) {
  if (p.matches(path)) return true;
  return !p.prefix && path.find(';') != std::string_view::npos && without_params(path) == p.value;
}

// The meaning of a route set, as a first-match scan in file order (PRODUCT.md).
policy::MatchResult reference_match(const policy::PolicySet& set, std::string_view host_header,
                                    std::string_view method, std::string_view path) {
  const std::string_view host = policy::request_host(host_header);
  policy::MatchResult r;
  bool path_hit = false;
  for (size_t id = 0; id < set.routes.size(); ++id) {
    const policy::Route& route = set.routes[id];
    if (!route.host.matches(host) || !path_matches(route.path, path)) continue;
    path_hit = true;
    if (route.methods.allows(method)) {
      r.status = policy::MatchResult::Status::Matched;
      r.route = &route;
      r.route_id = static_cast<uint32_t>(id);
      return r;
    }
  }
  if (path_hit) r.status = policy::MatchResult::Status::MethodNotAllowed;
  return r;
}

void probe(const policy::PolicySet& set, std::string_view host, std::string_view method, std::string_view path) {
  const policy::MatchResult got = policy::match(set, host, method, path);
  const policy::MatchResult want = reference_match(set, host, method, path);
  FUZZ_CHECK(got.status == want.status);
  if (got.matched()) FUZZ_CHECK(got.route_id == want.route_id && got.route == &set.routes[got.route_id]);
  if (got.status == policy::MatchResult::Status::MethodNotAllowed) FUZZ_CHECK(!got.allow.empty());
}

void check_matcher(const policy::PolicySet& set) {
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "DELETE", "PURGE"};
  const size_t routes = std::min<size_t>(set.routes.size(), 16);
  for (size_t id = 0; id < routes; ++id) {
    const policy::Route& route = set.routes[id];
    std::string host = "api.example.com";
    if (route.host.kind == policy::HostMatch::Kind::Exact) host = route.host.value;
    if (route.host.kind == policy::HostMatch::Kind::Wildcard) host = "x" + route.host.value;
    const std::string& p = route.path.value;
    const std::string child = p == "/" ? "/x" : p + "/x";
    const std::string paths[] = {p, child, p + ";v=1", p + "X", "/"};
    std::vector<std::string_view> methods(std::begin(kMethods), std::end(kMethods));
    if (!route.methods.all && !route.methods.names.empty()) methods.push_back(route.methods.names.front());
    for (const std::string& path : paths) {
      for (std::string_view m : methods) probe(set, host, m, path);
    }
    probe(set, host + ":8443", "GET", p);
    probe(set, "other.example.org", "GET", p);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fx = fixture();
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);

  const config::PolicyLoadResult loaded = config::parse_policy_text(yaml, "fuzz.yaml", *fx.cfg);
  FUZZ_CHECK(loaded.ok() == loaded.errors.empty());
  for (const config::ConfigError& e : loaded.errors) FUZZ_CHECK(!e.message.empty() && e.line >= 0);
  if (loaded.ok()) check_matcher(*loaded.policies);

  // Parsing YAML dominates the cost: only inputs that could be a case file are read as one.
  if (yaml.find("cases") == std::string_view::npos) return 0;
  const config::PolicyTestsResult tests = config::parse_policy_tests(yaml, "tests.yaml");
  for (const config::ConfigError& e : tests.errors) FUZZ_CHECK(!e.message.empty() && e.line >= 0);
  if (tests.ok()) {
    size_t run = 0;
    for (const policy::TestCase& test : tests.cases) {
      if (run++ == 8) break;
      const policy::TestOutcome outcome = policy::run_test(*fx.examples, test);
      const int status = outcome.decision.status;
      FUZZ_CHECK(status == 200 || status == 400 || status == 401 || status == 403 || status == 404 || status == 405);
    }
  }
  return 0;
}
