#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "policy/evaluate.h"
#include "policy_test_util.h"

using namespace portcullis::policy;
using namespace portcullis::policy::testing;
using Op = ClaimRequirement::Op;
using Mode = ScopeRequirement::Mode;

TEST_CASE("auth modes without a token") {
  struct Row {
    const char* name;
    AuthMode auth;
    bool allowed;
    Reason reason;
  };
  const Row rows[] = {
      {"none is public", AuthMode::None, true, Reason::Public},
      {"optional is anonymous", AuthMode::Optional, true, Reason::Anonymous},
      {"required needs a token", AuthMode::Required, false, Reason::TokenMissing},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      Route r = make_route({.name = "r", .path_prefix = "/", .auth = row.auth});
      set_scopes(r, Mode::AllOf, {"orders:read"});
      Evaluation ev = evaluate(r, nullptr, false);
      CHECK(ev.allowed == row.allowed);
      CHECK(ev.reason == row.reason);
      CHECK(http_status(ev.reason) == (row.allowed ? 200 : 401));
    }
  }
}

TEST_CASE("auth: none ignores the identity; optional applies requirements to a token") {
  Route none = make_route({.name = "n", .path_prefix = "/", .auth = AuthMode::None});
  auto id = identity({});
  CHECK(evaluate(none, &id, false).reason == Reason::Public);

  Route opt = make_route({.name = "o", .path_prefix = "/", .auth = AuthMode::Optional});
  set_scopes(opt, Mode::AllOf, {"orders:read"});
  Evaluation ev = evaluate(opt, &id, false);
  CHECK_FALSE(ev.allowed);
  CHECK(ev.reason == Reason::MissingScope);
  auto good = identity({"orders:read"});
  CHECK(evaluate(opt, &good, false).reason == Reason::Allowed);
}

TEST_CASE("scopes compare as whole tokens, case-sensitively") {
  struct Row {
    const char* name;
    Mode mode;
    std::vector<std::string> required;
    std::vector<std::string> held;
    bool allowed;
  };
  const std::vector<Row> rows = {
      {"all_of: has it", Mode::AllOf, {"read"}, {"read"}, true},
      {"all_of: has both", Mode::AllOf, {"read", "write"}, {"write", "x", "read"}, true},
      {"all_of: has one of two", Mode::AllOf, {"read", "write"}, {"read"}, false},
      {"readonly is not read", Mode::AllOf, {"read"}, {"readonly"}, false},
      {"READ is not read", Mode::AllOf, {"read"}, {"READ"}, false},
      {"read:admin is not read", Mode::AllOf, {"read"}, {"read:admin"}, false},
      {"read is not read:admin", Mode::AllOf, {"read:admin"}, {"read"}, false},
      {"prefix of a scope is not it", Mode::AllOf, {"orders:read"}, {"orders"}, false},
      {"no scopes at all", Mode::AllOf, {"read"}, {}, false},
      {"any_of: second one", Mode::AnyOf, {"admin", "ops"}, {"ops"}, true},
      {"any_of: none", Mode::AnyOf, {"admin", "ops"}, {"Admin", "opsx"}, false},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      Route r = make_route({.name = "r", .path_prefix = "/"});
      set_scopes(r, row.mode, row.required);
      auto id = identity(row.held);
      Evaluation ev = evaluate(r, &id, false);
      CHECK(ev.allowed == row.allowed);
      CHECK(ev.reason == (row.allowed ? Reason::Allowed : Reason::MissingScope));
      CHECK(ev.required_scopes == r.required_scopes);
      if (!row.allowed) {
        CHECK(http_status(ev.reason) == 403);
        CHECK_FALSE(ev.detail.empty());
      }
    }
  }
}

TEST_CASE("required_scopes lists every scope the route names, space-separated") {
  Route r = make_route({.name = "r", .path_prefix = "/"});
  set_scopes(r, Mode::AnyOf, {"a", "b:c"});
  auto id = identity({});
  CHECK(evaluate(r, &id, false).required_scopes == "a b:c");
  Route none = make_route({.name = "n", .path_prefix = "/"});
  CHECK(evaluate(none, &id, false).required_scopes.empty());
  CHECK(evaluate(none, &id, false).reason == Reason::Allowed);
}

