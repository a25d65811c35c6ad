#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "policy/simulate.h"
#include "policy_test_util.h"

using namespace portcullis::policy;
using namespace portcullis::policy::testing;
using Op = ClaimRequirement::Op;

namespace {

// The contract's example set, built by hand: health, orders-read (corp only), admin.
std::shared_ptr<PolicySet> orders_set() {
  auto set = std::make_shared<PolicySet>();
  set->routes.push_back(make_route({.name = "health", .path = "/healthz", .methods = {"GET"}, .auth = AuthMode::None}, 1));
  Route read = make_route({.name = "orders-read", .path_prefix = "/orders", .methods = {"GET", "HEAD"}}, 2);
  read.issuers = {0};
  set_scopes(read, ScopeRequirement::Mode::AllOf, {"orders:read"});
  set->routes.push_back(read);
  Route write = make_route({.name = "orders-write", .path_prefix = "/orders", .methods = {"POST"}}, 3);
  set_scopes(write, ScopeRequirement::Mode::AllOf, {"orders:write"});
  set->routes.push_back(write);
  Route admin = make_route({.name = "admin", .path_prefix = "/admin"}, 4);
  admin.claims.push_back(claim("roles", Op::Contains, {ClaimValue::of("admin")}));
  set->routes.push_back(admin);
  Route opt = make_route({.name = "catalog", .path_prefix = "/catalog", .auth = AuthMode::Optional}, 5);
  set_scopes(opt, ScopeRequirement::Mode::AllOf, {"catalog:read"});
  set->routes.push_back(opt);
  set->issuers.push_back(IssuerRef{"corp", "https://auth.example.com", "scope"});
  set->issuers.push_back(IssuerRef{"partner", "https://partner.example.net", "scp"});
  set->upstreams.push_back("default");
  set->compile();
  return set;
}

SimToken claims(const char* json) { return SimToken{SimToken::Kind::Claims, json}; }
const SimToken kNone{};
const SimToken kInvalid{SimToken::Kind::Invalid, ""};

constexpr const char* kCorpRead = R"({"iss":"https://auth.example.com","sub":"alice","scope":"orders:read"})";
constexpr const char* kCorpAdmin = R"({"iss":"https://auth.example.com","sub":"root","roles":["admin"]})";
constexpr const char* kPartnerRead = R"({"iss":"https://partner.example.net","sub":"bob","scp":["orders:read"]})";

}  // namespace

