// Test-only helpers for unit_crypto: hex / base64url decoding, OpenSSL key generation and
// signing (the "other side" of every round trip), and key -> JwkParams conversion.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "auth/crypto/verification_key.h"
#include "auth/crypto/verify.h"
#include "auth/jwk.h"
#include "auth/status.h"

namespace portcullis::auth::crypto::testing {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The test binary cannot link auth/jwk.cc (another module), so it names algorithms itself.
inline std::string_view name(Alg alg) {
  switch (alg) {
    case Alg::RS256: return "RS256";
    case Alg::RS384: return "RS384";
    case Alg::RS512: return "RS512";
    case Alg::PS256: return "PS256";
    case Alg::PS384: return "PS384";
    case Alg::PS512: return "PS512";
    case Alg::ES256: return "ES256";
    case Alg::ES384: return "ES384";
    case Alg::ES512: return "ES512";
    case Alg::EdDSA: return "EdDSA";
    case Alg::HS256: return "HS256";
    case Alg::HS384: return "HS384";
    case Alg::HS512: return "HS512";
  }
  return "?";
}

inline std::string_view name(AuthStatus s) {
  switch (s) {
    case AuthStatus::Ok: return "Ok";
    case AuthStatus::JwksKidAlgMismatch: return "JwksKidAlgMismatch";
    case AuthStatus::JwtSignatureMalformed: return "JwtSignatureMalformed";
    case AuthStatus::JwtSignatureInvalid: return "JwtSignatureInvalid";
    default: return "other";
  }
}

inline std::string hex(std::string_view in) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex");
  };
  if (in.size() % 2 != 0) throw std::invalid_argument("odd hex");
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(in[i]) * 16 + nibble(in[i + 1])));
  }
  return out;
}

// Unpadded base64url, as in JWS; throws on anything else (test input is trusted).
inline std::string b64url(std::string_view in) {
  auto value = [](char c) -> unsigned {
    if (c >= 'A' && c <= 'Z') return static_cast<unsigned>(c - 'A');
    if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a' + 26);
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0' + 52);
    if (c == '-') return 62;
    if (c == '_') return 63;
    throw std::invalid_argument("bad base64url");
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 6) | value(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

inline void require(bool ok, const char* what) {
  if (!ok) {
    ERR_print_errors_fp(stderr);
    throw std::runtime_error(what);
  }
}

inline Pkey generate(const char* type, const char* group_or_null, std::size_t rsa_bits = 0) {
  EVP_PKEY* key = nullptr;
  if (rsa_bits != 0) {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", rsa_bits);
  } else if (group_or_null != nullptr) {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, type, group_or_null);
  } else {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  }
  require(key != nullptr, "keygen");
  return Pkey(key);
}

// RSA generation is slow (worse under ASan): each size is made once per test run.
inline EVP_PKEY* rsa_key(int bits) {
  if (bits == 2048) {
    static Pkey k = generate("RSA", nullptr, 2048);
    return k.get();
  }
  if (bits == 1024) {
    static Pkey k = generate("RSA", nullptr, 1024);
    return k.get();
  }
  static Pkey k = generate("RSA", nullptr, 3072);
  return k.get();
}
inline EVP_PKEY* ec_key(Curve crv) {
  static Pkey p256 = generate("EC", "P-256");
  static Pkey p384 = generate("EC", "P-384");
  static Pkey p521 = generate("EC", "P-521");
  return crv == Curve::P256 ? p256.get() : crv == Curve::P384 ? p384.get() : p521.get();
}
inline EVP_PKEY* ed25519_key() {
  static Pkey k = generate("ED25519", nullptr);
  return k.get();
}

inline std::string bn_param(EVP_PKEY* key, const char* param, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  require(EVP_PKEY_get_bn_param(key, param, &bn) == 1, "get_bn_param");
  std::string out(pad_to ? static_cast<std::size_t>(pad_to) : static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  if (pad_to) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), pad_to);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  BN_free(bn);
  return out;
}

