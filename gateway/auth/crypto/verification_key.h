// Verification keys: built once from a JWK (or an issuer's shared secret) when a key set
// loads, then shared read-only by every request on every worker thread.
//
// OpenSSL stays behind this header: callers see only the JWK vocabulary (auth/jwk.h).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "auth/jwk.h"
#include "core/result.h"

// Opaque OpenSSL handles (defined in <openssl/types.h>); only auth/crypto sees inside.
struct evp_pkey_st;
struct evp_md_ctx_st;
struct evp_mac_ctx_st;

namespace portcullis::auth::crypto {

class VerificationKey;
using KeyPtr = std::shared_ptr<const VerificationKey>;

// Builds an asymmetric key from a JWK, or an Error saying why the key is skipped (RSA
// modulus under 2048 bits, even or tiny exponent, EC point off the curve, wrong coordinate
// length, unsupported curve, Ed25519 x not 32 bytes, symmetric "oct" keys, a key "alg" that
// cannot fit its kty/crv, ...). Messages never contain key material.
Result<KeyPtr> build_verification_key(const JwkParams& params);

// A shared HMAC secret (from an issuer's secret_file, never from a JWKS). It must be at least
// 32 bytes; it fits HS384 only from 48 bytes and HS512 only from 64 (RFC 7518 §3.2).
Result<KeyPtr> build_hmac_key(std::string secret, std::optional<std::string> kid);

class VerificationKey {
 public:
  ~VerificationKey();
  VerificationKey(const VerificationKey&) = delete;
  VerificationKey& operator=(const VerificationKey&) = delete;

  KeyType kty() const { return m_.kty; }
  Curve curve() const { return m_.curve; }
  std::optional<Alg> alg() const { return m_.alg; }
  const std::optional<std::string>& kid() const { return m_.kid; }
  // Modulus bits (RSA), curve bits (EC), 256 (Ed25519), secret bits (HMAC).
  int bits() const { return m_.bits; }

  // Whether a token signed with `alg` may be checked with this key: RSA <-> RS*/PS*,
  // EC P-256/384/521 <-> ES256/384/512, OKP Ed25519 <-> EdDSA, oct <-> HS* when the secret
  // is at least the hash size; the key's own "alg", when present, must be equal.
  bool fits(Alg alg) const;

  // Internal state, opaque outside auth/crypto (the verifier reads it; only the builders
  // above can create a key).
  struct PkeyFree {
    void operator()(evp_pkey_st* pkey) const;
  };
  struct MdCtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  struct MacCtxFree {
    void operator()(evp_mac_ctx_st* ctx) const;
  };
  struct Material {
    KeyType kty = KeyType::RSA;
    Curve curve = Curve::None;
    std::optional<Alg> alg;
    std::optional<std::string> kid;
    int bits = 0;
    std::size_t signature_size = 0;  // exact JWS signature length for asymmetric keys
    std::unique_ptr<evp_pkey_st, PkeyFree> pkey;
    // Per algorithm the key fits, a digest-verify context ready to be copied (see
    // verify_template.h): RSA RS256..PS512 in slots 0..5, EC / Ed25519 in slot 0.
    std::array<std::unique_ptr<evp_md_ctx_st, MdCtxFree>, 6> verify;
    // HMAC: one keyed template per hash (SHA-256/384/512), null when the secret is too short.
    std::array<std::unique_ptr<evp_mac_ctx_st, MacCtxFree>, 3> hmac;
    std::size_t secret_size = 0;
  };
  const Material& material() const { return m_; }

 private:
  explicit VerificationKey(Material material) : m_(std::move(material)) {}
  friend Result<KeyPtr> build_verification_key(const JwkParams& params);
  friend Result<KeyPtr> build_hmac_key(std::string secret, std::optional<std::string> kid);

  Material m_;
};

}  // namespace portcullis::auth::crypto
