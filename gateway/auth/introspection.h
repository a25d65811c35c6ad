// RFC 7662 token introspection, the pure half: which tokens go to the endpoint, the request
// body and client credentials we send, and what an answer means. The network half (libcurl
// on the control loop, caching, coalescing) is proxy/introspector.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/claims.h"
#include "auth/status.h"

namespace portcullis::auth {

// Bound on an introspection answer: a few claims, never a document.
inline constexpr size_t kMaxIntrospectionAnswerBytes = 64 * 1024;

// A compact JWS has exactly two dots; anything else (an opaque reference token, a JWE) can
// only be judged by the issuer, so it goes to introspection when an issuer offers it.
bool looks_like_jwt(std::string_view token);

// application/x-www-form-urlencoded (the HTML form rules RFC 6749 §2.3.1 and RFC 7662 §2.1
// refer to): unreserved bytes as is, space as '+', everything else %XX.
void form_urlencode(std::string_view in, std::string& out);

// The POST body: token=...&token_type_hint=access_token, plus client_id and client_secret
// when the client authenticates with client_secret_post (pass empty views otherwise).
std::string introspection_request_body(std::string_view token, std::string_view client_id,
                                       std::string_view client_secret);

struct IntrospectionAnswer {
  // Ok: active and fits the issuer. TokenInactive: active is false. A claim failure
  // (JwtExpired, JwtAudMismatch, JwtIssUnknown, ...): active but not for us.
  // IntrospectionFailed: not a usable answer (not JSON, no boolean active, too large) --
  // no decision can be made, so the issuer's on_error applies.
  AuthStatus status = AuthStatus::IntrospectionFailed;
  std::shared_ptr<const Identity> identity;  // when Ok: sub, scope and the whole answer as claims
  int64_t expires_at = 0;                    // the answer's exp (ceil), 0 when absent
};

// What a worker was told about a token. Shared by every worker that
// holds the token; the verdict is written on the control thread (proxy::Introspector).
struct IntrospectionEntry {
  enum class Verdict : uint8_t { Pending, Active, Refused, Failed };

  IntrospectionEntry(size_t issuer_index, std::string token_text) : issuer(issuer_index), token(std::move(token_text)) {}

  const size_t issuer;
  const std::string token;

  // Periodic mode reads only these two atomics per request.
  std::atomic<Verdict> verdict{Verdict::Pending};
  std::atomic<int64_t> last_used{0};  // unix seconds, stored only when it changes
  // Set when the entry left the registry: a worker holding it must look the token up again.
  std::atomic<bool> retired{false};

  // Guarded by the owner's mutex (proxy::Introspector).
  AuthStatus refused_status = AuthStatus::TokenInactive;  // when Refused
  std::shared_ptr<const Identity> identity;  // the last active answer's identity
  int64_t fresh_until = 0;   // the verdict holds until then (exclusive); then ask again
  int64_t usable_until = 0;  // on_error: use_cached may keep the last active answer until then
  int64_t checked_at = 0;    // when the last answer (or failure) arrived
  // A refusal is kept (not retired when idle) until then: a JWT's exp, or an hour without
  // one, so that a revoked token coming back after a pause is not allowed again while it is
  // re-checked (periodic).
  int64_t keep_refusal_until = 0;
  bool in_flight = false;
  bool queued = false;
  std::vector<const std::function<void()>*> waiters;  // workers to tell when the call ends
};

// Reads an HTTP 200 body from the introspection endpoint, at `now` (seconds).
IntrospectionAnswer parse_introspection_response(std::string_view body, const ClaimRules& rules, int64_t now);

}  // namespace portcullis::auth
