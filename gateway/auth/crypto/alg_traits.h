// What each JWS algorithm needs from a key and from OpenSSL (internal to auth/crypto).
#pragma once

#include <cstddef>
#include <string_view>

#include "auth/jwk.h"

namespace portcullis::auth::crypto {

enum class Family { RsaPkcs1, RsaPss, Ecdsa, EdDsa, Hmac };
enum class Hash { Sha256 = 0, Sha384 = 1, Sha512 = 2, None = 3 };

struct AlgTraits {
  Family family;
  Hash hash;
  std::size_t hash_size;  // bytes; 0 for EdDSA (which hashes internally)
  Curve curve;            // ES*: the one curve it runs on
  std::string_view name;  // for error messages (auth/jwk.cc's to_string is not linked here)
};

constexpr AlgTraits traits(Alg alg) {
  switch (alg) {
    case Alg::RS256: return {Family::RsaPkcs1, Hash::Sha256, 32, Curve::None, "RS256"};
    case Alg::RS384: return {Family::RsaPkcs1, Hash::Sha384, 48, Curve::None, "RS384"};
    case Alg::RS512: return {Family::RsaPkcs1, Hash::Sha512, 64, Curve::None, "RS512"};
    case Alg::PS256: return {Family::RsaPss, Hash::Sha256, 32, Curve::None, "PS256"};
    case Alg::PS384: return {Family::RsaPss, Hash::Sha384, 48, Curve::None, "PS384"};
    case Alg::PS512: return {Family::RsaPss, Hash::Sha512, 64, Curve::None, "PS512"};
    case Alg::ES256: return {Family::Ecdsa, Hash::Sha256, 32, Curve::P256, "ES256"};
    case Alg::ES384: return {Family::Ecdsa, Hash::Sha384, 48, Curve::P384, "ES384"};
    case Alg::ES512: return {Family::Ecdsa, Hash::Sha512, 64, Curve::P521, "ES512"};
    case Alg::EdDSA: return {Family::EdDsa, Hash::None, 0, Curve::Ed25519, "EdDSA"};
    case Alg::HS256: return {Family::Hmac, Hash::Sha256, 32, Curve::None, "HS256"};
    case Alg::HS384: return {Family::Hmac, Hash::Sha384, 48, Curve::None, "HS384"};
    case Alg::HS512: return {Family::Hmac, Hash::Sha512, 64, Curve::None, "HS512"};
  }
  return {Family::Hmac, Hash::None, 0, Curve::None, "?"};  // unreachable for valid enums
}

// The key-type half of VerificationKey::fits (the key's own alg and HMAC length aside).
constexpr bool kind_fits(Alg alg, KeyType kty, Curve crv) {
  const AlgTraits t = traits(alg);
  switch (t.family) {
    case Family::RsaPkcs1:
    case Family::RsaPss: return kty == KeyType::RSA;
    case Family::Ecdsa: return kty == KeyType::EC && crv == t.curve;
    case Family::EdDsa: return kty == KeyType::OKP && crv == Curve::Ed25519;
    case Family::Hmac: return kty == KeyType::Oct;
  }
  return false;
}

constexpr std::string_view hash_name(Hash hash) {
  switch (hash) {
    case Hash::Sha256: return "SHA256";
    case Hash::Sha384: return "SHA384";
    case Hash::Sha512: return "SHA512";
    case Hash::None: break;
  }
  return "";
}

}  // namespace portcullis::auth::crypto
