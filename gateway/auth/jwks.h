// JWKS (RFC 7517 §5) -> the keys Portcullis may verify with. Only JSON-level hygiene
// happens here (shapes, lengths, usage markers); auth/crypto builds the OpenSSL keys and
// checks RSA size and exponent and that EC points lie on their curve.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwk.h"

namespace portcullis::auth {

inline constexpr size_t kMaxJwksKeys = 100;      // entries beyond this are skipped
inline constexpr size_t kMaxRsaModulusBytes = 2048;  // 16384 bits, OpenSSL's own ceiling
inline constexpr size_t kMaxRsaExponentBytes = 8;

struct SkippedKey {
  std::string kid;     // empty when the entry had no usable string kid
  std::string reason;  // a few words for logs; never key material
};

struct JwksParseResult {
  std::vector<JwkParams> keys;              // usable keys, in document order
  std::vector<SkippedKey> skipped;          // one per entry left out
  std::vector<std::string> ambiguous_kids;  // kids held by two or more entries: unusable
  std::string error;                        // non-empty if the document itself is invalid
};

// Parses a JWKS document. The document must be strict JSON (auth/json.h) of at most
// `max_bytes`, an object whose "keys" is an array. Each entry is kept or skipped:
//   skipped: not an object; kid not a string; private members (d p q dp dq qi k oth);
//   kty "oct" (symmetric keys never come from a JWKS); kty other than RSA/EC/OKP; use
//   present and not "sig"; key_ops present and without "verify"; alg present but not a
//   JWS algorithm we implement (incl. "none") or not fitting the key; RSA without n/e as
//   strict base64url (or oversized); EC crv other than P-256/P-384/P-521, or x/y not
//   exactly the curve's coordinate size; OKP crv other than Ed25519 or x not 32 bytes;
//   more than kMaxJwksKeys entries; and every entry whose kid another entry also has.
// An empty "keys" array is valid (no keys).
JwksParseResult parse_jwks(std::string_view json, size_t max_bytes);

// Whether a token signed with `alg` may be checked with `key`: the key type and curve
// must fit the algorithm, and the key's own "alg", when present, must equal it. An
// asymmetric key never fits an HMAC alg.
bool key_fits_alg(const JwkParams& key, Alg alg);

}  // namespace portcullis::auth
