#include <doctest/doctest.h>

#include <string>

#include "auth/base64url.h"
#include "auth/jwks.h"

using namespace portcullis::auth;

namespace {

constexpr size_t kMax = 1 << 20;

// A 2048-bit-looking modulus (shape only: auth/crypto checks the math).
const std::string kN = base64url_encode(std::string(256, '\xc5'));
const std::string kP256X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const std::string kP256Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const std::string kP384 = base64url_encode(std::string(48, '\x11'));
const std::string kP521 = base64url_encode(std::string(66, '\x01'));
const std::string kEd = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

std::string rsa(const std::string& extra = "") {
  return R"({"kty":"RSA","kid":"r1","n":")" + kN + R"(","e":"AQAB")" + extra + "}";
}
std::string ec256(const std::string& extra = "") {
  return R"({"kty":"EC","kid":"e1","crv":"P-256","x":")" + kP256X + R"(","y":")" + kP256Y + "\"" + extra + "}";
}
std::string okp(const std::string& extra = "") {
  return R"({"kty":"OKP","kid":"o1","crv":"Ed25519","x":")" + kEd + "\"" + extra + "}";
}
std::string set(const std::string& keys) { return R"({"keys":[)" + keys + "]}"; }

}  // namespace

TEST_CASE("parse_jwks keeps well-formed signing keys") {
  struct Row { const char* name; std::string key; KeyType kty; Curve crv; };
  const Row rows[] = {
      {"RSA", rsa(), KeyType::RSA, Curve::None},
      {"RSA with use sig and alg", rsa(R"(,"use":"sig","alg":"RS256")"), KeyType::RSA, Curve::None},
      {"RSA for PS256", rsa(R"(,"alg":"PS256")"), KeyType::RSA, Curve::None},
      {"RSA with key_ops verify", rsa(R"(,"key_ops":["verify"])"), KeyType::RSA, Curve::None},
      {"RSA with x5c (ignored)", rsa(R"(,"x5c":["MIIB"],"x5t":"abc")"), KeyType::RSA, Curve::None},
      {"EC P-256", ec256(), KeyType::EC, Curve::P256},
      {"EC P-256 ES256", ec256(R"(,"alg":"ES256","use":"sig")"), KeyType::EC, Curve::P256},
      {"EC P-384", R"({"kty":"EC","crv":"P-384","x":")" + kP384 + R"(","y":")" + kP384 + "\"}", KeyType::EC, Curve::P384},
      {"EC P-521", R"({"kty":"EC","crv":"P-521","x":")" + kP521 + R"(","y":")" + kP521 + R"(","alg":"ES512"})",
       KeyType::EC, Curve::P521},
      {"Ed25519", okp(), KeyType::OKP, Curve::Ed25519},
      {"Ed25519 EdDSA", okp(R"(,"alg":"EdDSA")"), KeyType::OKP, Curve::Ed25519},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      const auto r = parse_jwks(set(row.key), kMax);
      CHECK(r.error.empty());
      CHECK(r.skipped.empty());
      REQUIRE(r.keys.size() == 1);
      CHECK(r.keys[0].kty == row.kty);
      CHECK(r.keys[0].crv == row.crv);
    }
  }
}

TEST_CASE("parse_jwks decodes key material and metadata") {
  const auto r = parse_jwks(set(rsa(R"(,"alg":"RS384")") + "," + ec256() + "," + okp()), kMax);
  REQUIRE(r.keys.size() == 3);
  CHECK(r.keys[0].kid == std::optional<std::string>("r1"));
  CHECK(r.keys[0].alg == std::optional<Alg>(Alg::RS384));
  CHECK(r.keys[0].n == std::string(256, '\xc5'));
  CHECK(r.keys[0].e == std::string("\x01\x00\x01", 3));
  CHECK(r.keys[1].x.size() == 32);
  CHECK(r.keys[1].y.size() == 32);
  CHECK_FALSE(r.keys[1].alg.has_value());
  CHECK(r.keys[2].x.size() == 32);
  CHECK(r.keys[2].y.empty());
  const auto nokid = parse_jwks(set(R"({"kty":"OKP","crv":"Ed25519","x":")" + kEd + "\"}"), kMax);
  REQUIRE(nokid.keys.size() == 1);
  CHECK_FALSE(nokid.keys[0].kid.has_value());
}

