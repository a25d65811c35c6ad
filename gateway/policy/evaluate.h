// A matched route's requirements against an authenticated identity (PRODUCT.md "Policy
// files"). Every answer carries a Reason (Pomerium's criteria reasons), and Reasons map to one
// HTTP status in one table (http_status below).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "auth/claims.h"
#include "policy/model.h"

namespace portcullis::policy {

enum class Reason {
  Allowed,           // a valid token met every requirement
  Public,            // auth: none; any token is ignored
  Anonymous,         // auth: optional and no token: forwarded without identity
  BadRequest,        // the path (or method) could not be normalized: 400
  NoRoute,           // default deny: 404
  MethodNotAllowed,  // a route matched host and path, none the method: 405
  TokenMissing,      // the route needs a token: 401
  TokenInvalid,      // present but invalid (also on auth: optional): 401
  IssuerNotAllowed,  // valid token from an issuer the route does not list: 401
  MissingScope,      // 403 insufficient_scope
  ClaimMissing,      // 403
  ClaimMismatch,     // 403 (wrong value or wrong type)
};

std::string_view to_string(Reason reason);  // snake_case, for logs, metrics and policy tests
// The HTTP status a Reason answers with: 200 for the allowed ones.
int http_status(Reason reason);
bool is_allowed(Reason reason);

struct Evaluation {
  bool allowed = false;
  Reason reason = Reason::TokenMissing;
  // The route's scopes, space-separated, for WWW-Authenticate: Bearer error="insufficient_scope",
  // scope="..." (a view into the Route; empty when the route names no scope).
  std::string_view required_scopes;
  // Denied only: what failed first, in a few words ("missing scope orders:write"). Never
  // echoes claim values, so it is safe for logs.
  std::string detail;
  // explain=true only: one line per requirement, "<requirement>: met" or
  // "<requirement>: not met (<why>)", in route order (every requirement is evaluated).
  std::vector<std::string> explain;
};

// For a request on `route`. `identity` null: no token was presented (a present but invalid
// token never gets here: it is a 401 before evaluation). The issuer is NOT checked here: call
// issuer_allowed() first (decide() in simulate.h shows the order). With explain=false and an
// allowed outcome nothing is allocated.
//   auth: none      -> Public, whatever the identity
//   auth: optional  -> Anonymous without identity; with one, the requirements apply
//   auth: required  -> TokenMissing without identity; with one, the requirements apply
// Scopes compare as whole tokens, case-sensitively. Claims: equals / one_of compare string
// to string, integer to integer exactly, number to number, bool to bool (never across
// types); contains needs a JSON array holding an equal element; exists: true needs the
// member present (null counts as present), exists: false needs it absent.
Evaluation evaluate(const Route& route, const auth::Identity* identity, bool explain);

// Whether a token from config issuer `issuer_index` may be used on `route` (empty `issuers`
// accepts every issuer).
bool issuer_allowed(const Route& route, size_t issuer_index);

// One requirement against a JSON value (exposed for tests and explain output).
bool claim_value_equals(const rapidjson::Value& claim, const ClaimValue& want);

}  // namespace portcullis::policy