TEST_CASE("claims: every operator and type") {
  struct Row {
    const char* name;
    ClaimRequirement req;
    const char* claims;
    Reason reason;
  };
  const auto S = [](const char* s) { return ClaimValue::of(s); };
  const auto I = [](int64_t i) { return ClaimValue::of_int(i); };
  const auto D = [](double d) { return ClaimValue::of_number(d); };
  const auto B = [](bool b) { return ClaimValue::of_bool(b); };
  const std::vector<Row> rows = {
      // equals: strings
      {"equals string", claim("t", Op::Equals, {S("acme")}), R"({"t":"acme"})", Reason::Allowed},
      {"equals string, other value", claim("t", Op::Equals, {S("acme")}), R"({"t":"globex"})", Reason::ClaimMismatch},
      {"equals string, case differs", claim("t", Op::Equals, {S("acme")}), R"({"t":"ACME"})", Reason::ClaimMismatch},
      {"equals string, prefix", claim("t", Op::Equals, {S("acme")}), R"({"t":"acme2"})", Reason::ClaimMismatch},
      {"equals string vs array holding it", claim("t", Op::Equals, {S("acme")}), R"({"t":["acme"]})", Reason::ClaimMismatch},
      {"equals string vs number", claim("t", Op::Equals, {S("42")}), R"({"t":42})", Reason::ClaimMismatch},
      {"equals empty string", claim("t", Op::Equals, {S("")}), R"({"t":""})", Reason::Allowed},
      {"equals, claim absent", claim("t", Op::Equals, {S("acme")}), R"({"u":"acme"})", Reason::ClaimMissing},
      {"equals, claim null", claim("t", Op::Equals, {S("null")}), R"({"t":null})", Reason::ClaimMismatch},
      // equals: integers exactly
      {"equals integer", claim("n", Op::Equals, {I(42)}), R"({"n":42})", Reason::Allowed},
      {"equals integer vs 42.0", claim("n", Op::Equals, {I(42)}), R"({"n":42.0})", Reason::Allowed},
      {"equals integer vs 42.5", claim("n", Op::Equals, {I(42)}), R"({"n":42.5})", Reason::ClaimMismatch},
      {"equals integer vs string", claim("n", Op::Equals, {I(42)}), R"({"n":"42"})", Reason::ClaimMismatch},
      {"equals integer vs bool", claim("n", Op::Equals, {I(1)}), R"({"n":true})", Reason::ClaimMismatch},
      {"equals negative integer", claim("n", Op::Equals, {I(-7)}), R"({"n":-7})", Reason::Allowed},
      {"equals large integer exactly", claim("n", Op::Equals, {I(9007199254740993)}), R"({"n":9007199254740993})",
       Reason::Allowed},
      {"large integer is not its neighbour", claim("n", Op::Equals, {I(9007199254740993)}),
       R"({"n":9007199254740992})", Reason::ClaimMismatch},
      {"large integer vs rounded double", claim("n", Op::Equals, {I(9007199254740993)}),
       R"({"n":9007199254740993.0})", Reason::ClaimMismatch},
      {"integer vs uint64 above int64", claim("n", Op::Equals, {I(-1)}), R"({"n":18446744073709551615})",
       Reason::ClaimMismatch},
      // equals: numbers
      {"equals number", claim("n", Op::Equals, {D(1.5)}), R"({"n":1.5})", Reason::Allowed},
      {"equals number vs integer claim", claim("n", Op::Equals, {D(4.0)}), R"({"n":4})", Reason::Allowed},
      {"equals number, other", claim("n", Op::Equals, {D(1.5)}), R"({"n":1.25})", Reason::ClaimMismatch},
      {"equals fractional number vs integer", claim("n", Op::Equals, {D(4.5)}), R"({"n":4})", Reason::ClaimMismatch},
      {"equals number vs string", claim("n", Op::Equals, {D(1.5)}), R"({"n":"1.5"})", Reason::ClaimMismatch},
      // equals: bools
      {"equals true", claim("b", Op::Equals, {B(true)}), R"({"b":true})", Reason::Allowed},
      {"equals false", claim("b", Op::Equals, {B(false)}), R"({"b":false})", Reason::Allowed},
      {"equals true vs false", claim("b", Op::Equals, {B(true)}), R"({"b":false})", Reason::ClaimMismatch},
      {"equals true vs string", claim("b", Op::Equals, {B(true)}), R"({"b":"true"})", Reason::ClaimMismatch},
      {"equals true vs 1", claim("b", Op::Equals, {B(true)}), R"({"b":1})", Reason::ClaimMismatch},
      // one_of
      {"one_of first", claim("t", Op::OneOf, {S("a"), S("b")}), R"({"t":"a"})", Reason::Allowed},
      {"one_of second", claim("t", Op::OneOf, {S("a"), S("b")}), R"({"t":"b"})", Reason::Allowed},
      {"one_of none", claim("t", Op::OneOf, {S("a"), S("b")}), R"({"t":"c"})", Reason::ClaimMismatch},
      {"one_of mixed types", claim("t", Op::OneOf, {S("a"), I(3), B(false)}), R"({"t":3})", Reason::Allowed},
      {"one_of mixed types, bool", claim("t", Op::OneOf, {S("a"), I(3), B(false)}), R"({"t":false})", Reason::Allowed},
      {"one_of no cross-type", claim("t", Op::OneOf, {S("3")}), R"({"t":3})", Reason::ClaimMismatch},
      {"one_of absent", claim("t", Op::OneOf, {S("a")}), R"({})", Reason::ClaimMissing},
      {"one_of vs array", claim("t", Op::OneOf, {S("a")}), R"({"t":["a"]})", Reason::ClaimMismatch},
      // contains
      {"contains string", claim("roles", Op::Contains, {S("admin")}), R"({"roles":["user","admin"]})", Reason::Allowed},
      {"contains, not there", claim("roles", Op::Contains, {S("admin")}), R"({"roles":["user","administrator"]})",
       Reason::ClaimMismatch},
      {"contains on a string claim", claim("roles", Op::Contains, {S("admin")}), R"({"roles":"admin"})",
       Reason::ClaimMismatch},
      {"contains on a space list", claim("roles", Op::Contains, {S("admin")}), R"({"roles":"user admin"})",
       Reason::ClaimMismatch},
      {"contains number", claim("ids", Op::Contains, {I(7)}), R"({"ids":[1,7]})", Reason::Allowed},
      {"contains number vs string element", claim("ids", Op::Contains, {I(7)}), R"({"ids":["7"]})",
       Reason::ClaimMismatch},
      {"contains bool", claim("f", Op::Contains, {B(true)}), R"({"f":[false,true]})", Reason::Allowed},
      {"contains: nested arrays are not searched", claim("roles", Op::Contains, {S("admin")}),
       R"({"roles":[["admin"]]})", Reason::ClaimMismatch},
      {"contains: empty array", claim("roles", Op::Contains, {S("admin")}), R"({"roles":[]})", Reason::ClaimMismatch},
      {"contains: absent", claim("roles", Op::Contains, {S("admin")}), R"({})", Reason::ClaimMissing},
      // exists
      {"exists true, present", claim("x", Op::Exists, {}, true), R"({"x":0})", Reason::Allowed},
      {"exists true, present null", claim("x", Op::Exists, {}, true), R"({"x":null})", Reason::Allowed},
      {"exists true, absent", claim("x", Op::Exists, {}, true), R"({"y":1})", Reason::ClaimMissing},
      {"exists false, absent", claim("act", Op::Exists, {}, false), R"({"y":1})", Reason::Allowed},
      {"exists false, present", claim("act", Op::Exists, {}, false), R"({"act":{"sub":"x"}})",
       Reason::ClaimMismatch},
      // names
      {"dots in a name are literal", claim("a.b", Op::Equals, {S("x")}), R"({"a":{"b":"x"}})", Reason::ClaimMissing},
      {"dotted name present", claim("a.b", Op::Equals, {S("x")}), R"({"a.b":"x"})", Reason::Allowed},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      Route r = make_route({.name = "r", .path_prefix = "/"});
      r.claims.push_back(row.req);
      auto id = identity({}, row.claims);
      REQUIRE(id.claims.IsObject());
      Evaluation ev = evaluate(r, &id, false);
      CHECK(to_string(ev.reason) == to_string(row.reason));
      CHECK(ev.allowed == (row.reason == Reason::Allowed));
      Evaluation ex = evaluate(r, &id, true);
      CHECK(ex.reason == ev.reason);
      REQUIRE(ex.explain.size() == 1);
      CHECK(ex.explain[0].find(row.reason == Reason::Allowed ? ": met" : ": not met") != std::string::npos);
    }
  }
}