TEST_CASE("parse_jwks skips keys that fail hygiene, with a reason") {
  struct Row { const char* name; std::string key; const char* reason; };
  const Row rows[] = {
      {"not an object", R"("RSA")", "entry is not an object"},
      {"kid number", R"({"kty":"OKP","kid":7,"crv":"Ed25519","x":")" + kEd + "\"}", "kid is not a string"},
      {"oct key", R"({"kty":"oct","kid":"h","k":"c2VjcmV0"})", "symmetric oct key"},
      {"oct key without k", R"({"kty":"oct","kid":"h","alg":"HS256"})", "symmetric oct key"},
      {"private RSA (d)", rsa(R"(,"d":"AQAB")"), "carries private key material"},
      {"private RSA (p)", rsa(R"(,"p":"AQAB")"), "carries private key material"},
      {"private RSA (q)", rsa(R"(,"q":"AQAB")"), "carries private key material"},
      {"private RSA (dp)", rsa(R"(,"dp":"AQAB")"), "carries private key material"},
      {"private RSA (dq)", rsa(R"(,"dq":"AQAB")"), "carries private key material"},
      {"private RSA (qi)", rsa(R"(,"qi":"AQAB")"), "carries private key material"},
      {"private RSA (oth)", rsa(R"(,"oth":[])"), "carries private key material"},
      {"private EC (d)", ec256(R"(,"d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI")"), "carries private key material"},
      {"kty missing", R"({"kid":"x","n":"AQAB","e":"AQAB"})", "kty missing or not a string"},
      {"private member without kty", R"({"d":"AQAB"})", "kty missing or not a string"},
      {"kty number", R"({"kty":1})", "kty missing or not a string"},
      {"kty lowercase rsa", R"({"kty":"rsa","n":")" + kN + R"(","e":"AQAB"})", "unsupported kty"},
      {"kty unknown", R"({"kty":"DSA"})", "unsupported kty"},
      {"use enc", rsa(R"(,"use":"enc")"), "use is not sig"},
      {"use SIG", rsa(R"(,"use":"SIG")"), "use is not sig"},
      {"use number", rsa(R"(,"use":1)"), "use is not sig"},
      {"key_ops without verify", rsa(R"(,"key_ops":["sign","encrypt"])"), "key_ops lacks verify"},
      {"key_ops empty", rsa(R"(,"key_ops":[])"), "key_ops lacks verify"},
      {"key_ops string", rsa(R"(,"key_ops":"verify")"), "key_ops is not an array"},
      {"key_ops with a number", rsa(R"(,"key_ops":["verify",1])"), "key_ops holds a non-string"},
      {"alg none", rsa(R"(,"alg":"none")"), "alg is not a supported JWS algorithm"},
      {"alg unknown", rsa(R"(,"alg":"RSA-OAEP")"), "alg is not a supported JWS algorithm"},
      {"alg number", rsa(R"(,"alg":256)"), "alg is not a string"},
      {"RSA with ES256", rsa(R"(,"alg":"ES256")"), "alg does not fit the key"},
      {"RSA with HS256 (key confusion)", rsa(R"(,"alg":"HS256")"), "alg does not fit the key"},
      {"P-256 with ES384", ec256(R"(,"alg":"ES384")"), "alg does not fit the key"},
      {"Ed25519 with ES256", okp(R"(,"alg":"ES256")"), "alg does not fit the key"},
      {"RSA without n", R"({"kty":"RSA","e":"AQAB"})", "RSA key without a valid n"},
      {"RSA n empty", R"({"kty":"RSA","n":"","e":"AQAB"})", "RSA key without a valid n"},
      {"RSA n number", R"({"kty":"RSA","n":12345,"e":"AQAB"})", "RSA key without a valid n"},
      {"RSA n padded", R"({"kty":"RSA","n":")" + kN + R"(==","e":"AQAB"})", "RSA key without a valid n"},
      {"RSA n standard base64", R"({"kty":"RSA","n":"ab+/","e":"AQAB"})", "RSA key without a valid n"},
      {"RSA without e", R"({"kty":"RSA","n":")" + kN + "\"}", "RSA key without a valid e"},
      {"RSA e padded", R"({"kty":"RSA","n":")" + kN + R"(","e":"AQAB=="})", "RSA key without a valid e"},
      {"RSA e non-canonical", R"({"kty":"RSA","n":")" + kN + R"(","e":"AR"})", "RSA key without a valid e"},
      {"RSA e too large", R"({"kty":"RSA","n":")" + kN + R"(","e":")" + base64url_encode(std::string(9, '\x01')) + "\"}",
       "RSA exponent too large"},
      {"RSA modulus too large", R"({"kty":"RSA","n":")" + base64url_encode(std::string(2050, '\x01')) + R"(","e":"AQAB"})",
       "RSA modulus too large"},
      {"EC no crv", R"({"kty":"EC","x":")" + kP256X + R"(","y":")" + kP256Y + "\"}", "EC key without crv"},
      {"EC secp256k1", R"({"kty":"EC","crv":"secp256k1","x":")" + kP256X + R"(","y":")" + kP256Y + "\"}",
       "unsupported EC curve"},
      {"EC P-256 spelled p-256", R"({"kty":"EC","crv":"p-256","x":")" + kP256X + R"(","y":")" + kP256Y + "\"}",
       "unsupported EC curve"},
      {"EC Ed25519 curve", R"({"kty":"EC","crv":"Ed25519","x":")" + kEd + R"(","y":")" + kEd + "\"}",
       "unsupported EC curve"},
      {"EC P-384 with 32-byte coordinates", R"({"kty":"EC","crv":"P-384","x":")" + kP256X + R"(","y":")" + kP256Y + "\"}",
       "EC key x missing or of the wrong size"},
      {"EC x short (leading zero stripped)",
       R"({"kty":"EC","crv":"P-256","x":")" + base64url_encode(std::string(31, '\x05')) + R"(","y":")" + kP256Y + "\"}",
       "EC key x missing or of the wrong size"},
      {"EC y missing", R"({"kty":"EC","crv":"P-256","x":")" + kP256X + "\"}", "EC key y missing or of the wrong size"},
      {"EC y 33 bytes",
       R"({"kty":"EC","crv":"P-256","x":")" + kP256X + R"(","y":")" + base64url_encode(std::string(33, '\x05')) + "\"}",
       "EC key y missing or of the wrong size"},
      {"OKP X25519", R"({"kty":"OKP","crv":"X25519","x":")" + kEd + "\"}", "unsupported OKP curve"},
      {"OKP Ed448", R"({"kty":"OKP","crv":"Ed448","x":")" + kEd + "\"}", "unsupported OKP curve"},
      {"OKP without crv", R"({"kty":"OKP","x":")" + kEd + "\"}", "OKP key without crv"},
      {"OKP x 31 bytes", R"({"kty":"OKP","crv":"Ed25519","x":")" + base64url_encode(std::string(31, 'a')) + "\"}",
       "Ed25519 key x missing or not 32 bytes"},
      {"OKP x bad base64", R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="})",
       "Ed25519 key x missing or not 32 bytes"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      const auto r = parse_jwks(set(row.key), kMax);
      CHECK(r.error.empty());
      CHECK(r.keys.empty());
      REQUIRE(r.skipped.size() == 1);
      CHECK(r.skipped[0].reason == row.reason);
    }
  }
}

