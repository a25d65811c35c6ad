// The gateway's whole decision for one request, as a pure function: match -> token ->
// issuer -> requirements -> status. The proxy runs the same steps with a verified token;
// `portcullis explain` and `portcullis test` run them here with claims given as JSON.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "auth/claims.h"
#include "auth/status.h"
#include "policy/evaluate.h"
#include "policy/matcher.h"
#include "policy/model.h"
#include "policy/test_case.h"

namespace portcullis::policy {

struct TokenState {
  enum class Kind { Absent, Invalid, Valid } kind = Kind::Absent;
  const auth::Identity* identity = nullptr;  // Valid
  size_t issuer_index = PolicySet::npos;     // Valid: index into PolicySet::issuers
  std::string invalid_reason;                // Invalid: error_description words
};

struct Decision {
  int status = 404;
  Reason reason = Reason::NoRoute;
  const Route* route = nullptr;  // the matched route (null for 400 / 404 / 405)
  std::string allow;             // 405: the Allow value
  std::string www_authenticate;  // 401 / 403: the header value
  std::string detail;            // what failed, in a few words (no token material)
  std::vector<std::string> explain;  // explain=true: match line, token line, requirement lines

  std::string_view route_name() const { return route ? std::string_view(route->name) : std::string_view(); }
};

// After path normalization. Order: match (404 / 405) -> auth: none is Public -> token
// invalid is 401 (also on auth: optional) -> no token: 401 on required, Anonymous on optional
// -> issuer not listed by the route: 401 -> requirements: 403.
Decision decide(const PolicySet& set, std::string_view host, std::string_view method,
                std::string_view normalized_path, const TokenState& token, bool explain);

// Builds the Identity a verified token with this payload would give (no signature, exp or aud
// checks): iss must name a configured issuer (absent: the only configured issuer), sub a
// string, the issuer's scope claim a space-separated string or an array of strings.
// On Ok sets `issuer_index`; else the AuthStatus the gateway would answer 401 with.
auth::AuthStatus identity_from_claims(const PolicySet& set, std::string_view claims_json, auth::Identity& out,
                                      size_t& issuer_index);

// A request as `portcullis explain` / `portcullis test` give it: the target's path is
// normalized first (a bad path or method is a 400), its query ignored.
Decision simulate(const PolicySet& set, const SimRequest& request, const SimToken& token, bool explain);

struct TestOutcome {
  bool passed = false;
  Decision decision;
  std::string message;  // failures: "expected 403 (route admin), got 200 (route orders-read, allowed)"
};
TestOutcome run_test(const PolicySet& set, const TestCase& test);

}  // namespace portcullis::policy
