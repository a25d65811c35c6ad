#include "auth/verifier.h"

#include <algorithm>

#include "auth/crypto/verify.h"
#include "auth/json.h"

namespace portcullis::auth {
namespace {

AuthStatus verify_with_key(const KeySet::Entry& entry, Alg alg, const ParsedJws& jws) {
  if (!entry.key->fits(alg)) return AuthStatus::JwksKidAlgMismatch;
  return crypto::verify_signature(alg, *entry.key, jws.signing_input, jws.signature);
}

}  // namespace

AuthStatus verify_jws_signature(const ParsedJws& jws, const KeySet& keys, const KeySet::Entry*& verified_by) {
  verified_by = nullptr;
  if (jws.kid) {
    if (keys.ambiguous(*jws.kid)) return AuthStatus::JwksKidAmbiguous;
    const KeySet::Entry* entry = keys.find(*jws.kid);
    if (entry == nullptr) return AuthStatus::JwksKidNotFound;
    if (AuthStatus st = verify_with_key(*entry, jws.alg, jws); st != AuthStatus::Ok) return st;
    verified_by = entry;
    return AuthStatus::Ok;
  }
  // No kid: try the keys that fit the algorithm, a bounded number of them.
  size_t tried = 0;
  AuthStatus first_failure = AuthStatus::JwksNoMatchingKey;
  for (const KeySet::Entry& entry : keys.entries()) {
    if (!entry.key->fits(jws.alg)) continue;
    if (tried++ == kMaxKidlessCandidates) break;
    AuthStatus st = crypto::verify_signature(jws.alg, *entry.key, jws.signing_input, jws.signature);
    if (st == AuthStatus::Ok) {
      verified_by = &entry;
      return AuthStatus::Ok;
    }
    if (first_failure == AuthStatus::JwksNoMatchingKey) first_failure = st;
  }
  return first_failure;
}

void verify_token(std::string_view token, std::span<const IssuerView> issuers, int64_t now, VerifyScratch& scratch,
                  VerifyOutcome& out) {
  out = VerifyOutcome{};
  // parse_jws's checks in its order, but the claims are parsed into a pool of their own that
  // the identity keeps (no copy of the claims for the cache).
  ParsedJws& jws = scratch.jws;
  if (AuthStatus st = parse_jws_raw_payload(token, jws, scratch.buffer); st != AuthStatus::Ok) {
    out.status = st;
    return;
  }
  OwnedClaims claims(scratch.buffer.size());
  if (AuthStatus st = parse_json_object(scratch.buffer, claims.doc); st != AuthStatus::Ok) {
    out.status = st;
    return;
  }
  std::optional<std::string_view> iss = peek_issuer(claims.doc);
  if (!iss) {
    out.status = claims.doc.HasMember("iss") ? AuthStatus::JwtIssNotString : AuthStatus::JwtIssMissing;
    return;
  }
  const IssuerView* issuer = nullptr;
  for (size_t i = 0; i < issuers.size(); ++i) {
    if (issuers[i].rules->issuer == *iss) {
      issuer = &issuers[i];
      out.issuer = static_cast<int>(i);
      break;
    }
  }
  if (issuer == nullptr) {
    out.status = AuthStatus::JwtIssUnknown;
    return;
  }
  if (std::find(issuer->algorithms.begin(), issuer->algorithms.end(), jws.alg) == issuer->algorithms.end()) {
    out.status = AuthStatus::JwtAlgNotAllowed;
    return;
  }
  if (issuer->keys == nullptr) {
    out.status = AuthStatus::KeysNotLoaded;
    return;
  }

  // Claims before the signature: cheap refusals (expired, wrong audience) cost no crypto.
  Identity identity;
  if (AuthStatus st = validate_claims(std::move(claims), jws.typ, *issuer->rules, now, identity);
      st != AuthStatus::Ok) {
    out.status = st;
    return;
  }

  const KeySet::Entry* verified_by = nullptr;
  if (AuthStatus st = verify_jws_signature(jws, *issuer->keys, verified_by); st != AuthStatus::Ok) {
    out.status = st;
    return;
  }
  out.key_id = verified_by->id;
  out.identity = std::make_shared<const Identity>(std::move(identity));
}

}  // namespace portcullis::auth