inline std::size_t coord_size(Curve crv) {
  return crv == Curve::P256 ? 32 : crv == Curve::P384 ? 48 : 66;
}

// The public half of a generated key, as the JWKS parser would hand it over.
inline JwkParams rsa_jwk(EVP_PKEY* key) {
  JwkParams p;
  p.kty = KeyType::RSA;
  p.n = bn_param(key, OSSL_PKEY_PARAM_RSA_N);
  p.e = bn_param(key, OSSL_PKEY_PARAM_RSA_E);
  return p;
}
inline JwkParams ec_jwk(EVP_PKEY* key, Curve crv) {
  JwkParams p;
  p.kty = KeyType::EC;
  p.crv = crv;
  const int size = static_cast<int>(coord_size(crv));
  p.x = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size);
  p.y = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size);
  return p;
}
inline JwkParams ed25519_jwk(EVP_PKEY* key) {
  JwkParams p;
  p.kty = KeyType::OKP;
  p.crv = Curve::Ed25519;
  std::size_t len = 32;
  p.x.assign(32, '\0');
  require(EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(p.x.data()), &len) == 1,
          "raw public key");
  return p;
}

inline const char* md_name(Alg alg) {
  switch (alg) {
    case Alg::RS256: case Alg::PS256: case Alg::ES256: case Alg::HS256: return "SHA256";
    case Alg::RS384: case Alg::PS384: case Alg::ES384: case Alg::HS384: return "SHA384";
    case Alg::RS512: case Alg::PS512: case Alg::ES512: case Alg::HS512: return "SHA512";
    case Alg::EdDSA: break;
  }
  return nullptr;
}
inline bool is_pss(Alg a) { return a == Alg::PS256 || a == Alg::PS384 || a == Alg::PS512; }
inline bool is_ecdsa(Alg a) { return a == Alg::ES256 || a == Alg::ES384 || a == Alg::ES512; }

// DER ECDSA-Sig-Value -> raw R || S of 2 * size bytes (JWS form).
inline std::string der_to_raw(std::string_view der, std::size_t size) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  require(sig != nullptr, "d2i_ECDSA_SIG");
  std::string out(2 * size, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), o, static_cast<int>(size));
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), o + size, static_cast<int>(size));
  ECDSA_SIG_free(sig);
  return out;
}

// Signs like a JWS issuer would (OpenSSL, independent of the code under test).
inline std::string sign(Alg alg, EVP_PKEY* key, std::string_view input, std::size_t ec_size = 0) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  require(EVP_DigestSignInit_ex(ctx, &pctx, md_name(alg), nullptr, nullptr, key, nullptr) == 1,
          "DigestSignInit");
  if (is_pss(alg)) {
    require(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1,
            "pss params");
  }
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  require(EVP_DigestSign(ctx, nullptr, &len, in, input.size()) == 1, "DigestSign size");
  std::string sig(len, '\0');
  require(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) == 1,
          "DigestSign");
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return is_ecdsa(alg) ? der_to_raw(sig, ec_size) : sig;
}

inline std::string hmac(Alg alg, std::string_view secret, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  require(EVP_Q_mac(nullptr, "HMAC", nullptr, md_name(alg), nullptr, secret.data(), secret.size(),
                    reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
                    sizeof out, &len) != nullptr,
          "EVP_Q_mac");
  return std::string(reinterpret_cast<char*>(out), len);
}

inline KeyPtr must_build(const JwkParams& p) {
  auto key = build_verification_key(p);
  if (!key) throw std::runtime_error("build_verification_key: " + key.error().message);
  return *key;
}

inline std::string flip_bit(std::string s, std::size_t byte, int bit = 0) {
  s[byte] = static_cast<char>(s[byte] ^ (1 << bit));
  return s;
}

}  // namespace portcullis::auth::crypto::testing
