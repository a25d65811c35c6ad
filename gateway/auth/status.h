// One precise status for every way a token can fail, with the few words that go into
// WWW-Authenticate's error_description and the metric label (see status.cc).
#pragma once

#include <string_view>

namespace portcullis::auth {

enum class AuthStatus {
  Ok,
  // Extraction
  TokenMissing,          // no credentials at all
  TokenTooLarge,         // over limits.max_token_bytes, rejected before parsing
  AuthHeaderMalformed,   // not "Bearer <token>", or more than one token
  AuthHeaderDuplicated,  // two Authorization headers
  // Compact JWS structure
  JwtBadSegmentCount,    // not exactly three segments
  JweUnsupported,        // five segments: an encrypted token
  JwtBadBase64,          // padding, '+', '/', non-canonical trailing bits, bad characters
  JwtBadJson,            // header or payload not valid JSON
  JwtNotObject,          // header or payload JSON is not an object
  JwtDuplicateMember,    // the same member name twice (parser differential)
  JwtJsonTooDeep,        // nesting deeper than allowed
  JwtAlgMissing,
  JwtAlgNone,            // unsecured JWS, any spelling
  JwtAlgUnknown,         // not an algorithm we implement
  JwtAlgNotAllowed,      // not in the issuer's allow-list
  JwtCritUnsupported,    // crit names an extension we do not implement, or is malformed
  JwtB64Unsupported,     // "b64": false (RFC 7797)
  JwtKidInvalid,         // kid present but not a string, or absurdly long
  JwtHeaderInvalid,      // another header member of the wrong type (typ, ...)
  JwtTypMismatch,        // issuer requires typ (e.g. at+jwt) and it differs
  // Claims
  JwtIssMissing,
  JwtIssNotString,
  JwtIssUnknown,         // no configured issuer has this iss
  JwtAudMissing,
  JwtAudInvalid,         // aud neither a string nor an array of strings
  JwtAudMismatch,        // no configured audience present
  JwtExpMissing,
  JwtExpInvalid,         // not a JSON number in [0, 2^53]
  JwtExpired,
  JwtNbfInvalid,
  JwtNotYetValid,
  JwtIatInvalid,
  JwtIatInFuture,
  JwtSubInvalid,         // sub present but not a string
  JwtScopeInvalid,       // scope claim of the wrong type
  JwtClaimControlChar,   // sub, iss or a scope carries a control character
  // Keys and signature
  KeysNotLoaded,         // issuer has no key set yet (503, not 401)
  JwksKidNotFound,       // no key with this kid (after a rate-limited refresh)
  JwksKidAmbiguous,      // the JWKS holds two keys with this kid
  JwksKidAlgMismatch,    // the key's kty/crv/alg does not fit the token's alg
  JwksNoMatchingKey,     // no kid and no key fits the alg
  JwtSignatureMalformed, // wrong length, DER for ECDSA, r or s out of range
  JwtSignatureInvalid,   // the signature does not verify
  // Introspection
  TokenInactive,         // RFC 7662 active != true
  IntrospectionFailed,   // endpoint error/timeout and on_error: deny (503)
};

// Short snake_case identifier, used as a metric label and in logs.
std::string_view to_string(AuthStatus status);
// A few human words for WWW-Authenticate error_description (no token material).
std::string_view describe(AuthStatus status);

}  // namespace portcullis::auth