TEST_CASE("claims on a payload that is not an object are missing") {
  Route r = make_route({.name = "r", .path_prefix = "/"});
  r.claims.push_back(claim("t", Op::Exists, {}, true));
  auto id = identity({});
  id.claims.SetArray();
  CHECK(evaluate(r, &id, false).reason == Reason::ClaimMissing);
}

TEST_CASE("every requirement must hold; the first failure is the reason; explain lists all") {
  Route r = make_route({.name = "r", .path_prefix = "/"});
  set_scopes(r, Mode::AllOf, {"orders:read", "orders:write"});
  r.claims.push_back(claim("tenant_id", Op::Equals, {ClaimValue::of("acme")}));
  r.claims.push_back(claim("roles", Op::Contains, {ClaimValue::of("admin")}));

  auto id = identity({"orders:read"}, R"({"tenant_id":"globex","roles":["admin"]})");
  Evaluation ev = evaluate(r, &id, false);
  CHECK(ev.reason == Reason::MissingScope);
  CHECK(ev.detail == "missing scope orders:write");
  CHECK(ev.explain.empty());

  Evaluation ex = evaluate(r, &id, true);
  CHECK(ex.reason == Reason::MissingScope);
  REQUIRE(ex.explain.size() == 3);
  CHECK(ex.explain[0] == "scopes all_of [orders:read, orders:write]: not met (missing orders:write)");
  CHECK(ex.explain[1] == "claim tenant_id equals \"acme\": not met (claim is \"globex\")");
  CHECK(ex.explain[2] == "claim roles contains \"admin\": met");

  auto good = identity({"orders:write", "orders:read"}, R"({"tenant_id":"acme","roles":["admin"]})");
  Evaluation ok = evaluate(r, &good, true);
  CHECK(ok.allowed);
  CHECK(ok.reason == Reason::Allowed);
  CHECK(ok.detail.empty());
  CHECK(ok.explain.size() == 3);

  auto claims_bad = identity({"orders:write", "orders:read"}, R"({"roles":["admin"]})");
  Evaluation cb = evaluate(r, &claims_bad, false);
  CHECK(cb.reason == Reason::ClaimMissing);
  CHECK(cb.detail == "missing claim tenant_id");
}

