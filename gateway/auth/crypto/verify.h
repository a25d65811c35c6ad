// JWS signature verification (RFC 7515 §5.2 step 8, algorithms of RFC 7518 / RFC 8037).
#pragma once

#include <string_view>

#include "auth/crypto/verification_key.h"
#include "auth/jwk.h"
#include "auth/status.h"

namespace portcullis::auth::crypto {

// Checks `signature` (already base64url-decoded) over `signing_input` (the ASCII
// "header.payload" of the compact JWS). Returns
//   Ok                     the signature verifies;
//   JwksKidAlgMismatch     !key.fits(alg): wrong kty/curve, the key's own alg differs, HS*
//                          with an asymmetric key, or a secret too short for the hash;
//   JwtSignatureMalformed  wrong length (RSA: not the modulus size; ECDSA: not raw R||S of
//                          exactly 2 x coordinate size; EdDSA: not 64; HS*: not the hash
//                          size), or ECDSA r or s zero or >= n;
//   JwtSignatureInvalid    anything else.
// Thread-safe: the key is only read; per-thread scratch state lives inside.
AuthStatus verify_signature(Alg alg, const VerificationKey& key, std::string_view signing_input,
                            std::string_view signature);

}  // namespace portcullis::auth::crypto
