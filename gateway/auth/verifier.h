// The order of checks for one bearer token, offline: structure -> issuer -> algorithm
// allow-list -> key (by kid, or the few that fit) -> claims -> signature. Pure: keys and
// `now` are handed in.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "auth/claims.h"
#include "auth/jws.h"
#include "auth/key_set.h"
#include "auth/status.h"

namespace portcullis::auth {

inline constexpr size_t kMaxKidlessCandidates = 4;

struct IssuerView {
  const ClaimRules* rules = nullptr;  // rules->issuer is the exact "iss"
  std::span<const Alg> algorithms;    // allow-list
  const KeySet* keys = nullptr;       // nullptr: not loaded yet
};

struct VerifyScratch {  // reused across calls on one thread
  ParsedJws jws;
  std::string buffer;
};

struct VerifyOutcome {
  AuthStatus status = AuthStatus::Ok;
  int issuer = -1;  // index into the issuers span once "iss" matched one
  std::shared_ptr<const Identity> identity;  // set when status == Ok
  uint64_t key_id = 0;
};

void verify_token(std::string_view token, std::span<const IssuerView> issuers, int64_t now, VerifyScratch& scratch,
                  VerifyOutcome& out);

// The key-selection and signature step of verify_token, for a JWS parsed by parse_jws or
// parse_jws_raw_payload (whose payload need not be a claims set): with a kid, the one key
// holding it (JwksKidAmbiguous / JwksKidNotFound / JwksKidAlgMismatch); without, the first
// kMaxKidlessCandidates keys that fit the alg (JwksNoMatchingKey when none fits, else the
// first key's failure). On Ok `verified_by` points at the key that verified.
AuthStatus verify_jws_signature(const ParsedJws& jws, const KeySet& keys, const KeySet::Entry*& verified_by);

}  // namespace portcullis::auth
