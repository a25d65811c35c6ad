// JWS signing for the dev tools (`portcullis keys generate`, `portcullis token mint`, the
// demo issuer): key generation, PEM in and out, public JWK export, RFC 7638 thumbprints,
// and signatures in the exact form verify.h checks. Never on the request path.
//
// OpenSSL stays behind this header. Error messages never contain key material.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwk.h"
#include "core/result.h"

struct evp_pkey_st;

namespace portcullis::auth::crypto {

// RFC 7638 JWK thumbprint: SHA-256 over the required public members in lexicographic order
// without whitespace, base64url without padding. RSA uses {e, kty, n}, EC {crv, kty, x, y},
// OKP {crv, kty, x}. Byte strings are taken as given (an RSA n with a leading zero byte has a
// different thumbprint). Error for kty "oct" (a secret's hash is not published) or an
// unsupported curve.
Result<std::string> jwk_thumbprint(const JwkParams& params);

// The JSON text of a public JWK: kty, then n/e or crv/x(/y), then alg (when given),
// "use":"sig" and kid (when given). Error for kty "oct" or an unsupported curve.
Result<std::string> public_jwk_json(const JwkParams& params);

// A private signing key (RSA >= 2048 bits, EC P-256/384/521, or Ed25519).
class SigningKey {
 public:
  // A fresh key for `alg`: RSA 2048 for RS*/PS*, P-256/384/521 for ES256/384/512, Ed25519 for
  // EdDSA. Error for HS* (use hmac_sign) or when OpenSSL fails.
  static Result<SigningKey> generate(Alg alg);
  // A PKCS#8 or traditional PEM private key (at most 1 MiB of text; other PEM blocks such as
  // "EC PARAMETERS" are skipped). Encrypted keys, RSA under 2048 bits, RSA-PSS-only
  // keys and other curves are refused.
  static Result<SigningKey> from_pem(std::string_view pem);

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  KeyType kty() const { return kty_; }
  Curve curve() const { return curve_; }
  // RS256, ES256, ES384, ES512 or EdDSA: the algorithm a token gets when none is named.
  Alg default_alg() const;
  // Whether this key can sign `alg` (the same rule as VerificationKey::fits, without HS*).
  bool fits(Alg alg) const;

  // PEM texts: PKCS#8 "PRIVATE KEY" (unencrypted) and SubjectPublicKeyInfo "PUBLIC KEY".
  Result<std::string> private_pem() const;
  Result<std::string> public_pem() const;

  // The public half as JWK parameters (kid and alg unset). EC coordinates are padded to the
  // curve's coordinate size; RSA n and e have no leading zero bytes.
  Result<JwkParams> public_params() const;
  // RFC 7638 thumbprint of public_params(): the default kid.
  Result<std::string> thumbprint() const;

  // The JWS signature (raw bytes, not base64url) over `signing_input` ("header.payload"):
  // RSASSA-PKCS1-v1_5, RSASSA-PSS with salt length = hash length, ECDSA as raw R || S of
  // exactly 2 x coordinate size, Ed25519 one-shot. Error when !fits(alg).
  Result<std::string> sign(Alg alg, std::string_view signing_input) const;

 private:
  struct PkeyFree {
    void operator()(evp_pkey_st* pkey) const;
  };
  SigningKey(evp_pkey_st* pkey, KeyType kty, Curve curve);
  static Result<SigningKey> adopt(evp_pkey_st* pkey);

  std::unique_ptr<evp_pkey_st, PkeyFree> pkey_;
  KeyType kty_ = KeyType::RSA;
  Curve curve_ = Curve::None;
};

// HMAC over `signing_input` for HS256/384/512. The secret must be at least the hash size
// (32/48/64 bytes), as the verifier requires (RFC 7518 §3.2). Error for any other alg.
Result<std::string> hmac_sign(Alg alg, std::string_view secret, std::string_view signing_input);

}  // namespace portcullis::auth::crypto
