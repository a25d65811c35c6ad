// Not a timed assertion: prints ns/match so a regression that makes matching grow with the
// number of routes is visible in the test log. It asserts only the outcomes.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "policy/matcher.h"
#include "policy_test_util.h"

using namespace portcullis::policy;
using namespace portcullis::policy::testing;

namespace {

std::shared_ptr<PolicySet> build(int n) {
  auto set = std::make_shared<PolicySet>();
  for (int i = 0; i < n; ++i) {
    RouteSpec s;
    s.name = "r" + std::to_string(i);
    if (i % 3 == 0) {
      s.path = "/svc" + std::to_string(i) + "/status";
    } else {
      s.path_prefix = "/svc" + std::to_string(i) + "/api";
      s.methods = {"GET", "POST"};
    }
    if (i % 5 == 0) s.host = "*.example.com";
    set->routes.push_back(make_route(s, i + 1));
  }
  set->compile();
  return set;
}

double ns_per_match(const PolicySet& set, int n, int iterations) {
  // Requests spread over the set plus a miss (the 405 path builds an Allow string: not timed).
  std::string paths[4] = {"/svc" + std::to_string(n - 1) + "/api/items/42", "/svc" + std::to_string((n / 3) * 3) + "/status",
                          "/nothing/here", "/svc1/api/x"};
  const char* methods[4] = {"GET", "GET", "GET", "POST"};
  size_t sink = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    MatchResult m = match(set, "shop.example.com", methods[i & 3], paths[i & 3]);
    sink += static_cast<size_t>(m.status) + m.route_id;
  }
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  CHECK(sink > 0);
  return ns / iterations;
}

}  // namespace

TEST_CASE("bench: match cost with 10 and 1000 routes (printed, not asserted)") {
  auto small = build(10);
  auto large = build(1000);
  MatchResult m = match(*large, "x", "GET", "/svc998/api/items");
  REQUIRE(m.matched());
  CHECK(m.route->name == "r998");
  CHECK(match(*large, "x", "GET", "/svc999/status").route->name == "r999");
  CHECK(match(*large, "x", "PUT", "/svc1/api").status == MatchResult::Status::MethodNotAllowed);
  CHECK(match(*large, "x", "GET", "/svc0/status").status == MatchResult::Status::NoRoute);  // host-pinned
  CHECK(match(*large, "a.example.com", "GET", "/svc0/status").route->name == "r0");

  const int iterations = 200000;
  ns_per_match(*small, 10, iterations);  // warm up
  double small_ns = ns_per_match(*small, 10, iterations);
  double large_ns = ns_per_match(*large, 1000, iterations);
  std::printf("policy match: %.1f ns/match with 10 routes, %.1f ns/match with 1000 routes\n", small_ns, large_ns);
  MESSAGE("ns/match: 10 routes " << small_ns << ", 1000 routes " << large_ns);
}