TEST_CASE("explain escapes control bytes and bounds long claim values") {
  Route r = make_route({.name = "r", .path_prefix = "/"});
  r.claims.push_back(claim("t", Op::Equals, {ClaimValue::of("x")}));
  std::string long_value(500, 'a');
  auto id = identity({}, (R"({"t":"a\u0007b)" + long_value + R"("})").c_str());
  Evaluation ex = evaluate(r, &id, true);
  REQUIRE(ex.explain.size() == 1);
  CHECK(ex.explain[0].find('\a') == std::string::npos);
  CHECK(ex.explain[0].size() < 200);
  CHECK(ex.explain[0].find("...") != std::string::npos);
}

TEST_CASE("issuer_allowed: empty list accepts every issuer") {
  Route r = make_route({.name = "r", .path_prefix = "/"});
  CHECK(issuer_allowed(r, 0));
  CHECK(issuer_allowed(r, 5));
  r.issuers = {1};
  CHECK_FALSE(issuer_allowed(r, 0));
  CHECK(issuer_allowed(r, 1));
}

TEST_CASE("reason table") {
  struct Row {
    Reason reason;
    int status;
    const char* name;
  };
  const Row rows[] = {
      {Reason::Allowed, 200, "allowed"},
      {Reason::Public, 200, "public"},
      {Reason::Anonymous, 200, "anonymous"},
      {Reason::BadRequest, 400, "bad_request"},
      {Reason::NoRoute, 404, "no_route"},
      {Reason::MethodNotAllowed, 405, "method_not_allowed"},
      {Reason::TokenMissing, 401, "token_missing"},
      {Reason::TokenInvalid, 401, "token_invalid"},
      {Reason::IssuerNotAllowed, 401, "issuer_not_allowed"},
      {Reason::MissingScope, 403, "missing_scope"},
      {Reason::ClaimMissing, 403, "claim_missing"},
      {Reason::ClaimMismatch, 403, "claim_mismatch"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      CHECK(http_status(row.reason) == row.status);
      CHECK(to_string(row.reason) == row.name);
      CHECK(is_allowed(row.reason) == (row.status == 200));
    }
  }
}
