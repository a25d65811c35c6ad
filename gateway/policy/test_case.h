// Plain data for `portcullis explain` and `portcullis test` (PRODUCT.md "Command line"):
// a request, an optional token given as its claims, and what the gateway should answer.
// Header-only so config/policy_loader can fill these without linking the policy library.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace portcullis::policy {

struct SimRequest {
  std::string method = "GET";
  std::string target = "/";  // path, optionally with "?query" (the query is never matched)
  std::string host;          // empty: taken from a Host entry in `headers`, if any
  // Other request headers. They never steer the decision (X-Forwarded-Uri, X-Original-URL,
  // X-Rewrite-URL, X-Forwarded-Host are ignored, as in the gateway); kept so tests can say so.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct SimToken {
  // None: no token. Invalid: a token that fails verification (always a 401, even on
  // auth: optional). Claims: a token that verified, with this payload; signature, exp and aud
  // are not checked, the rest is as in the gateway (iss picks the issuer; absent iss means
  // the only configured issuer; sub and the scope claim must have the right types).
  enum class Kind { None, Invalid, Claims } kind = Kind::None;
  std::string claims_json;  // Claims: a JSON object
};

struct TestCase {
  std::string name;
  std::string file;
  int line = 0;
  SimRequest request;
  SimToken token;
  int expect_status = 0;       // 200, 400, 401, 403, 404 or 405
  std::string expect_route;    // empty: not checked
  std::string expect_reason;   // empty: not checked; else policy::to_string(Reason) spelling
};

}  // namespace portcullis::policy
