// Digest-verify contexts prepared once per (key, alg) when a key loads; each verification
// copies one instead of re-running EVP_DigestVerifyInit, which in OpenSSL 3 fetches the
// signature and digest implementations by name on every call (internal to auth/crypto).
#pragma once

#include <openssl/evp.h>

#include <cstddef>

#include "auth/crypto/alg_traits.h"

namespace portcullis::auth::crypto {

// SHA-256/384/512, fetched once per process (nullptr for Hash::None).
const EVP_MD* digest(Hash hash);

// Slot of `alg` in VerificationKey::Material::verify: RSA keys hold RS256..PS512 in 0..5,
// EC and Ed25519 keys their single algorithm in 0.
constexpr std::size_t kVerifySlots = 6;
constexpr std::size_t verify_slot(Alg alg) {
  switch (alg) {
    case Alg::RS384: return 1;
    case Alg::RS512: return 2;
    case Alg::PS256: return 3;
    case Alg::PS384: return 4;
    case Alg::PS512: return 5;
    default: return 0;
  }
}

// A context initialised for verifying `alg` with `pkey` (for PS*: PSS padding, MGF1 with the
// same hash and salt length = hash length, RFC 7518 §3.5), or nullptr if OpenSSL refuses.
EVP_MD_CTX* new_verify_template(Alg alg, EVP_PKEY* pkey);

}  // namespace portcullis::auth::crypto
