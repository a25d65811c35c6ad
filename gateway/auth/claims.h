// JWT claim validation (RFC 7519 §4.1) against one issuer's rules, at an injected `now`.
// Types are checked before values: a claim that is present with the wrong type is an
// invalid token, never "absent" (jwt-go CVE-2020-26160: an array aud skipped the check;
// libjwt clamped a huge exp to INT64_MAX).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "auth/status.h"

namespace portcullis::auth {

struct ClaimRules {
  std::string issuer;                  // exact match against "iss"
  std::vector<std::string> audiences;  // "aud" must contain one; empty = every token fails
  int64_t leeway_seconds = 0;          // clamped to [0, 1 day]
  bool require_exp = true;
  std::string require_typ;             // e.g. "at+jwt"; empty = not checked
  std::string scope_claim = "scope";   // "scope" (space-separated string) or "scp" (array)
};

struct Identity {
  std::string issuer;
  std::string subject;              // empty when the token has no sub
  std::vector<std::string> scopes;  // whole tokens, in token order, empty ones dropped
  int64_t expires_at = 0;           // ceil(exp); 0 = the token has no exp
  // The pool `claims` lives in, sized to the payload: identities sit in the token cache, and
  // rapidjson's default pool would cost 64 KiB each. Declared first: it outlives `claims`.
  std::unique_ptr<rapidjson::MemoryPoolAllocator<>> claims_pool;
  rapidjson::Document claims;       // the full payload, for policy and identity headers
};

// JSON numbers in [0, 2^53] (integer or not): the NumericDate range every JSON parser
// represents exactly.
inline constexpr double kMaxNumericDate = 9007199254740992.0;

// Checks, in this order (first failure wins):
//   typ (when rules.require_typ is set: case-insensitive, "application/" prefix optional,
//       RFC 9068 §4) -> JwtTypMismatch
//   iss: JwtIssMissing / JwtIssNotString / JwtClaimControlChar / JwtIssUnknown
//   sub: optional; not a string -> JwtSubInvalid; control character -> JwtClaimControlChar
//   aud: JwtAudMissing / JwtAudInvalid (not a string or array of strings) / JwtAudMismatch
//   exp: JwtExpMissing (if required) / JwtExpInvalid / JwtExpired (now >= exp + leeway)
//   nbf: JwtNbfInvalid / JwtNotYetValid (now + leeway < nbf)
//   iat: JwtIatInvalid / JwtIatInFuture (now + leeway < iat)
//   scope claim: string split on spaces, or array of strings; else JwtScopeInvalid; an
//       array element containing a space is JwtScopeInvalid (it could not be told apart
//       from two scopes downstream); control characters -> JwtClaimControlChar.
// On Ok fills `out`, copying the payload into out.claims. On failure `out` is unspecified.
AuthStatus validate_claims(const rapidjson::Value& payload, std::string_view typ, const ClaimRules& rules,
                           int64_t now, Identity& out);

// A claims set parsed straight into a pool of its own (`doc` allocates from `*pool`), so a
// valid one becomes Identity::claims by a move, not a copy.
struct OwnedClaims {
  std::unique_ptr<rapidjson::MemoryPoolAllocator<>> pool;  // declared first: outlives doc
  rapidjson::Document doc;

  // `json_bytes`: the size of the JSON text about to be parsed, to size the first chunk.
  explicit OwnedClaims(size_t json_bytes);
};

// Same checks; on Ok moves `claims` (pool and document) into `out` instead of copying.
AuthStatus validate_claims(OwnedClaims&& claims, std::string_view typ, const ClaimRules& rules, int64_t now,
                           Identity& out);

// The same checks for an RFC 7662 introspection answer (already known to say active: true),
// where iss, aud and exp are optional (§2.2) but must fit the issuer when present; typ and
// require_exp do not apply. An absent iss means the configured issuer.
AuthStatus validate_introspected_claims(const rapidjson::Value& answer, const ClaimRules& rules, int64_t now,
                                        Identity& out);

// The "iss" string, to pick the issuer's configuration before anything is validated.
// nullopt when the payload is not an object or iss is absent or not a string.
std::optional<std::string_view> peek_issuer(const rapidjson::Value& payload);

// True if `s` holds a C0 control, DEL, or a C1 control (U+0080..U+009F as UTF-8).
bool has_control_char(std::string_view s);

}  // namespace portcullis::auth
