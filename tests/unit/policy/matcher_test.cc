#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "policy/matcher.h"
#include "policy_test_util.h"

using namespace portcullis::policy;
using portcullis::policy::testing::make_set;

namespace {

struct Row {
  const char* name;
  const char* host;
  const char* method;
  const char* path;
  MatchResult::Status status;
  const char* route;  // Matched: the route's name; MethodNotAllowed: the Allow value
};

void run(const PolicySet& set, const std::vector<Row>& rows) {
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      MatchResult m = match(set, row.host, row.method, row.path);
      CHECK(to_string(m.status) == to_string(row.status));
      if (row.status == MatchResult::Status::Matched) {
        REQUIRE(m.route != nullptr);
        CHECK(m.route->name == row.route);
        CHECK(&set.routes[m.route_id] == m.route);
      } else {
        CHECK(m.route == nullptr);
      }
      if (row.status == MatchResult::Status::MethodNotAllowed) CHECK(m.allow == row.route);
      if (row.status != MatchResult::Status::MethodNotAllowed) CHECK(m.allow.empty());
    }
  }
}

constexpr auto M = MatchResult::Status::Matched;
constexpr auto X = MatchResult::Status::MethodNotAllowed;
constexpr auto N = MatchResult::Status::NoRoute;

}  // namespace

TEST_CASE("path_prefix matches whole segments; path matches exactly") {
  auto set = make_set({
      {.name = "health", .path = "/healthz"},
      {.name = "orders", .path_prefix = "/orders"},
      {.name = "deep", .path_prefix = "/a/b/c"},
      {.name = "pub", .path_prefix = "/public"},
  });
  run(*set, {
                {"exact path", "", "GET", "/healthz", M, "health"},
                {"exact path is not a prefix", "", "GET", "/healthz/x", N, ""},
                {"exact path, trailing slash differs", "", "GET", "/healthz/", N, ""},
                {"prefix itself", "", "GET", "/orders", M, "orders"},
                {"prefix with trailing slash", "", "GET", "/orders/", M, "orders"},
                {"below prefix", "", "GET", "/orders/7", M, "orders"},
                {"deep below prefix", "", "GET", "/orders/7/items/1", M, "orders"},
                {"prefix ends at a segment boundary", "", "GET", "/ordersX", N, ""},
                {"publicity is not public", "", "GET", "/publicity", N, ""},
                {"multi-segment prefix", "", "GET", "/a/b/c/d", M, "deep"},
                {"multi-segment prefix, partial", "", "GET", "/a/b", N, ""},
                {"multi-segment prefix, sibling", "", "GET", "/a/b/cd", N, ""},
                {"root", "", "GET", "/", N, ""},
                {"empty path never matches", "", "GET", "", N, ""},
            });
}

TEST_CASE("root prefix matches everything; first route in file order wins") {
  auto set = make_set({
      {.name = "orders-get", .path_prefix = "/orders", .methods = {"GET"}},
      {.name = "exact-late", .path = "/orders/7"},
      {.name = "all", .path_prefix = "/"},
  });
  run(*set, {
                {"earlier prefix beats later exact", "", "GET", "/orders/7", M, "orders-get"},
                {"later exact when the earlier method differs", "", "POST", "/orders/7", M, "exact-late"},
                {"catch-all", "", "DELETE", "/orders", M, "all"},
                {"catch-all root", "", "GET", "/", M, "all"},
                {"catch-all anything", "", "GET", "/x/y", M, "all"},
            });
}

TEST_CASE("host: exact, wildcard subdomains, case-insensitive, port ignored") {
  auto set = make_set({
      {.name = "api", .host = "api.example.com", .path_prefix = "/"},
      {.name = "wild", .host = "*.example.com", .path_prefix = "/"},
      {.name = "v6", .host = "::1", .path_prefix = "/"},
      {.name = "any", .path_prefix = "/only-any"},
  });
  run(*set, {
                {"exact", "api.example.com", "GET", "/x", M, "api"},
                {"exact, other case", "API.Example.COM", "GET", "/x", M, "api"},
                {"exact with port", "api.example.com:8443", "GET", "/x", M, "api"},
                {"exact with trailing dot", "api.example.com.", "GET", "/x", M, "api"},
                {"wildcard subdomain", "shop.example.com", "GET", "/x", M, "wild"},
                {"wildcard deeper subdomain", "a.b.example.com", "GET", "/x", M, "wild"},
                {"wildcard with port", "shop.example.com:80", "GET", "/x", M, "wild"},
                {"wildcard never the apex", "example.com", "GET", "/x", N, ""},
                {"wildcard is a label boundary", "badexample.com", "GET", "/x", N, ""},
                {"suffix attack", "example.com.evil.net", "GET", "/x", N, ""},
                {"ipv6 literal with port", "[::1]:8080", "GET", "/x", M, "v6"},
                {"no host header: only host-less routes", "", "GET", "/only-any", M, "any"},
                {"no host header, pinned routes skipped", "", "GET", "/x", N, ""},
            });
}

