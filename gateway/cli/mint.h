// Dev token minting: claims + header + key -> compact JWS. Pure apart from the signature
// (time comes in as `now`), so the command and the demo share it and tests freeze time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/crypto/signer.h"
#include "auth/jwk.h"
#include "core/result.h"

namespace portcullis::cli {

struct MintRequest {
  auth::Alg alg = auth::Alg::ES256;
  const auth::crypto::SigningKey* key = nullptr;  // asymmetric algs
  std::string_view secret;                        // HS256/384/512
  std::optional<std::string> kid;                 // header kid; none when unset
  std::string_view claims_json;                   // a JSON object
  std::string_view header_json;                   // "" or a JSON object of extra header members
  int64_t now = 0;                                // iat, unless the claims have one
  int64_t ttl_seconds = 0;                        // exp = now + ttl unless present; 0: no exp
};

// The compact JWS "header.payload.signature". The header is {"alg","typ":"JWT","kid"} with
// `header_json` merged over it: a member there replaces ours (in place), a new one is
// appended, and a null value removes the member. The header's alg is only a label: the
// signature always uses `alg` (which is how tests craft mismatched headers). Errors: claims
// or header not a strict JSON object, key/secret missing or unfit for `alg`.
Result<std::string> mint_token(const MintRequest& req);

// "0" -> 0 (no exp); otherwise a duration in whole seconds, e.g. "30s", "15m", "2h30m".
Result<int64_t> parse_ttl(std::string_view text);

}  // namespace portcullis::cli