TEST_CASE("a skipped key does not spoil its neighbours") {
  const auto r = parse_jwks(set(rsa(R"(,"use":"enc")") + "," + ec256() + R"(,{"kty":"oct","k":"AA"},)" + okp()), kMax);
  CHECK(r.keys.size() == 2);
  CHECK(r.skipped.size() == 2);
  CHECK(r.skipped[0].kid == "r1");
  CHECK(r.skipped[1].kid.empty());
}

TEST_CASE("two keys with the same kid make that kid unusable") {
  SUBCASE("both valid") {
    const auto r = parse_jwks(set(rsa() + "," + rsa(R"(,"alg":"RS256")") + "," + ec256()), kMax);
    REQUIRE(r.keys.size() == 1);
    CHECK(r.keys[0].kid == std::optional<std::string>("e1"));
    CHECK(r.skipped.size() == 2);
    CHECK(r.skipped[0].reason == "duplicate kid");
    CHECK(r.ambiguous_kids == std::vector<std::string>{"r1"});
  }
  SUBCASE("one of them invalid still poisons the kid") {
    const auto r = parse_jwks(set(rsa() + "," + rsa(R"(,"use":"enc")")), kMax);
    CHECK(r.keys.empty());
    CHECK(r.ambiguous_kids == std::vector<std::string>{"r1"});
  }
  SUBCASE("different kty, same kid") {
    const auto r = parse_jwks(set(rsa() + R"(,{"kty":"OKP","kid":"r1","crv":"Ed25519","x":")" + kEd + "\"}"), kMax);
    CHECK(r.keys.empty());
  }
  SUBCASE("keys without kid are not duplicates of each other") {
    const auto r = parse_jwks(set(R"({"kty":"OKP","crv":"Ed25519","x":")" + kEd + R"("},{"kty":"OKP","crv":"Ed25519","x":")" +
                                  kEd + "\"}"),
                              kMax);
    CHECK(r.keys.size() == 2);
    CHECK(r.ambiguous_kids.empty());
  }
}