TEST_CASE("methods: case-sensitive tokens; 405 lists the union of what the matching routes allow") {
  auto set = make_set({
      {.name = "read", .path_prefix = "/orders", .methods = {"GET", "HEAD"}},
      {.name = "write", .path_prefix = "/orders", .methods = {"POST", "PUT", "PATCH"}},
      {.name = "purge", .path = "/orders/cache", .methods = {"PURGE"}},
      {.name = "other-host", .host = "admin.example.com", .path_prefix = "/orders", .methods = {"DELETE"}},
      {.name = "report", .path_prefix = "/report", .methods = {"REPORT", "GET"}},
  });
  run(*set, {
                {"GET", "", "GET", "/orders/1", M, "read"},
                {"HEAD", "", "HEAD", "/orders", M, "read"},
                {"POST", "", "POST", "/orders", M, "write"},
                {"extension method", "", "PURGE", "/orders/cache", M, "purge"},
                {"lowercase method is another method", "", "get", "/orders", X, "GET, HEAD, POST, PUT, PATCH"},
                {"DELETE: union in canonical order", "", "DELETE", "/orders/1", X, "GET, HEAD, POST, PUT, PATCH"},
                {"exact + prefix union with extension", "", "DELETE", "/orders/cache", X,
                 "GET, HEAD, POST, PUT, PATCH, PURGE"},
                {"other host's route joins the union for its host",
                 "admin.example.com", "OPTIONS", "/orders", X, "GET, HEAD, POST, PUT, PATCH, DELETE"},
                {"other host's route", "admin.example.com", "DELETE", "/orders", M, "other-host"},
                {"extension in Allow after known", "", "POST", "/report", X, "GET, REPORT"},
                {"no path match is 404, not 405", "", "DELETE", "/nothing", N, ""},
            });
}

TEST_CASE("matrix parameters never dodge a route: stripped per segment for exact paths and prefixes") {
  auto set = make_set({
      {.name = "exact", .path = "/login"},
      {.name = "admin", .path_prefix = "/admin"},
      {.name = "nested", .path_prefix = "/api/v1"},
  });
  run(*set, {
                {"prefix, params on the prefix segment", "", "GET", "/admin;x=1", M, "admin"},
                {"prefix, params then more segments", "", "GET", "/admin;x=1/users", M, "admin"},
                {"prefix, bare semicolon", "", "GET", "/admin;/users", M, "admin"},
                {"prefix, params on a later segment", "", "GET", "/api;a/v1;b/x", M, "nested"},
                {"prefix, params do not join segments", "", "GET", "/adminx;y", N, ""},
                {"exact path covers its params (servlets serve /login;x as /login)", "", "GET",
                 "/login;jsessionid=1", M, "exact"},
                {"exact path, params on an inner segment", "", "GET", "/login;a/", N, ""},
                {"exact path itself", "", "GET", "/login", M, "exact"},
            });
}

TEST_CASE("the query is never part of matching; paths are case-sensitive") {
  auto set = make_set({
      {.name = "orders", .path_prefix = "/orders"},
      {.name = "public", .path = "/public"},
  });
  run(*set, {
                {"query text is not a path", "", "GET", "/admin?x=/orders", N, ""},
                {"a '?' in a normalized path never appears; treated literally", "", "GET", "/public?x", N, ""},
                {"uppercase path", "", "GET", "/ORDERS", N, ""},
                {"mixed case path", "", "GET", "/Orders/7", N, ""},
            });
}

TEST_CASE("an empty policy set matches nothing") {
  PolicySet empty;
  empty.compile();
  MatchResult m = match(empty, "h", "GET", "/");
  CHECK(m.status == MatchResult::Status::NoRoute);
  PolicySet uncompiled;
  CHECK(match(uncompiled, "h", "GET", "/").status == MatchResult::Status::NoRoute);
}
