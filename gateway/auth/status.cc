#include "auth/status.h"

namespace portcullis::auth {

std::string_view to_string(AuthStatus status) {
  switch (status) {
    case AuthStatus::Ok: return "ok";
    case AuthStatus::TokenMissing: return "token_missing";
    case AuthStatus::TokenTooLarge: return "token_too_large";
    case AuthStatus::AuthHeaderMalformed: return "auth_header_malformed";
    case AuthStatus::AuthHeaderDuplicated: return "auth_header_duplicated";
    case AuthStatus::JwtBadSegmentCount: return "jwt_bad_segment_count";
    case AuthStatus::JweUnsupported: return "jwe_unsupported";
    case AuthStatus::JwtBadBase64: return "jwt_bad_base64";
    case AuthStatus::JwtBadJson: return "jwt_bad_json";
    case AuthStatus::JwtNotObject: return "jwt_not_object";
    case AuthStatus::JwtDuplicateMember: return "jwt_duplicate_member";
    case AuthStatus::JwtJsonTooDeep: return "jwt_json_too_deep";
    case AuthStatus::JwtAlgMissing: return "jwt_alg_missing";
    case AuthStatus::JwtAlgNone: return "jwt_alg_none";
    case AuthStatus::JwtAlgUnknown: return "jwt_alg_unknown";
    case AuthStatus::JwtAlgNotAllowed: return "jwt_alg_not_allowed";
    case AuthStatus::JwtCritUnsupported: return "jwt_crit_unsupported";
    case AuthStatus::JwtB64Unsupported: return "jwt_b64_unsupported";
    case AuthStatus::JwtKidInvalid: return "jwt_kid_invalid";
    case AuthStatus::JwtHeaderInvalid: return "jwt_header_invalid";
    case AuthStatus::JwtTypMismatch: return "jwt_typ_mismatch";
    case AuthStatus::JwtIssMissing: return "jwt_iss_missing";
    case AuthStatus::JwtIssNotString: return "jwt_iss_not_string";
    case AuthStatus::JwtIssUnknown: return "jwt_iss_unknown";
    case AuthStatus::JwtAudMissing: return "jwt_aud_missing";
    case AuthStatus::JwtAudInvalid: return "jwt_aud_invalid";
    case AuthStatus::JwtAudMismatch: return "jwt_aud_mismatch";
    case AuthStatus::JwtExpMissing: return "jwt_exp_missing";
    case AuthStatus::JwtExpInvalid: return "jwt_exp_invalid";
    case AuthStatus::JwtExpired: return "jwt_expired";
    case AuthStatus::JwtNbfInvalid: return "jwt_nbf_invalid";
    case AuthStatus::JwtNotYetValid: return "jwt_not_yet_valid";
    case AuthStatus::JwtIatInvalid: return "jwt_iat_invalid";
    case AuthStatus::JwtIatInFuture: return "jwt_iat_in_future";
    case AuthStatus::JwtSubInvalid: return "jwt_sub_invalid";
    case AuthStatus::JwtScopeInvalid: return "jwt_scope_invalid";
    case AuthStatus::JwtClaimControlChar: return "jwt_claim_control_char";
    case AuthStatus::KeysNotLoaded: return "keys_not_loaded";
    case AuthStatus::JwksKidNotFound: return "jwks_kid_not_found";
    case AuthStatus::JwksKidAmbiguous: return "jwks_kid_ambiguous";
    case AuthStatus::JwksKidAlgMismatch: return "jwks_kid_alg_mismatch";
    case AuthStatus::JwksNoMatchingKey: return "jwks_no_matching_key";
    case AuthStatus::JwtSignatureMalformed: return "jwt_signature_malformed";
    case AuthStatus::JwtSignatureInvalid: return "jwt_signature_invalid";
    case AuthStatus::TokenInactive: return "token_inactive";
    case AuthStatus::IntrospectionFailed: return "introspection_failed";
  }
  return "unknown";
}

// These words reach clients in WWW-Authenticate: no token material, no quotes or
// backslashes (they sit inside a quoted-string), nothing that helps an attacker tune.
std::string_view describe(AuthStatus status) {
  switch (status) {
    case AuthStatus::Ok: return "ok";
    case AuthStatus::TokenMissing: return "no bearer token";
    case AuthStatus::TokenTooLarge: return "token too large";
    case AuthStatus::AuthHeaderMalformed: return "malformed authorization header";
    case AuthStatus::AuthHeaderDuplicated: return "more than one authorization header";
    case AuthStatus::JwtBadSegmentCount: return "token is not a compact JWS";
    case AuthStatus::JweUnsupported: return "encrypted tokens are not supported";
    case AuthStatus::JwtBadBase64: return "token is not valid base64url";
    case AuthStatus::JwtBadJson: return "token is not valid JSON";
    case AuthStatus::JwtNotObject: return "token JSON is not an object";
    case AuthStatus::JwtDuplicateMember: return "token JSON has a duplicate member";
    case AuthStatus::JwtJsonTooDeep: return "token JSON is nested too deeply";
    case AuthStatus::JwtAlgMissing: return "token has no alg";
    case AuthStatus::JwtAlgNone: return "unsecured tokens are not accepted";
    case AuthStatus::JwtAlgUnknown: return "unsupported alg";
    case AuthStatus::JwtAlgNotAllowed: return "alg not allowed for this issuer";
    case AuthStatus::JwtCritUnsupported: return "unsupported critical header";
    case AuthStatus::JwtB64Unsupported: return "unencoded payload is not supported";
    case AuthStatus::JwtKidInvalid: return "invalid kid";
    case AuthStatus::JwtHeaderInvalid: return "invalid token header";
    case AuthStatus::JwtTypMismatch: return "wrong token type";
    case AuthStatus::JwtIssMissing: return "token has no issuer";
    case AuthStatus::JwtIssNotString: return "issuer is not a string";
    case AuthStatus::JwtIssUnknown: return "unknown issuer";
    case AuthStatus::JwtAudMissing: return "token has no audience";
    case AuthStatus::JwtAudInvalid: return "invalid audience";
    case AuthStatus::JwtAudMismatch: return "audience not accepted";
    case AuthStatus::JwtExpMissing: return "token has no expiry";
    case AuthStatus::JwtExpInvalid: return "invalid exp";
    case AuthStatus::JwtExpired: return "token expired";
    case AuthStatus::JwtNbfInvalid: return "invalid nbf";
    case AuthStatus::JwtNotYetValid: return "token not yet valid";
    case AuthStatus::JwtIatInvalid: return "invalid iat";
    case AuthStatus::JwtIatInFuture: return "token issued in the future";
    case AuthStatus::JwtSubInvalid: return "invalid subject";
    case AuthStatus::JwtScopeInvalid: return "invalid scope claim";
    case AuthStatus::JwtClaimControlChar: return "claim contains a control character";
    case AuthStatus::KeysNotLoaded: return "signing keys not available";
    case AuthStatus::JwksKidNotFound: return "unknown signing key";
    case AuthStatus::JwksKidAmbiguous: return "ambiguous signing key";
    case AuthStatus::JwksKidAlgMismatch: return "key does not fit alg";
    case AuthStatus::JwksNoMatchingKey: return "no signing key fits the token";
    case AuthStatus::JwtSignatureMalformed: return "malformed signature";
    case AuthStatus::JwtSignatureInvalid: return "invalid signature";
    case AuthStatus::TokenInactive: return "token is not active";
    case AuthStatus::IntrospectionFailed: return "token introspection unavailable";
  }
  return "invalid token";
}

}  // namespace portcullis::auth
