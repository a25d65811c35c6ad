// The shared vocabulary of the verification layer: algorithms and JWK parameters as parsed
// from a JWKS (pure data; auth/crypto turns them into OpenSSL keys).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portcullis::auth {

enum class Alg { RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, HS256, HS384, HS512 };

// Exact, case-sensitive names from RFC 7518 / RFC 8037. "none" and anything else: nullopt.
std::optional<Alg> alg_from_string(std::string_view name);
std::string_view to_string(Alg alg);
bool is_hmac(Alg alg);

enum class KeyType { RSA, EC, OKP, Oct };
enum class Curve { None, P256, P384, P521, Ed25519 };

// One JWK that passed the JSON-level hygiene checks (see auth/jwks.h). Byte strings are the
// base64url-decoded big-endian values.
struct JwkParams {
  std::optional<std::string> kid;
  KeyType kty = KeyType::RSA;
  std::optional<Alg> alg;  // the key's own "alg", when present
  Curve crv = Curve::None;
  std::string n, e;        // RSA
  std::string x, y;        // EC (x, y), OKP (x)
};

}  // namespace portcullis::auth
