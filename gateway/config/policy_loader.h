// Policy files -> validated, compiled, immutable policy::PolicySet (PRODUCT.md "Policy files").
// yaml-cpp stays in config/: its exceptions are caught here and become file:line errors.
// Two passes, as STYLE.md §3 asks: shape (types, required and unknown keys, canonical paths,
// method tokens) per file, then meaning across files (issuer and upstream names, duplicate
// route names, routes an earlier route shadows entirely). Every error is collected.
//
// Route semantics worth knowing when writing policies:
//  - `require` on an `auth: optional` route applies only when a token is present: anonymous
//    requests are forwarded without identity, a token that lacks a scope is a 403.
//  - Claim names are top-level names compared exactly ("realm_access.roles" is one name).
//  - A claim value's YAML type is its type: `equals: 42` is the number 42, `equals: "42"` the
//    string; `true`/`false` are booleans; they never match across types.
//  - A route is an error when an earlier one matches every request it would (same or
//    covering host, covering path, superset of methods): first match wins, so it is dead.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/gateway_config.h"
#include "policy/model.h"
#include "policy/test_case.h"

namespace portcullis::config {

struct PolicyLoadResult {
  std::shared_ptr<const policy::PolicySet> policies;  // null whenever errors is non-empty
  std::vector<ConfigError> errors;
  bool ok() const { return policies && errors.empty(); }
};

// `patterns`: paths or glob(3) patterns (GatewayConfig::policies, already resolved against the
// config's directory). Each pattern is expanded in order, its matches sorted; a file matched
// twice is loaded once. A pattern matching no file is an error. Routes keep file order.
PolicyLoadResult load_policies(const std::vector<std::string>& patterns, const GatewayConfig& cfg);

// Pure: validates `yaml` as if it were `file` (tests, fuzzing).
PolicyLoadResult parse_policy_text(std::string_view yaml, const std::string& file, const GatewayConfig& cfg);

// Pure: several files in order ({file, yaml}), with the cross-file checks.
PolicyLoadResult parse_policy_texts(const std::vector<std::pair<std::string, std::string>>& files,
                                    const GatewayConfig& cfg);

// `portcullis test` input:
//   cases:
//     - name: admin needs the admin role
//       request: {method: GET, path: /admin/users, host: api.example.com, headers: {X-Original-URL: /healthz}}
//       token: none | invalid | {claims: {sub: alice, scope: "orders:read", roles: [admin]}}
//       expect: {status: 200 | 400 | 401 | 403 | 404 | 405, route: admin, reason: allowed}
// `token` defaults to none; `route` and `reason` are checked only when given.
struct PolicyTestsResult {
  std::vector<policy::TestCase> cases;
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};
PolicyTestsResult load_policy_tests(const std::string& path);
PolicyTestsResult parse_policy_tests(std::string_view yaml, const std::string& file);

}  // namespace portcullis::config