TEST_CASE("parse_jwks rejects documents that are not a key set") {
  struct Row { const char* name; std::string json; size_t max; const char* error; };
  const Row rows[] = {
      {"not JSON", "keys", kMax, "JWKS is not strict JSON: jwt_bad_json"},
      {"array", "[]", kMax, "JWKS is not strict JSON: jwt_not_object"},
      {"HTML error page", "<html>502</html>", kMax, "JWKS is not strict JSON: jwt_bad_json"},
      {"no keys", R"({"key":[]})", kMax, "JWKS has no \"keys\" member"},
      {"keys object", R"({"keys":{}})", kMax, "JWKS \"keys\" is not an array"},
      {"keys null", R"({"keys":null})", kMax, "JWKS \"keys\" is not an array"},
      {"duplicate keys member", R"({"keys":[],"keys":[]})", kMax, "JWKS is not strict JSON: jwt_duplicate_member"},
      {"duplicate member inside a key", set(R"({"kty":"RSA","kty":"EC"})"), kMax,
       "JWKS is not strict JSON: jwt_duplicate_member"},
      {"too large", set(rsa()), 100, "JWKS is not strict JSON: token_too_large"},
      {"too deep", R"({"keys":[{"a":)" + std::string(20, '[') + std::string(20, ']') + "}]}", kMax,
       "JWKS is not strict JSON: jwt_json_too_deep"},
      {"trailing garbage", R"({"keys":[]} x)", kMax, "JWKS is not strict JSON: jwt_bad_json"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      const auto r = parse_jwks(row.json, row.max);
      CHECK(r.error == row.error);
      CHECK(r.keys.empty());
    }
  }
  const auto empty = parse_jwks(R"({"keys":[]})", kMax);
  CHECK(empty.error.empty());
  CHECK(empty.keys.empty());
}

TEST_CASE("parse_jwks caps the number of entries") {
  std::string keys;
  for (size_t i = 0; i < kMaxJwksKeys + 5; ++i) {
    if (i) keys += ",";
    keys += R"({"kty":"OKP","kid":"k)" + std::to_string(i) + R"(","crv":"Ed25519","x":")" + kEd + "\"}";
  }
  const auto r = parse_jwks(set(keys), kMax);
  CHECK(r.keys.size() == kMaxJwksKeys);
  REQUIRE(r.skipped.size() == 5);
  CHECK(r.skipped[0].reason == "too many keys in the JWKS");
}

TEST_CASE("key_fits_alg: kty, curve and the key's own alg") {
  JwkParams rsa_key;
  rsa_key.kty = KeyType::RSA;
  JwkParams p256;
  p256.kty = KeyType::EC;
  p256.crv = Curve::P256;
  JwkParams p384 = p256;
  p384.crv = Curve::P384;
  JwkParams p521 = p256;
  p521.crv = Curve::P521;
  JwkParams ed;
  ed.kty = KeyType::OKP;
  ed.crv = Curve::Ed25519;
  JwkParams oct;
  oct.kty = KeyType::Oct;

  struct Row { const char* name; const JwkParams* key; Alg alg; bool fits; };
  const Row rows[] = {
      {"RSA RS256", &rsa_key, Alg::RS256, true},  {"RSA RS512", &rsa_key, Alg::RS512, true},
      {"RSA PS384", &rsa_key, Alg::PS384, true},  {"RSA ES256", &rsa_key, Alg::ES256, false},
      {"RSA HS256", &rsa_key, Alg::HS256, false}, {"RSA EdDSA", &rsa_key, Alg::EdDSA, false},
      {"P-256 ES256", &p256, Alg::ES256, true},   {"P-256 ES384", &p256, Alg::ES384, false},
      {"P-256 HS256", &p256, Alg::HS256, false},  {"P-256 RS256", &p256, Alg::RS256, false},
      {"P-384 ES384", &p384, Alg::ES384, true},   {"P-521 ES512", &p521, Alg::ES512, true},
      {"P-521 ES256", &p521, Alg::ES256, false},  {"Ed25519 EdDSA", &ed, Alg::EdDSA, true},
      {"Ed25519 ES256", &ed, Alg::ES256, false},  {"Ed25519 HS256", &ed, Alg::HS256, false},
      {"oct HS256", &oct, Alg::HS256, true},      {"oct RS256", &oct, Alg::RS256, false},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) { CHECK(key_fits_alg(*row.key, row.alg) == row.fits); }
  }
  SUBCASE("the key's own alg pins it") {
    JwkParams pinned = rsa_key;
    pinned.alg = Alg::PS256;
    CHECK(key_fits_alg(pinned, Alg::PS256));
    CHECK_FALSE(key_fits_alg(pinned, Alg::RS256));
  }
}