TEST_CASE("simulate: the gateway's whole decision") {
  auto set = orders_set();
  struct Row {
    const char* name;
    const char* method;
    const char* target;
    SimToken token;
    int status;
    const char* route;
    Reason reason;
  };
  const std::vector<Row> rows = {
      {"public health", "GET", "/healthz", kNone, 200, "health", Reason::Public},
      {"public health ignores an invalid token", "GET", "/healthz", kInvalid, 200, "health", Reason::Public},
      {"health POST", "POST", "/healthz", kNone, 405, "", Reason::MethodNotAllowed},
      {"no token", "GET", "/orders", kNone, 401, "orders-read", Reason::TokenMissing},
      {"invalid token", "GET", "/orders", kInvalid, 401, "orders-read", Reason::TokenInvalid},
      {"read ok", "GET", "/orders/7", claims(kCorpRead), 200, "orders-read", Reason::Allowed},
      {"HEAD ok", "HEAD", "/orders", claims(kCorpRead), 200, "orders-read", Reason::Allowed},
      {"write without scope", "POST", "/orders", claims(kCorpRead), 403, "orders-write", Reason::MissingScope},
      {"DELETE", "DELETE", "/orders/7", claims(kCorpRead), 405, "", Reason::MethodNotAllowed},
      {"issuer not listed", "GET", "/orders", claims(kPartnerRead), 401, "orders-read", Reason::IssuerNotAllowed},
      {"scp array claim for partner", "POST", "/orders",
       claims(R"({"iss":"https://partner.example.net","scp":["orders:write"]})"), 200, "orders-write",
       Reason::Allowed},
      {"unknown iss", "GET", "/orders", claims(R"({"iss":"https://evil.example","scope":"orders:read"})"), 401,
       "orders-read", Reason::TokenInvalid},
      {"absent iss with two issuers", "GET", "/orders", claims(R"({"scope":"orders:read"})"), 401, "orders-read",
       Reason::TokenInvalid},
      {"scope of the wrong type", "GET", "/orders", claims(R"({"iss":"https://auth.example.com","scope":7})"), 401,
       "orders-read", Reason::TokenInvalid},
      {"sub not a string", "GET", "/orders",
       claims(R"({"iss":"https://auth.example.com","sub":1,"scope":"orders:read"})"), 401, "orders-read",
       Reason::TokenInvalid},
      {"claims not JSON", "GET", "/orders", claims("{nope"), 401, "orders-read", Reason::TokenInvalid},
      {"duplicate member", "GET", "/orders",
       claims(R"({"iss":"https://auth.example.com","scope":"x","scope":"orders:read"})"), 401, "orders-read",
       Reason::TokenInvalid},
      {"admin ok", "GET", "/admin/users", claims(kCorpAdmin), 200, "admin", Reason::Allowed},
      {"admin without role", "GET", "/admin", claims(kCorpRead), 403, "admin", Reason::ClaimMissing},
      {"dot segments resolve before matching", "GET", "/orders/../admin", claims(kCorpRead), 403, "admin",
       Reason::ClaimMissing},
      {"encoded dots resolve too", "GET", "/orders/%2e%2e/admin", kNone, 401, "admin", Reason::TokenMissing},
      {"double slash merges", "GET", "//admin", kNone, 401, "admin", Reason::TokenMissing},
      {"matrix params stay under the prefix", "GET", "/admin;x=1/users", kNone, 401, "admin", Reason::TokenMissing},
      {"query never matched", "GET", "/orders?x=/admin", claims(kCorpRead), 200, "orders-read", Reason::Allowed},
      {"query never matched (no route)", "GET", "/nothing?x=/orders", claims(kCorpRead), 404, "", Reason::NoRoute},
      {"case-sensitive path", "GET", "/ORDERS", claims(kCorpRead), 404, "", Reason::NoRoute},
      {"segment boundary", "GET", "/ordersX", claims(kCorpRead), 404, "", Reason::NoRoute},
      {"encoded slash", "GET", "/orders%2F7", kNone, 400, "", Reason::BadRequest},
      {"dot-dot with params", "GET", "/..;/admin", kNone, 400, "", Reason::BadRequest},
      {"bad escape", "GET", "/orders/%zz", kNone, 400, "", Reason::BadRequest},
      {"bad query byte", "GET", "/orders?a#b", kNone, 400, "", Reason::BadRequest},
      {"not origin-form", "GET", "orders", kNone, 400, "", Reason::BadRequest},
      {"bad method token", "GE T", "/orders", kNone, 400, "", Reason::BadRequest},
      {"TRACE always refused", "TRACE", "/orders", kNone, 405, "", Reason::MethodNotAllowed},
      {"optional anonymous", "GET", "/catalog/1", kNone, 200, "catalog", Reason::Anonymous},
      {"optional, invalid token is 401", "GET", "/catalog/1", kInvalid, 401, "catalog", Reason::TokenInvalid},
      {"optional, token without scope", "GET", "/catalog/1", claims(kCorpRead), 403, "catalog", Reason::MissingScope},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      SimRequest req;
      req.method = row.method;
      req.target = row.target;
      req.host = "api.example.com";
      Decision d = simulate(*set, req, row.token, false);
      CHECK(d.status == row.status);
      CHECK(d.route_name() == row.route);
      CHECK(to_string(d.reason) == to_string(row.reason));
      CHECK(d.explain.empty());
      Decision ex = simulate(*set, req, row.token, true);
      CHECK(ex.status == row.status);
      CHECK_FALSE(ex.explain.empty());
    }
  }
}

TEST_CASE("simulate: answer headers") {
  auto set = orders_set();
  SimRequest req;
  req.target = "/orders";
  SUBCASE("401 without a token names the realm") {
    CHECK(simulate(*set, req, kNone, false).www_authenticate == "Bearer realm=\"portcullis\"");
  }
  SUBCASE("401 with an invalid token") {
    CHECK(simulate(*set, req, kInvalid, false).www_authenticate ==
          "Bearer error=\"invalid_token\", error_description=\"invalid token\"");
  }
  SUBCASE("403 names the route's scopes") {
    req.method = "POST";
    CHECK(simulate(*set, req, claims(kCorpRead), false).www_authenticate ==
          "Bearer error=\"insufficient_scope\", scope=\"orders:write\"");
  }
  SUBCASE("403 on a claims-only route has no scope parameter") {
    req.target = "/admin";
    CHECK(simulate(*set, req, claims(kCorpRead), false).www_authenticate == "Bearer error=\"insufficient_scope\"");
  }
  SUBCASE("405 carries Allow") {
    req.method = "DELETE";
    Decision d = simulate(*set, req, kNone, false);
    CHECK(d.allow == "GET, HEAD, POST");
    CHECK(d.www_authenticate.empty());
  }
}

TEST_CASE("simulate: host comes from the Host header; routing headers are ignored") {
  auto set = std::make_shared<PolicySet>();
  set->routes.push_back(make_route({.name = "pub", .host = "public.example.com", .path_prefix = "/", .auth = AuthMode::None}));
  set->routes.push_back(make_route({.name = "api", .path_prefix = "/"}));
  set->compile();
  SimRequest req;
  req.target = "/admin";
  req.headers = {{"host", "PUBLIC.example.com:443"}};
  CHECK(simulate(*set, req, kNone, false).route_name() == "pub");
  req.headers = {{"Host", "api.example.com"}, {"X-Forwarded-Host", "public.example.com"},
                 {"X-Original-URL", "/public"}, {"X-Forwarded-Uri", "/public"}};
  Decision d = simulate(*set, req, kNone, false);
  CHECK(d.route_name() == "api");
  CHECK(d.status == 401);
}

TEST_CASE("identity_from_claims: absent iss means the only issuer") {
  PolicySet set;
  set.issuers.push_back(IssuerRef{"corp", "https://auth.example.com", "scp"});
  portcullis::auth::Identity id;
  size_t index = 99;
  REQUIRE(identity_from_claims(set, R"({"sub":"a","scp":["x","y"]})", id, index) == portcullis::auth::AuthStatus::Ok);
  CHECK(index == 0);
  CHECK(id.issuer == "https://auth.example.com");
  CHECK(id.subject == "a");
  CHECK(id.scopes == std::vector<std::string>{"x", "y"});
  CHECK(identity_from_claims(set, R"({"scp":["a b"]})", id, index) == portcullis::auth::AuthStatus::JwtScopeInvalid);
  CHECK(identity_from_claims(set, R"({"scp":"a b"})", id, index) == portcullis::auth::AuthStatus::Ok);
  CHECK(id.scopes == std::vector<std::string>{"a", "b"});
  CHECK(identity_from_claims(set, R"({"iss":1})", id, index) == portcullis::auth::AuthStatus::JwtIssNotString);
  CHECK(identity_from_claims(set, R"({"sub":"a\u0001"})", id, index) ==
        portcullis::auth::AuthStatus::JwtClaimControlChar);
  PolicySet none;
  CHECK(identity_from_claims(none, R"({})", id, index) == portcullis::auth::AuthStatus::JwtIssMissing);
}

TEST_CASE("simulate: explain lines") {
  auto set = orders_set();
  SimRequest req;
  req.target = "//orders/./7";
  req.host = "api.example.com";
  Decision d = simulate(*set, req, claims(kCorpRead), true);
  REQUIRE(d.explain.size() >= 5);
  CHECK(d.explain[0] == "request: GET /orders/7 host api.example.com");
  CHECK(d.explain[1] == "path: //orders/./7 normalizes to /orders/7");
  CHECK(d.explain[2] == "match: route orders-read (test.yaml:2)");
  CHECK(d.explain[3] == "token: valid, issuer corp, subject alice");
  CHECK(d.explain[4] == "issuers: met");
  CHECK(d.explain[5] == "scopes all_of [orders:read]: met");
}

TEST_CASE("run_test compares status, route and reason") {
  auto set = orders_set();
  TestCase tc;
  tc.name = "t";
  tc.request.target = "/orders";
  tc.expect_status = 401;
  CHECK(run_test(*set, tc).passed);
  tc.expect_route = "orders-read";
  tc.expect_reason = "token_missing";
  CHECK(run_test(*set, tc).passed);
  tc.expect_route = "admin";
  TestOutcome bad = run_test(*set, tc);
  CHECK_FALSE(bad.passed);
  CHECK(bad.message == "expected 401, route admin, token_missing; got 401, route orders-read, token_missing: no token");
  tc.expect_route.clear();
  tc.expect_status = 200;
  CHECK_FALSE(run_test(*set, tc).passed);
  tc.expect_status = 401;
  tc.expect_reason = "allowed";
  CHECK_FALSE(run_test(*set, tc).passed);
}
