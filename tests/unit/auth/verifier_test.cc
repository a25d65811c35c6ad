// verify_token end to end, one TEST_CASE per attack class of SECURITY.md ("Tokens", "Keys,
// JWKS"): real keys generated here, real signatures (auth/crypto/signer.h), real JWKS
// documents through KeySet::from_jwks, and the exact AuthStatus each attack must end in.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "auth/base64url.h"
#include "auth/crypto/signer.h"
#include "auth/key_set.h"
#include "auth/verifier.h"

using namespace portcullis::auth;
using portcullis::auth::crypto::SigningKey;

namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr const char* kIss = "https://issuer.test";

// ---- keys -------------------------------------------------------------------------------

// Keys are expensive to generate (RSA): one per name for the whole binary.
const SigningKey& key(const std::string& name, Alg alg) {
  static std::map<std::string, SigningKey> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto generated = SigningKey::generate(alg);
    REQUIRE(generated.ok());
    it = cache.emplace(name, std::move(generated).value()).first;
  }
  return it->second;
}
const SigningKey& rsa_a() { return key("rsa-a", Alg::RS256); }
const SigningKey& rsa_b() { return key("rsa-b", Alg::RS256); }
const SigningKey& ec_a() { return key("ec-a", Alg::ES256); }
const SigningKey& ec_b() { return key("ec-b", Alg::ES256); }
const SigningKey& ec_attacker() { return key("ec-attacker", Alg::ES256); }
const SigningKey& ed_a() { return key("ed-a", Alg::EdDSA); }

JwkParams params_of(const SigningKey& k) {
  auto p = k.public_params();
  REQUIRE(p.ok());
  return p.value();
}

// The public JWK as an issuer would publish it.
std::string jwk(const SigningKey& k, std::optional<std::string> kid, std::optional<Alg> alg = std::nullopt) {
  JwkParams p = params_of(k);
  p.kid = std::move(kid);
  p.alg = alg;
  auto json = crypto::public_jwk_json(p);
  REQUIRE(json.ok());
  return json.value();
}

std::string jwks(const std::vector<std::string>& keys) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < keys.size(); ++i) out += (i ? "," : "") + keys[i];
  return out + "]}";
}

std::shared_ptr<const KeySet> key_set(const std::string& document) {
  KeySet::Report report;
  auto set = KeySet::from_jwks(document, 1 << 20, report);
  REQUIRE(set != nullptr);
  return set;
}

// ---- tokens -----------------------------------------------------------------------------

std::string b64(std::string_view s) { return base64url_encode(s); }

using Members = std::vector<std::pair<std::string, std::optional<std::string>>>;

// A claims set: the defaults below, each override replacing a member's raw JSON value
// (nullopt removes it; a new name is appended).
std::string claims(const Members& overrides = {}) {
  Members m = {{"iss", "\"https://issuer.test\""},
               {"sub", "\"alice\""},
               {"aud", "\"api\""},
               {"exp", std::to_string(kNow + 3600)},
               {"iat", std::to_string(kNow - 10)},
               {"scope", "\"read write\""}};
  for (const auto& [name, value] : overrides) {
    auto it = std::find_if(m.begin(), m.end(), [&](const auto& e) { return e.first == name; });
    if (it == m.end()) {
      m.emplace_back(name, value);
    } else {
      it->second = value;
    }
  }
  std::string out = "{";
  for (const auto& [name, value] : m) {
    if (!value) continue;
    out += (out.size() > 1 ? "," : "") + ("\"" + name + "\":" + *value);
  }
  return out + "}";
}

std::string unsigned_token(std::string_view header, std::string_view payload, std::string_view raw_signature) {
  return b64(header) + "." + b64(payload) + "." + b64(raw_signature);
}

std::string sign(std::string_view header, std::string_view payload, const SigningKey& k, Alg alg) {
  const std::string input = b64(header) + "." + b64(payload);
  auto sig = k.sign(alg, input);
  REQUIRE(sig.ok());
  return input + "." + b64(sig.value());
}

std::string hmac(std::string_view header, std::string_view payload, std::string_view secret, Alg alg) {
  const std::string input = b64(header) + "." + b64(payload);
  auto sig = crypto::hmac_sign(alg, secret, input);
  REQUIRE(sig.ok());
  return input + "." + b64(sig.value());
}

// The raw signature bytes of a compact token.
std::string raw_signature(const std::string& token) {
  std::string out;
  REQUIRE(base64url_decode(token.substr(token.rfind('.') + 1), out));
  return out;
}
std::string replace_signature(const std::string& token, std::string_view raw) {
  return token.substr(0, token.rfind('.') + 1) + b64(raw);
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// Standard base64 (with padding), for turning a PEM body into DER.
std::string base64_std_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // '=', newlines
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string pem_to_der(const std::string& pem) {
  const size_t begin = pem.find('\n') + 1;
  const size_t end = pem.find("-----END");
  return base64_std_decode(pem.substr(begin, end - begin));
}

// DER SEQUENCE { INTEGER r, INTEGER s } from raw R || S (what Java, OpenSSL emit).
std::string der_integer(std::string v) {
  v.erase(0, std::min(v.find_first_not_of('\0'), v.size() - 1));
  if (static_cast<unsigned char>(v[0]) & 0x80) v.insert(v.begin(), '\0');
  return std::string("\x02", 1) + static_cast<char>(v.size()) + v;
}
std::string ecdsa_der(const std::string& raw) {
  const size_t half = raw.size() / 2;
  const std::string body = der_integer(raw.substr(0, half)) + der_integer(raw.substr(half));
  return std::string("\x30", 1) + static_cast<char>(body.size()) + body;
}

// ---- the gateway side -------------------------------------------------------------------

struct Issuer {
  ClaimRules rules;
  std::vector<Alg> algorithms;
  std::shared_ptr<const KeySet> keys;

  Issuer(std::shared_ptr<const KeySet> k, std::vector<Alg> algs) : algorithms(std::move(algs)), keys(std::move(k)) {
    rules.issuer = kIss;
    rules.audiences = {"api"};
  }
  IssuerView view() const { return IssuerView{&rules, algorithms, keys.get()}; }
};

VerifyOutcome verify(std::string_view token, std::span<const IssuerView> issuers) {
  VerifyScratch scratch;
  VerifyOutcome out;
  verify_token(token, issuers, kNow, scratch, out);
  return out;
}
VerifyOutcome verify(std::string_view token, const Issuer& issuer) {
  const IssuerView v = issuer.view();
  return verify(token, std::span<const IssuerView>(&v, 1));
}
AuthStatus status(std::string_view token, const Issuer& issuer) { return verify(token, issuer).status; }

const std::vector<Alg> kAll = {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512, Alg::ES256,
                               Alg::ES384, Alg::ES512, Alg::EdDSA, Alg::HS256, Alg::HS384, Alg::HS512};

// The issuer most tests use: RSA key "rsa-a" and EC key "ec-a", RS256 and ES256 allowed.
Issuer standard_issuer() {
  return Issuer(key_set(jwks({jwk(rsa_a(), "rsa-a"), jwk(ec_a(), "ec-a")})), {Alg::RS256, Alg::ES256});
}

std::string es256_token(const std::string& payload = claims(), const std::string& header = R"({"alg":"ES256","kid":"ec-a"})") {
  return sign(header, payload, ec_a(), Alg::ES256);
}

}  // namespace

// ---- baseline -------------------------------------------------------------------------------

TEST_CASE("verify_token: a well-formed token verifies with every algorithm and yields the identity") {
  const std::string secret(64, 's');
  struct Row {
    const char* name;
    Alg alg;
    const char* key;  // nullptr: HMAC with `secret`
  };
  const Row rows[] = {
      {"RS256", Alg::RS256, "rsa-a"}, {"RS384", Alg::RS384, "rsa-a"}, {"RS512", Alg::RS512, "rsa-a"},
      {"PS256", Alg::PS256, "rsa-a"}, {"PS384", Alg::PS384, "rsa-a"}, {"PS512", Alg::PS512, "rsa-a"},
      {"ES256", Alg::ES256, "ec-a"},  {"ES384", Alg::ES384, "ec384"},  {"ES512", Alg::ES512, "ec521"},
      {"EdDSA", Alg::EdDSA, "ed"},    {"HS256", Alg::HS256, nullptr}, {"HS384", Alg::HS384, nullptr},
      {"HS512", Alg::HS512, nullptr},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      std::shared_ptr<const KeySet> keys;
      std::string token;
      const std::string header = std::string(R"({"alg":")") + std::string(to_string(row.alg)) + R"(","kid":"k1"})";
      if (row.key == nullptr) {
        KeySet::Report report;
        keys = KeySet::from_secret(secret, report);
        REQUIRE(keys);
        token = hmac(header, claims(), secret, row.alg);
      } else {
        const SigningKey& k = key(row.key, row.alg);
        keys = key_set(jwks({jwk(k, "k1")}));
        token = sign(header, claims(), k, row.alg);
      }
      const Issuer issuer(keys, kAll);
      const VerifyOutcome out = verify(token, issuer);
      REQUIRE(out.status == AuthStatus::Ok);
      REQUIRE(out.identity);
      CHECK(out.issuer == 0);
      CHECK(out.key_id == keys->entries()[0].id);
      CHECK(out.identity->issuer == kIss);
      CHECK(out.identity->subject == "alice");
      CHECK(out.identity->scopes == std::vector<std::string>{"read", "write"});
      CHECK(out.identity->expires_at == kNow + 3600);
    }
  }
}

// ---- Tokens: unsecured and confused algorithms --------------------------------------------

TEST_CASE("verify_token: alg none in every spelling is refused, signature or not") {
  const Issuer issuer = standard_issuer();
  const char* spellings[] = {"none", "None", "NONE", "nOnE", "NoNe"};
  for (const char* alg : spellings) {
    const std::string header = std::string(R"({"alg":")") + alg + R"(","kid":"ec-a"})";
    SUBCASE((std::string(alg) + ", empty signature").c_str()) {
      CHECK(status(b64(header) + "." + b64(claims()) + ".", issuer) == AuthStatus::JwtAlgNone);
    }
    SUBCASE((std::string(alg) + ", with a signature").c_str()) {
      CHECK(status(unsigned_token(header, claims(), "sig"), issuer) == AuthStatus::JwtAlgNone);
    }
    SUBCASE((std::string(alg) + ", ES256 signature of the same input").c_str()) {
      CHECK(status(sign(header, claims(), ec_a(), Alg::ES256), issuer) == AuthStatus::JwtAlgNone);
    }
  }
  // Near misses are not "none" but are no algorithm either.
  const std::pair<const char*, AuthStatus> near[] = {
      {R"({"kid":"ec-a"})", AuthStatus::JwtAlgMissing},
      {R"({"alg":"none ","kid":"ec-a"})", AuthStatus::JwtAlgUnknown},
      {R"({"alg":"","kid":"ec-a"})", AuthStatus::JwtAlgUnknown},
      {R"({"alg":null,"kid":"ec-a"})", AuthStatus::JwtAlgUnknown},
      {R"({"alg":0,"kid":"ec-a"})", AuthStatus::JwtAlgUnknown},
      {R"({"alg":["ES256"],"kid":"ec-a"})", AuthStatus::JwtAlgUnknown},
      {R"({"alg":"es256","kid":"ec-a"})", AuthStatus::JwtAlgUnknown},
      {R"({"alg":"ES256K","kid":"ec-a"})", AuthStatus::JwtAlgUnknown},
  };
  for (const auto& [header, expected] : near) {
    SUBCASE(header) { CHECK(status(sign(header, claims(), ec_a(), Alg::ES256), issuer) == expected); }
  }
}

TEST_CASE("verify_token: an HMAC token keyed with the issuer's public key is never Ok") {
  // The issuer publishes RSA key rsa-a and EC key ec-a; the attacker HMACs with their bytes.
  const JwkParams rsa = params_of(rsa_a());
  const JwkParams ec = params_of(ec_a());
  const std::vector<std::pair<const char*, std::string>> secrets = {
      {"RSA PEM", rsa_a().public_pem().value()},
      {"RSA DER", pem_to_der(rsa_a().public_pem().value())},
      {"RSA JWK JSON as published", jwk(rsa_a(), "rsa-a")},
      {"RSA raw modulus", rsa.n},
      {"RSA modulus as base64url text", b64(rsa.n)},
      {"EC PEM", ec_a().public_pem().value()},
      {"EC DER", pem_to_der(ec_a().public_pem().value())},
      {"EC JWK JSON as published", jwk(ec_a(), "ec-a")},
      {"EC x||y", ec.x + ec.y},
      {"EC uncompressed point", std::string(1, '\x04') + ec.x + ec.y},
  };
  const std::string published = jwks({jwk(rsa_a(), "rsa-a"), jwk(ec_a(), "ec-a")});
  for (const auto& [name, secret] : secrets) {
    for (Alg alg : {Alg::HS256, Alg::HS512}) {
      const std::string label = std::string(name) + " / " + std::string(to_string(alg));
      const std::string alg_name(to_string(alg));
      const std::string with_rsa_kid = hmac(R"({"alg":")" + alg_name + R"(","kid":"rsa-a"})", claims(), secret, alg);
      const std::string with_ec_kid = hmac(R"({"alg":")" + alg_name + R"(","kid":"ec-a"})", claims(), secret, alg);
      const std::string kidless = hmac(R"({"alg":")" + alg_name + R"("})", claims(), secret, alg);
      SUBCASE((label + ": HS* not in the allow-list").c_str()) {
        const Issuer issuer(key_set(published), {Alg::RS256, Alg::ES256});
        CHECK(status(with_rsa_kid, issuer) == AuthStatus::JwtAlgNotAllowed);
        CHECK(status(with_ec_kid, issuer) == AuthStatus::JwtAlgNotAllowed);
        CHECK(status(kidless, issuer) == AuthStatus::JwtAlgNotAllowed);
      }
      SUBCASE((label + ": HS* allowed by mistake: no asymmetric key fits").c_str()) {
        const Issuer issuer(key_set(published), kAll);
        CHECK(status(with_rsa_kid, issuer) == AuthStatus::JwksKidAlgMismatch);
        CHECK(status(with_ec_kid, issuer) == AuthStatus::JwksKidAlgMismatch);
        CHECK(status(kidless, issuer) == AuthStatus::JwksNoMatchingKey);
      }
      SUBCASE((label + ": the same secret published as an oct key is skipped").c_str()) {
        const std::string doc = jwks({jwk(rsa_a(), "rsa-a"), R"({"kty":"oct","kid":"hmac","k":")" + b64(secret) +
                                                                  R"(","alg":")" + alg_name + R"("})"});
        const Issuer issuer(key_set(doc), kAll);
        CHECK(issuer.keys->size() == 1);
        CHECK(status(hmac(R"({"alg":")" + alg_name + R"(","kid":"hmac"})", claims(), secret, alg), issuer) ==
              AuthStatus::JwksKidNotFound);
        CHECK(status(kidless, issuer) == AuthStatus::JwksNoMatchingKey);
      }
    }
  }
}

// ---- Tokens: keys offered by the token -------------------------------------------------------

TEST_CASE("verify_token: jwk / jku / x5u / x5c headers are ignored; the attacker's signature fails") {
  const Issuer issuer = standard_issuer();
  const std::string attacker_jwk = jwk(ec_attacker(), "attacker");
  const std::string attacker_der = pem_to_der(ec_attacker().public_pem().value());
  const std::vector<std::pair<const char*, std::string>> offers = {
      {"jwk", R"("jwk":)" + attacker_jwk},
      {"jku", R"("jku":"https://attacker.example/jwks.json")"},
      {"x5u", R"("x5u":"https://attacker.example/cert.pem")"},
      {"x5c", R"("x5c":[")" + std::string(base64url_encode(attacker_der)) + R"("])"},
      {"all of them", R"("jwk":)" + attacker_jwk + R"(,"jku":"https://attacker.example/jwks.json","x5u":"https://a.example/c",)" +
                          R"("x5c":["MIIB"])"},
  };
  for (const auto& [name, member] : offers) {
    SUBCASE((std::string(name) + ", no kid: the issuer's fitting keys are tried").c_str()) {
      CHECK(status(sign(R"({"alg":"ES256",)" + member + "}", claims(), ec_attacker(), Alg::ES256), issuer) ==
            AuthStatus::JwtSignatureInvalid);
    }
    SUBCASE((std::string(name) + ", the issuer's kid").c_str()) {
      CHECK(status(sign(R"({"alg":"ES256","kid":"ec-a",)" + member + "}", claims(), ec_attacker(), Alg::ES256),
                   issuer) == AuthStatus::JwtSignatureInvalid);
    }
    SUBCASE((std::string(name) + ", the attacker's kid").c_str()) {
      CHECK(status(sign(R"({"alg":"ES256","kid":"attacker",)" + member + "}", claims(), ec_attacker(), Alg::ES256),
                   issuer) == AuthStatus::JwksKidNotFound);
    }
  }
  SUBCASE("an embedded oct jwk with an HMAC token") {
    const std::string secret(32, 'k');
    const std::string header = R"({"alg":"HS256","jwk":{"kty":"oct","k":")" + b64(secret) + R"("}})";
    const Issuer lax(key_set(jwks({jwk(rsa_a(), "rsa-a"), jwk(ec_a(), "ec-a")})), kAll);
    CHECK(status(hmac(header, claims(), secret, Alg::HS256), lax) == AuthStatus::JwksNoMatchingKey);
  }
  SUBCASE("the baseline: the issuer's own key with the same headers verifies") {
    CHECK(status(sign(R"({"alg":"ES256","kid":"ec-a","jku":"https://attacker.example/jwks.json"})", claims(), ec_a(),
                      Alg::ES256),
                 issuer) == AuthStatus::Ok);
  }
}

// ---- Tokens: ECDSA encodings -----------------------------------------------------------------

TEST_CASE("verify_token: ECDSA signatures must be raw R||S of exactly twice the coordinate size, 0 < r,s < n") {
  const Issuer issuer = standard_issuer();
  const std::string token = es256_token();
  const std::string sig = raw_signature(token);
  REQUIRE(sig.size() == 64);
  const std::string r = sig.substr(0, 32), s = sig.substr(32);
  const std::string n = from_hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
  const std::string zero(32, '\0');
  const std::string one = std::string(31, '\0') + "\x01";
  const std::pair<const char*, std::string> malformed[] = {
      {"DER of the same r, s", ecdsa_der(sig)},
      {"truncated by one byte", sig.substr(0, 63)},
      {"one zero byte appended", sig + std::string(1, '\0')},
      {"one zero byte prepended", std::string(1, '\0') + sig},
      {"r and s each zero-padded to 33 bytes", std::string(1, '\0') + r + std::string(1, '\0') + s},
      {"r = s = 0 (psychic signature)", zero + zero},
      {"r = 0", zero + s},
      {"s = 0", r + zero},
      {"r = n", n + s},
      {"s = n", r + n},
      {"r = 2^256 - 1", std::string(32, '\xFF') + s},
      {"only r", r},
      {"a single byte", std::string(1, '\x01')},
  };
  for (const auto& [name, bad] : malformed) {
    SUBCASE(name) { CHECK(status(replace_signature(token, bad), issuer) == AuthStatus::JwtSignatureMalformed); }
  }
  SUBCASE("r = s = 1: well-formed, does not verify") {
    CHECK(status(replace_signature(token, one + one), issuer) == AuthStatus::JwtSignatureInvalid);
  }
  SUBCASE("the untouched signature verifies") { CHECK(status(token, issuer) == AuthStatus::Ok); }
  SUBCASE("psychic signatures on P-384 and P-521") {
    const Issuer big(key_set(jwks({jwk(key("ec384", Alg::ES384), "p384"), jwk(key("ec521", Alg::ES512), "p521")})),
                     {Alg::ES384, Alg::ES512});
    CHECK(status(unsigned_token(R"({"alg":"ES384","kid":"p384"})", claims(), std::string(96, '\0')), big) ==
          AuthStatus::JwtSignatureMalformed);
    CHECK(status(unsigned_token(R"({"alg":"ES512","kid":"p521"})", claims(), std::string(132, '\0')), big) ==
          AuthStatus::JwtSignatureMalformed);
    // An ES256-sized signature under ES512 is the wrong length too.
    CHECK(status(unsigned_token(R"({"alg":"ES512","kid":"p521"})", claims(), sig), big) ==
          AuthStatus::JwtSignatureMalformed);
  }
}

// ---- Tokens: kid tricks ----------------------------------------------------------------------

TEST_CASE("verify_token: unknown, huge, non-string, path- and SQL-looking kids are lookups that fail") {
  const Issuer issuer = standard_issuer();
  const std::string kids_not_found[] = {
      "nope", "EC-A", "ec-a ", " ec-a", "ec-", "ec-aa", "", std::string(256, 'a'), "../../../../etc/passwd",
      "/dev/null", "file:///etc/passwd", "https://attacker.example/key.pem", "..\\\\..\\\\windows\\\\win.ini",
      "' OR '1'='1", "ec-a' --", "1; DROP TABLE keys", "ec-a\\\" OR \\\"\\\"=\\\"", "*", "%", "rsa-a/../ec-a",
      "ec-a\\n",
  };
  for (const std::string& kid : kids_not_found) {
    SUBCASE(("kid \"" + kid.substr(0, 40) + "\"").c_str()) {
      CHECK(status(es256_token(claims(), R"({"alg":"ES256","kid":")" + kid + R"("})"), issuer) ==
            AuthStatus::JwksKidNotFound);
    }
  }
  const std::pair<const char*, std::pair<std::string, AuthStatus>> kids_invalid[] = {
      {"257 bytes", {"\"" + std::string(257, 'a') + "\"", AuthStatus::JwtKidInvalid}},
      {"4096 bytes", {"\"" + std::string(4096, 'a') + "\"", AuthStatus::JwtKidInvalid}},
      // A header over the JSON size bound is refused before it is parsed.
      {"100000 bytes", {"\"" + std::string(100000, 'a') + "\"", AuthStatus::TokenTooLarge}},
      {"number", {"1", AuthStatus::JwtKidInvalid}},
      {"null", {"null", AuthStatus::JwtKidInvalid}},
      {"true", {"true", AuthStatus::JwtKidInvalid}},
      {"object", {R"({"kid":"ec-a"})", AuthStatus::JwtKidInvalid}},
      {"array holding the right kid", {R"(["ec-a"])", AuthStatus::JwtKidInvalid}},
  };
  for (const auto& [name, row] : kids_invalid) {
    SUBCASE(name) {
      CHECK(status(es256_token(claims(), R"({"alg":"ES256","kid":)" + row.first + "}"), issuer) == row.second);
    }
  }
  SUBCASE("a kid never falls back to the keys without a kid") {
    const Issuer kidless(key_set(jwks({jwk(ec_a(), std::nullopt)})), {Alg::ES256});
    CHECK(status(es256_token(claims(), R"({"alg":"ES256","kid":"anything"})"), kidless) == AuthStatus::JwksKidNotFound);
    CHECK(status(es256_token(claims(), R"({"alg":"ES256"})"), kidless) == AuthStatus::Ok);
  }
  SUBCASE("a kid with an escaped NUL is not the kid before the NUL (no C-string compare)") {
    CHECK(status(es256_token(claims(), R"({"alg":"ES256","kid":"ec-a\u0000"})"), issuer) == AuthStatus::JwksKidNotFound);
    CHECK(status(es256_token(claims(), R"({"alg":"ES256","kid":"ec-a\u0000x"})"), issuer) ==
          AuthStatus::JwksKidNotFound);
  }
}

// ---- Tokens: parser differentials ------------------------------------------------------------

TEST_CASE("verify_token: duplicate JSON members are rejected, in the header and in the claims") {
  const Issuer issuer = standard_issuer();
  const std::pair<const char*, std::string> headers[] = {
      {"alg twice, none last", R"({"alg":"ES256","kid":"ec-a","alg":"none"})"},
      {"alg twice, none first", R"({"alg":"none","kid":"ec-a","alg":"ES256"})"},
      {"alg twice, same value", R"({"alg":"ES256","alg":"ES256","kid":"ec-a"})"},
      {"kid twice", R"({"alg":"ES256","kid":"nope","kid":"ec-a"})"},
      {"alg spelled with an escape", R"({"alg":"ES256","kid":"ec-a","\u0061lg":"HS256"})"},
  };
  for (const auto& [name, header] : headers) {
    SUBCASE(name) { CHECK(status(es256_token(claims(), header), issuer) == AuthStatus::JwtDuplicateMember); }
  }
  const std::pair<const char*, std::string> payloads[] = {
      {"iss twice", R"({"iss":"https://other.test","iss":"https://issuer.test","aud":"api","exp":1700003600})"},
      {"aud twice", R"({"iss":"https://issuer.test","aud":"other","aud":"api","exp":1700003600})"},
      {"exp twice", R"({"iss":"https://issuer.test","aud":"api","exp":1,"exp":1700003600})"},
      {"sub twice", R"({"iss":"https://issuer.test","aud":"api","exp":1700003600,"sub":"alice","sub":"admin"})"},
      {"nested duplicate", R"({"iss":"https://issuer.test","aud":"api","exp":1700003600,"x":{"role":"u","role":"admin"}})"},
  };
  for (const auto& [name, payload] : payloads) {
    SUBCASE(name) { CHECK(status(es256_token(payload), issuer) == AuthStatus::JwtDuplicateMember); }
  }
  SUBCASE("JSON nested deeper than allowed") {
    std::string deep = R"({"iss":"https://issuer.test","aud":"api","exp":1700003600,"x":)";
    for (int i = 0; i < 40; ++i) deep += "[";
    for (int i = 0; i < 40; ++i) deep += "]";
    CHECK(status(es256_token(deep + "}"), issuer) == AuthStatus::JwtJsonTooDeep);
  }
  SUBCASE("header or payload that is not an object") {
    CHECK(status(es256_token(claims(), R"(["ES256"])"), issuer) == AuthStatus::JwtNotObject);
    CHECK(status(es256_token("\"claims\""), issuer) == AuthStatus::JwtNotObject);
    CHECK(status(es256_token(claims() + "x"), issuer) == AuthStatus::JwtBadJson);
  }
}

TEST_CASE("verify_token: crit is rejected (we implement no extension)") {
  const Issuer issuer = standard_issuer();
  const char* crits[] = {R"(["exp"])", R"([])", R"("b64")", R"(["kid"])", R"(["x-tenant"])", "null", R"({})"};
  for (const char* crit : crits) {
    SUBCASE(crit) {
      CHECK(status(es256_token(claims(), std::string(R"({"alg":"ES256","kid":"ec-a","x-tenant":"t","crit":)") + crit +
                                             "}"),
                   issuer) == AuthStatus::JwtCritUnsupported);
    }
  }
}

TEST_CASE("verify_token: b64 (RFC 7797 unencoded payload) is not supported") {
  const Issuer issuer = standard_issuer();
  const std::pair<const char*, const char*> rows[] = {
      {"b64 false", R"({"alg":"ES256","kid":"ec-a","b64":false})"},
      {"b64 false, listed in crit", R"({"alg":"ES256","kid":"ec-a","b64":false,"crit":["b64"]})"},
      {"b64 true", R"({"alg":"ES256","kid":"ec-a","b64":true})"},
      {"b64 a string", R"({"alg":"ES256","kid":"ec-a","b64":"false"})"},
  };
  for (const auto& [name, header] : rows) {
    SUBCASE(name) { CHECK(status(es256_token(claims(), header), issuer) == AuthStatus::JwtB64Unsupported); }
  }
}

// ---- Tokens: structure and strict base64url ---------------------------------------------------

TEST_CASE("verify_token: exactly three segments; five is a JWE") {
  const Issuer issuer = standard_issuer();
  const std::string token = es256_token();
  const std::pair<const char*, std::pair<std::string, AuthStatus>> rows[] = {
      {"JWE, 5 segments", {"eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn", AuthStatus::JweUnsupported}},
      {"JWE made from the token", {token + ".aXY.dGFn", AuthStatus::JweUnsupported}},
      {"4 segments", {token + ".x", AuthStatus::JwtBadSegmentCount}},
      {"6 segments", {token + ".a.b.c", AuthStatus::JwtBadSegmentCount}},
      {"2 segments", {token.substr(0, token.rfind('.')), AuthStatus::JwtBadSegmentCount}},
      {"1 segment", {token.substr(0, token.find('.')), AuthStatus::JwtBadSegmentCount}},
      {"empty", {"", AuthStatus::JwtBadSegmentCount}},
      {"only dots", {"..", AuthStatus::JwtBadJson}},
  };
  for (const auto& [name, row] : rows) {
    SUBCASE(name) { CHECK(status(row.first, issuer) == row.second); }
  }
}

TEST_CASE("verify_token: strict base64url: no padding, no '+' '/', canonical trailing bits") {
  const Issuer issuer = standard_issuer();
  const std::string token = es256_token();
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  const std::string header = token.substr(0, dot1);
  const std::string payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string sig = token.substr(dot2 + 1);
  REQUIRE(sig.size() == 86);  // 64 bytes: the last character carries 2 bits, 4 unused
  auto with = [&](const std::string& h, const std::string& p, const std::string& s) { return h + "." + p + "." + s; };
  std::string std_alphabet = sig;
  std::replace(std_alphabet.begin(), std_alphabet.end(), '-', '+');
  std::replace(std_alphabet.begin(), std_alphabet.end(), '_', '/');
  if (std_alphabet == sig) std_alphabet[0] = '+';
  // Flip one of the 4 unused low bits of the last character: same bytes, another spelling.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string noncanonical = sig;
  noncanonical.back() = alphabet[alphabet.find(sig.back()) ^ 1];
  const std::pair<const char*, std::string> rows[] = {
      {"signature padded with ==", with(header, payload, sig + "==")},
      {"header padded", with(header + "=", payload, sig)},
      {"payload padded", with(header, payload + "==", sig)},
      {"signature in the standard alphabet", with(header, payload, std_alphabet)},
      {"'+' in the payload", with(header, "+" + payload.substr(1), sig)},
      {"'/' in the header", with("/" + header.substr(1), payload, sig)},
      {"non-canonical trailing bits in the signature", with(header, payload, noncanonical)},
      {"a space inside the signature", with(header, payload, sig.substr(0, 10) + " " + sig.substr(10))},
      {"a newline inside the payload", with(header, payload.substr(0, 10) + "\n" + payload.substr(10), sig)},
      {"a length of 1 mod 4", with(header, payload, sig + "AAA")},
      {"a '?' inside the header", with(header.substr(0, 5) + "?" + header.substr(5), payload, sig)},
  };
  for (const auto& [name, bad] : rows) {
    SUBCASE(name) { CHECK(status(bad, issuer) == AuthStatus::JwtBadBase64); }
  }
  SUBCASE("the canonical spelling verifies") { CHECK(status(token, issuer) == AuthStatus::Ok); }
}

// ---- Tokens: claim type confusion ---------------------------------------------------------------

TEST_CASE("verify_token: exp / nbf / iat must be JSON numbers in [0, 2^53]") {
  const Issuer issuer = standard_issuer();
  struct Row {
    const char* name;
    Members claims;
    AuthStatus expected;
  };
  const Row rows[] = {
      {"exp as a string", {{"exp", "\"1700003600\""}}, AuthStatus::JwtExpInvalid},
      {"nbf as a string", {{"nbf", "\"1699990000\""}}, AuthStatus::JwtNbfInvalid},
      {"iat as a string", {{"iat", "\"1699990000\""}}, AuthStatus::JwtIatInvalid},
      {"exp negative", {{"exp", "-1"}}, AuthStatus::JwtExpInvalid},
      {"exp negative fraction", {{"exp", "-0.5"}}, AuthStatus::JwtExpInvalid},
      {"nbf negative", {{"nbf", "-100"}}, AuthStatus::JwtNbfInvalid},
      {"iat negative", {{"iat", "-100"}}, AuthStatus::JwtIatInvalid},
      {"exp 2^53 + 1", {{"exp", "9007199254740993"}}, AuthStatus::JwtExpInvalid},
      {"exp INT64_MAX", {{"exp", "9223372036854775807"}}, AuthStatus::JwtExpInvalid},
      {"exp UINT64_MAX", {{"exp", "18446744073709551615"}}, AuthStatus::JwtExpInvalid},
      {"exp 1e300", {{"exp", "1e300"}}, AuthStatus::JwtExpInvalid},
      {"exp 1e400 (beyond a double)", {{"exp", "1e400"}}, AuthStatus::JwtBadJson},
      {"exp beyond uint64", {{"exp", "99999999999999999999999"}}, AuthStatus::JwtExpInvalid},
      {"nbf 1e300", {{"nbf", "1e300"}}, AuthStatus::JwtNbfInvalid},
      {"iat 2^53 + 1", {{"iat", "9007199254740993"}}, AuthStatus::JwtIatInvalid},
      {"exp null", {{"exp", "null"}}, AuthStatus::JwtExpInvalid},
      {"exp true", {{"exp", "true"}}, AuthStatus::JwtExpInvalid},
      {"exp array", {{"exp", "[1700003600]"}}, AuthStatus::JwtExpInvalid},
      {"exp object", {{"exp", R"({"$numberLong":"1700003600"})"}}, AuthStatus::JwtExpInvalid},
      {"exp missing", {{"exp", std::nullopt}}, AuthStatus::JwtExpMissing},
      {"exp in the past", {{"exp", std::to_string(kNow - 1)}}, AuthStatus::JwtExpired},
      {"exp == now", {{"exp", std::to_string(kNow)}}, AuthStatus::JwtExpired},
      {"exp 0", {{"exp", "0"}}, AuthStatus::JwtExpired},
      {"nbf in the future", {{"nbf", std::to_string(kNow + 60)}}, AuthStatus::JwtNotYetValid},
      {"iat in the future", {{"iat", std::to_string(kNow + 60)}}, AuthStatus::JwtIatInFuture},
      {"exp exactly 2^53", {{"exp", "9007199254740992"}}, AuthStatus::Ok},
      {"exp fractional, in the future", {{"exp", std::to_string(kNow) + ".5"}}, AuthStatus::Ok},
      {"nbf == now", {{"nbf", std::to_string(kNow)}}, AuthStatus::Ok},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) { CHECK(status(es256_token(claims(row.claims)), issuer) == row.expected); }
  }
}

TEST_CASE("verify_token: aud must be a string or an array of strings that contains ours") {
  const Issuer issuer = standard_issuer();
  const std::pair<const char*, std::pair<std::optional<std::string>, AuthStatus>> rows[] = {
      {"array without ours (jwt-go CVE-2020-26160)", {R"(["other","another"])", AuthStatus::JwtAudMismatch}},
      {"empty array", {"[]", AuthStatus::JwtAudMismatch}},
      {"array with ours", {R"(["other","api"])", AuthStatus::Ok}},
      {"array with ours and a number", {R"(["api",1])", AuthStatus::JwtAudInvalid}},
      {"array with ours and null", {R"([null,"api"])", AuthStatus::JwtAudInvalid}},
      {"nested array with ours", {R"([["api"]])", AuthStatus::JwtAudInvalid}},
      {"number", {"1", AuthStatus::JwtAudInvalid}},
      {"null", {"null", AuthStatus::JwtAudInvalid}},
      {"true", {"true", AuthStatus::JwtAudInvalid}},
      {"object", {R"({"aud":"api"})", AuthStatus::JwtAudInvalid}},
      {"missing", {std::nullopt, AuthStatus::JwtAudMissing}},
      {"other case", {R"("API")", AuthStatus::JwtAudMismatch}},
      {"prefix", {R"("ap")", AuthStatus::JwtAudMismatch}},
      {"with a trailing space", {R"("api ")", AuthStatus::JwtAudMismatch}},
      {"space-separated list", {R"("other api")", AuthStatus::JwtAudMismatch}},
      {"empty string", {R"("")", AuthStatus::JwtAudMismatch}},
      {"ours", {R"("api")", AuthStatus::Ok}},
  };
  for (const auto& [name, row] : rows) {
    SUBCASE(name) { CHECK(status(es256_token(claims({{"aud", row.first}})), issuer) == row.second); }
  }
}

TEST_CASE("verify_token: sub, when present, must be a string") {
  const Issuer issuer = standard_issuer();
  const std::pair<const char*, std::pair<std::optional<std::string>, AuthStatus>> rows[] = {
      {"number", {"42", AuthStatus::JwtSubInvalid}},
      {"null", {"null", AuthStatus::JwtSubInvalid}},
      {"array", {R"(["alice"])", AuthStatus::JwtSubInvalid}},
      {"object", {R"({"id":"alice"})", AuthStatus::JwtSubInvalid}},
      {"bool", {"false", AuthStatus::JwtSubInvalid}},
      {"control character", {R"("alice\r\nX-Admin: 1")", AuthStatus::JwtClaimControlChar}},
      {"C1 control character", {"\"alice\xC2\x85\"", AuthStatus::JwtClaimControlChar}},
      {"absent", {std::nullopt, AuthStatus::Ok}},
      {"string", {R"("alice")", AuthStatus::Ok}},
  };
  for (const auto& [name, row] : rows) {
    SUBCASE(name) { CHECK(status(es256_token(claims({{"sub", row.first}})), issuer) == row.second); }
  }
}

TEST_CASE("verify_token: iss must be a string equal to a configured issuer") {
  const Issuer issuer = standard_issuer();
  const std::pair<const char*, std::pair<std::optional<std::string>, AuthStatus>> rows[] = {
      {"trailing slash", {R"("https://issuer.test/")", AuthStatus::JwtIssUnknown}},
      {"other case", {R"("https://ISSUER.test")", AuthStatus::JwtIssUnknown}},
      {"http", {R"("http://issuer.test")", AuthStatus::JwtIssUnknown}},
      {"prefix of ours", {R"("https://issuer.tes")", AuthStatus::JwtIssUnknown}},
      {"ours as a prefix", {R"("https://issuer.test.attacker.example")", AuthStatus::JwtIssUnknown}},
      {"ours and a control character", {R"("https://issuer.test\u0007")", AuthStatus::JwtIssUnknown}},
      {"empty", {R"("")", AuthStatus::JwtIssUnknown}},
      {"missing", {std::nullopt, AuthStatus::JwtIssMissing}},
      {"number", {"1", AuthStatus::JwtIssNotString}},
      {"null", {"null", AuthStatus::JwtIssNotString}},
      {"array holding ours", {R"(["https://issuer.test"])", AuthStatus::JwtIssNotString}},
  };
  for (const auto& [name, row] : rows) {
    SUBCASE(name) {
      const VerifyOutcome out = verify(es256_token(claims({{"iss", row.first}})), issuer);
      CHECK(out.status == row.second);
      CHECK(out.issuer == -1);
      CHECK_FALSE(out.identity);
    }
  }
  SUBCASE("issuer B's token is checked with B's keys only, never A's") {
    Issuer a = standard_issuer();
    Issuer b(key_set(jwks({jwk(ec_b(), "ec-b")})), {Alg::ES256});
    b.rules.issuer = "https://b.test";
    const IssuerView views[] = {a.view(), b.view()};
    const std::string for_b = claims({{"iss", R"("https://b.test")"}});
    // Signed with A's key and kid, claiming to be from B.
    VerifyOutcome out = verify(es256_token(for_b), views);
    CHECK(out.status == AuthStatus::JwksKidNotFound);
    CHECK(out.issuer == 1);
    out = verify(es256_token(for_b, R"({"alg":"ES256"})"), views);
    CHECK(out.status == AuthStatus::JwtSignatureInvalid);
    out = verify(sign(R"({"alg":"ES256","kid":"ec-b"})", for_b, ec_b(), Alg::ES256), views);
    CHECK(out.status == AuthStatus::Ok);
    CHECK(out.issuer == 1);
    // And B's key cannot sign for A.
    CHECK(verify(sign(R"({"alg":"ES256","kid":"ec-b"})", claims(), ec_b(), Alg::ES256), views).status ==
          AuthStatus::JwksKidNotFound);
  }
}

TEST_CASE("verify_token: scopes are whole space-separated tokens, case kept, wrong types refused") {
  struct Row {
    const char* name;
    const char* claim;  // scope_claim
    std::string value;
    AuthStatus expected;
    std::vector<std::string> scopes;
  };
  const Row rows[] = {
      {"readonly is not read", "scope", R"("readonly")", AuthStatus::Ok, {"readonly"}},
      {"READ is not read", "scope", R"("READ")", AuthStatus::Ok, {"READ"}},
      {"read:admin is not read", "scope", R"("read:admin")", AuthStatus::Ok, {"read:admin"}},
      {"runs of spaces", "scope", R"("  read   write ")", AuthStatus::Ok, {"read", "write"}},
      {"tab is not a separator but a control character", "scope", R"("read\twrite")",
       AuthStatus::JwtClaimControlChar, {}},
      {"newline smuggling a scope", "scope", R"("read\nadmin")", AuthStatus::JwtClaimControlChar, {}},
      {"number", "scope", "1", AuthStatus::JwtScopeInvalid, {}},
      {"object", "scope", R"({"read":true})", AuthStatus::JwtScopeInvalid, {}},
      {"null", "scope", "null", AuthStatus::JwtScopeInvalid, {}},
      {"scp array", "scp", R"(["read","write"])", AuthStatus::Ok, {"read", "write"}},
      {"scp element with a space", "scp", R"(["read write"])", AuthStatus::JwtScopeInvalid, {}},
      {"scp element not a string", "scp", R"(["read",1])", AuthStatus::JwtScopeInvalid, {}},
      {"scp nested array", "scp", R"([["admin"]])", AuthStatus::JwtScopeInvalid, {}},
      {"scp string", "scp", R"("read write")", AuthStatus::Ok, {"read", "write"}},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      Issuer issuer = standard_issuer();
      issuer.rules.scope_claim = row.claim;
      const VerifyOutcome out =
          verify(es256_token(claims({{"scope", std::nullopt}, {row.claim, row.value}})), issuer);
      CHECK(out.status == row.expected);
      if (row.expected == AuthStatus::Ok) {
        REQUIRE(out.identity);
        CHECK(out.identity->scopes == row.scopes);
        CHECK(std::count(out.identity->scopes.begin(), out.identity->scopes.end(), "read") ==
              std::count(row.scopes.begin(), row.scopes.end(), "read"));
      }
    }
  }
  SUBCASE("the other claim is ignored") {
    Issuer issuer = standard_issuer();
    issuer.rules.scope_claim = "scp";
    const VerifyOutcome out = verify(es256_token(claims({{"scope", R"("admin")"}})), issuer);
    REQUIRE(out.status == AuthStatus::Ok);
    CHECK(out.identity->scopes.empty());
  }
}

TEST_CASE("verify_token: typ is checked when the issuer requires at+jwt") {
  Issuer issuer = standard_issuer();
  issuer.rules.require_typ = "at+jwt";
  const std::pair<const char*, AuthStatus> rows[] = {
      {R"({"alg":"ES256","kid":"ec-a","typ":"at+jwt"})", AuthStatus::Ok},
      {R"({"alg":"ES256","kid":"ec-a","typ":"application/at+jwt"})", AuthStatus::Ok},
      {R"({"alg":"ES256","kid":"ec-a","typ":"AT+JWT"})", AuthStatus::Ok},
      {R"({"alg":"ES256","kid":"ec-a","typ":"JWT"})", AuthStatus::JwtTypMismatch},
      {R"({"alg":"ES256","kid":"ec-a","typ":"at+jwt "})", AuthStatus::JwtTypMismatch},
      {R"({"alg":"ES256","kid":"ec-a","typ":"application/jwt"})", AuthStatus::JwtTypMismatch},
      {R"({"alg":"ES256","kid":"ec-a","typ":""})", AuthStatus::JwtTypMismatch},
      {R"({"alg":"ES256","kid":"ec-a"})", AuthStatus::JwtTypMismatch},
      {R"({"alg":"ES256","kid":"ec-a","typ":1})", AuthStatus::JwtHeaderInvalid},
      {R"({"alg":"ES256","kid":"ec-a","typ":["at+jwt"]})", AuthStatus::JwtHeaderInvalid},
  };
  for (const auto& [header, expected] : rows) {
    SUBCASE(header) { CHECK(status(es256_token(claims(), header), issuer) == expected); }
  }
  SUBCASE("not required: any typ passes") {
    issuer.rules.require_typ.clear();
    CHECK(status(es256_token(claims(), R"({"alg":"ES256","kid":"ec-a","typ":"JWT"})"), issuer) == AuthStatus::Ok);
  }
}

// ---- Keys: selection -------------------------------------------------------------------------

TEST_CASE("verify_token: a kid-less token is tried against at most 4 keys that fit its alg") {
  std::vector<std::string> names;
  for (int i = 1; i <= 6; ++i) names.push_back("kidless-" + std::to_string(i));
  std::vector<std::string> published;
  for (const std::string& n : names) published.push_back(jwk(key(n, Alg::ES256), n));
  const Issuer issuer(key_set(jwks(published)), {Alg::ES256, Alg::RS256});
  REQUIRE(issuer.keys->size() == 6);
  const std::pair<int, AuthStatus> rows[] = {
      {1, AuthStatus::Ok}, {3, AuthStatus::Ok}, {4, AuthStatus::Ok},
      {5, AuthStatus::JwtSignatureInvalid}, {6, AuthStatus::JwtSignatureInvalid},
  };
  for (const auto& [position, expected] : rows) {
    SUBCASE(("signer's key is number " + std::to_string(position)).c_str()) {
      const std::string token = sign(R"({"alg":"ES256"})", claims(), key(names[position - 1], Alg::ES256), Alg::ES256);
      const VerifyOutcome out = verify(token, issuer);
      CHECK(out.status == expected);
      if (expected == AuthStatus::Ok) CHECK(out.key_id == issuer.keys->entries()[position - 1].id);
      // With its kid, any position verifies.
      const std::string with_kid =
          sign(R"({"alg":"ES256","kid":")" + names[position - 1] + R"("})", claims(), key(names[position - 1], Alg::ES256),
               Alg::ES256);
      CHECK(status(with_kid, issuer) == AuthStatus::Ok);
    }
  }
  SUBCASE("keys that do not fit the alg are not counted") {
    // Three RSA keys first, then four EC keys with the signer's last: the 4th fitting key.
    const Issuer mixed(key_set(jwks({jwk(rsa_a(), "r1"), jwk(rsa_b(), "r2"), jwk(rsa_a(), std::nullopt, Alg::RS384),
                                     published[0], published[1], published[2], published[3]})),
                       {Alg::ES256});
    CHECK(status(sign(R"({"alg":"ES256"})", claims(), key(names[3], Alg::ES256), Alg::ES256), mixed) == AuthStatus::Ok);
  }
  SUBCASE("the 6th key in the 3rd place is accepted") {
    const Issuer reordered(
        key_set(jwks({published[0], published[1], published[5], published[2], published[3], published[4]})),
        {Alg::ES256});
    CHECK(status(sign(R"({"alg":"ES256"})", claims(), key(names[5], Alg::ES256), Alg::ES256), reordered) ==
          AuthStatus::Ok);
  }
  SUBCASE("no key fits the alg") {
    CHECK(status(sign(R"({"alg":"RS256"})", claims(), rsa_a(), Alg::RS256), issuer) == AuthStatus::JwksNoMatchingKey);
  }
}

TEST_CASE("verify_token: two keys with the same kid make that kid unusable") {
  const Issuer issuer(key_set(jwks({jwk(ec_a(), "dup"), jwk(ec_b(), "dup"), jwk(rsa_a(), "other")})),
                      {Alg::ES256, Alg::RS256});
  SUBCASE("the kid names both: JwksKidAmbiguous, whichever key signed") {
    CHECK(status(es256_token(claims(), R"({"alg":"ES256","kid":"dup"})"), issuer) == AuthStatus::JwksKidAmbiguous);
    CHECK(status(sign(R"({"alg":"ES256","kid":"dup"})", claims(), ec_b(), Alg::ES256), issuer) ==
          AuthStatus::JwksKidAmbiguous);
  }
  SUBCASE("without a kid the duplicates are not candidates either") {
    CHECK(status(es256_token(claims(), R"({"alg":"ES256"})"), issuer) == AuthStatus::JwksNoMatchingKey);
  }
  SUBCASE("the other keys stay usable") {
    CHECK(status(sign(R"({"alg":"RS256","kid":"other"})", claims(), rsa_a(), Alg::RS256), issuer) == AuthStatus::Ok);
  }
}

TEST_CASE("verify_token: a key whose type, curve or own alg differs from the token's alg is not used") {
  const Issuer issuer(key_set(jwks({jwk(rsa_a(), "rsa-384", Alg::RS384), jwk(ec_a(), "ec-p256"),
                                    jwk(key("ed", Alg::EdDSA), "ed"), jwk(rsa_b(), "rsa-any")})),
                      kAll);
  struct Row {
    const char* name;
    std::string token;
    AuthStatus expected;
  };
  const Row rows[] = {
      {"RS256 token, key pinned to RS384",
       sign(R"({"alg":"RS256","kid":"rsa-384"})", claims(), rsa_a(), Alg::RS256), AuthStatus::JwksKidAlgMismatch},
      {"PS384 token, key pinned to RS384",
       sign(R"({"alg":"PS384","kid":"rsa-384"})", claims(), rsa_a(), Alg::PS384), AuthStatus::JwksKidAlgMismatch},
      {"RS384 token, key pinned to RS384", sign(R"({"alg":"RS384","kid":"rsa-384"})", claims(), rsa_a(), Alg::RS384),
       AuthStatus::Ok},
      {"ES384 token, P-256 key",
       sign(R"({"alg":"ES384","kid":"ec-p256"})", claims(), key("ec384", Alg::ES384), Alg::ES384),
       AuthStatus::JwksKidAlgMismatch},
      {"ES512 token, P-256 key",
       sign(R"({"alg":"ES512","kid":"ec-p256"})", claims(), key("ec521", Alg::ES512), Alg::ES512),
       AuthStatus::JwksKidAlgMismatch},
      {"ES256 token, Ed25519 key", sign(R"({"alg":"ES256","kid":"ed"})", claims(), ec_a(), Alg::ES256),
       AuthStatus::JwksKidAlgMismatch},
      {"EdDSA token, EC key", sign(R"({"alg":"EdDSA","kid":"ec-p256"})", claims(), key("ed", Alg::EdDSA), Alg::EdDSA),
       AuthStatus::JwksKidAlgMismatch},
      {"RS256 token, EC key", sign(R"({"alg":"RS256","kid":"ec-p256"})", claims(), rsa_a(), Alg::RS256),
       AuthStatus::JwksKidAlgMismatch},
      {"ES256 token, RSA key", sign(R"({"alg":"ES256","kid":"rsa-any"})", claims(), ec_a(), Alg::ES256),
       AuthStatus::JwksKidAlgMismatch},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) { CHECK(status(row.token, issuer) == row.expected); }
  }
}

TEST_CASE("verify_token: RS256 and PS256 signatures with the same RSA key do not cross-verify") {
  const Issuer issuer(key_set(jwks({jwk(rsa_a(), "rsa-a")})), kAll);
  const std::string payload = claims();
  auto relabel = [&](Alg signed_as, Alg claimed) {
    const std::string input = b64(R"({"alg":")" + std::string(to_string(claimed)) + R"(","kid":"rsa-a"})") + "." +
                              b64(payload);
    auto sig = rsa_a().sign(signed_as, input);
    REQUIRE(sig.ok());
    return input + "." + b64(sig.value());
  };
  const std::pair<Alg, Alg> crossings[] = {
      {Alg::RS256, Alg::PS256}, {Alg::PS256, Alg::RS256}, {Alg::RS256, Alg::RS384},
      {Alg::PS256, Alg::PS384}, {Alg::RS512, Alg::PS512}, {Alg::PS512, Alg::RS512},
  };
  for (const auto& [signed_as, claimed] : crossings) {
    SUBCASE((std::string(to_string(signed_as)) + " signature labelled " + std::string(to_string(claimed))).c_str()) {
      CHECK(status(relabel(signed_as, claimed), issuer) == AuthStatus::JwtSignatureInvalid);
      CHECK(status(relabel(signed_as, signed_as), issuer) == AuthStatus::Ok);
    }
  }
}

TEST_CASE("verify_token: an issuer without keys yet answers KeysNotLoaded, after cheaper refusals") {
  Issuer issuer = standard_issuer();
  issuer.keys.reset();
  CHECK(status(es256_token(), issuer) == AuthStatus::KeysNotLoaded);
  // Refusals that need no key come first.
  CHECK(status(sign(R"({"alg":"RS384","kid":"rsa-a"})", claims(), rsa_a(), Alg::RS384), issuer) ==
        AuthStatus::JwtAlgNotAllowed);
  CHECK(status(es256_token(claims({{"iss", R"("https://other.test")"}})), issuer) == AuthStatus::JwtIssUnknown);
  CHECK(status(b64(R"({"alg":"none"})") + "." + b64(claims()) + ".", issuer) == AuthStatus::JwtAlgNone);
  // An expired token still gets KeysNotLoaded (503, the gateway cannot judge yet).
  CHECK(status(es256_token(claims({{"exp", "1"}})), issuer) == AuthStatus::KeysNotLoaded);

  SUBCASE("a loaded but empty key set is not KeysNotLoaded") {
    issuer.keys = key_set(R"({"keys":[]})");
    CHECK(status(es256_token(), issuer) == AuthStatus::JwksKidNotFound);
    CHECK(status(es256_token(claims(), R"({"alg":"ES256"})"), issuer) == AuthStatus::JwksNoMatchingKey);
  }
}

TEST_CASE("verify_token: a key set change takes effect: a removed key no longer verifies") {
  const std::string token_a = es256_token();  // kid ec-a
  const std::string kidless_a = es256_token(claims(), R"({"alg":"ES256"})");
  Issuer issuer(key_set(jwks({jwk(ec_a(), "ec-a"), jwk(ec_b(), "ec-b")})), {Alg::ES256});
  const VerifyOutcome before = verify(token_a, issuer);
  REQUIRE(before.status == AuthStatus::Ok);
  CHECK(before.key_id == issuer.keys->entries()[0].id);
  CHECK(status(kidless_a, issuer) == AuthStatus::Ok);

  issuer.keys = key_set(jwks({jwk(ec_b(), "ec-b")}));  // A rotated out
  CHECK(status(token_a, issuer) == AuthStatus::JwksKidNotFound);
  CHECK(status(kidless_a, issuer) == AuthStatus::JwtSignatureInvalid);
  CHECK(status(sign(R"({"alg":"ES256","kid":"ec-b"})", claims(), ec_b(), Alg::ES256), issuer) == AuthStatus::Ok);

  SUBCASE("A's kid reused by another key does not revive A's tokens") {
    issuer.keys = key_set(jwks({jwk(ec_b(), "ec-a")}));
    CHECK(status(token_a, issuer) == AuthStatus::JwtSignatureInvalid);
  }
  SUBCASE("A published again: a new key build, with a new key id") {
    issuer.keys = key_set(jwks({jwk(ec_a(), "ec-a")}));
    const VerifyOutcome again = verify(token_a, issuer);
    CHECK(again.status == AuthStatus::Ok);
    CHECK(again.key_id != before.key_id);
  }
}

// ---- Keys: what a JWKS may not supply ---------------------------------------------------------

TEST_CASE("verify_token: weak or unusable JWKS entries are skipped, so their kid is not found") {
  const JwkParams ec = params_of(ec_a());
  const JwkParams rsa = params_of(rsa_a());
  std::string off_curve_y = ec.y;
  off_curve_y.back() = static_cast<char>(off_curve_y.back() ^ 1);
  struct Row {
    const char* name;
    std::string entry;  // a JWK JSON for kid "k", holding ec-a or rsa-a's public key
    bool rsa;
  };
  const std::string ec_xy = R"("crv":"P-256","x":")" + b64(ec.x) + R"(","y":")" + b64(ec.y) + R"(")";
  const std::string rsa_ne = R"("n":")" + b64(rsa.n) + R"(","e":")" + b64(rsa.e) + R"(")";
  const Row rows[] = {
      {"use enc", R"({"kty":"EC","kid":"k","use":"enc",)" + ec_xy + "}", false},
      {"key_ops without verify", R"({"kty":"EC","kid":"k","key_ops":["sign"],)" + ec_xy + "}", false},
      {"private member d", R"({"kty":"EC","kid":"k","d":"AAAA",)" + ec_xy + "}", false},
      {"EC point off the curve",
       R"({"kty":"EC","kid":"k","crv":"P-256","x":")" + b64(ec.x) + R"(","y":")" + b64(off_curve_y) + R"("})", false},
      {"EC key labelled P-384", R"({"kty":"EC","kid":"k","crv":"P-384","x":")" + b64(ec.x) + R"(","y":")" + b64(ec.y) +
                                    R"("})",
       false},
      {"alg none on the key", R"({"kty":"EC","kid":"k","alg":"none",)" + ec_xy + "}", false},
      {"RSA exponent 1", R"({"kty":"RSA","kid":"k","n":")" + b64(rsa.n) + R"(","e":"AQ"})", true},
      {"RSA 1024-bit modulus", R"({"kty":"RSA","kid":"k","n":")" + b64(rsa.n.substr(0, 128)) + R"(","e":"AQAB"})",
       true},
      {"RSA with private members", R"({"kty":"RSA","kid":"k","d":"AQAB","p":"AQ",)" + rsa_ne + "}", true},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      KeySet::Report report;
      const auto keys = KeySet::from_jwks(jwks({row.entry}), 1 << 20, report);
      REQUIRE(keys);
      CHECK(keys->size() == 0);
      CHECK(report.skipped.size() == 1);
      const Issuer issuer(keys, kAll);
      const std::string token = row.rsa ? sign(R"({"alg":"RS256","kid":"k"})", claims(), rsa_a(), Alg::RS256)
                                        : sign(R"({"alg":"ES256","kid":"k"})", claims(), ec_a(), Alg::ES256);
      CHECK(status(token, issuer) == AuthStatus::JwksKidNotFound);
    }
  }
  SUBCASE("the same keys, well published, verify") {
    const Issuer issuer(key_set(jwks({R"({"kty":"EC","kid":"k",)" + ec_xy + "}"})), kAll);
    CHECK(status(sign(R"({"alg":"ES256","kid":"k"})", claims(), ec_a(), Alg::ES256), issuer) == AuthStatus::Ok);
  }
}

// A small-order Ed25519 key makes R = identity, S = 0 a valid signature of every message
// (OpenSSL accepts it); one such entry in an issuer's JWKS must not let anyone forge tokens.
TEST_CASE("verify_token: an Ed25519 key of small order is skipped; the universal forgery is refused") {
  const std::string identity = std::string(1, '\x01') + std::string(31, '\0');
  const std::string forged_sig = identity + std::string(32, '\0');
  const std::string weak = R"({"kty":"OKP","crv":"Ed25519","kid":"weak","x":")" + b64(identity) + R"("})";
  KeySet::Report report;
  const auto keys = KeySet::from_jwks(jwks({weak}), 1 << 20, report);
  REQUIRE(keys);
  CHECK(keys->size() == 0);
  REQUIRE(report.skipped.size() == 1);
  const Issuer issuer(keys, kAll);
  CHECK(status(unsigned_token(R"({"alg":"EdDSA","kid":"weak"})", claims(), forged_sig), issuer) ==
        AuthStatus::JwksKidNotFound);
  CHECK(status(unsigned_token(R"({"alg":"EdDSA"})", claims(), forged_sig), issuer) == AuthStatus::JwksNoMatchingKey);
  SUBCASE("next to a good key, the forgery still fails against it") {
    const auto mixed = KeySet::from_jwks(jwks({weak, jwk(ed_a(), "good")}), 1 << 20, report);
    REQUIRE(mixed);
    CHECK(mixed->size() == 1);
    const Issuer both(mixed, kAll);
    CHECK(status(unsigned_token(R"({"alg":"EdDSA"})", claims(), forged_sig), both) == AuthStatus::JwtSignatureInvalid);
    CHECK(status(sign(R"({"alg":"EdDSA","kid":"good"})", claims(), ed_a(), Alg::EdDSA), both) == AuthStatus::Ok);
  }
}

TEST_CASE("verify_token: a configured HMAC secret is the issuer's only key, whatever kid the token names") {
  const std::string secret(48, 'z');
  KeySet::Report report;
  const auto keys = KeySet::from_secret(secret, report);
  REQUIRE(keys);
  const Issuer issuer(keys, {Alg::HS256, Alg::HS384, Alg::HS512, Alg::RS256});
  CHECK(status(hmac(R"({"alg":"HS256"})", claims(), secret, Alg::HS256), issuer) == AuthStatus::Ok);
  CHECK(status(hmac(R"({"alg":"HS256","kid":"v1"})", claims(), secret, Alg::HS256), issuer) == AuthStatus::Ok);
  CHECK(status(hmac(R"({"alg":"HS384","kid":"v1"})", claims(), secret, Alg::HS384), issuer) == AuthStatus::Ok);
  // 48 bytes are too short for HS512 (RFC 7518 §3.2).
  CHECK(status(hmac(R"({"alg":"HS512","kid":"v1"})", claims(), std::string(64, 'z'), Alg::HS512), issuer) ==
        AuthStatus::JwksKidAlgMismatch);
  // Another secret, or an RSA signature, fails.
  CHECK(status(hmac(R"({"alg":"HS256","kid":"v1"})", claims(), std::string(48, 'y'), Alg::HS256), issuer) ==
        AuthStatus::JwtSignatureInvalid);
  CHECK(status(sign(R"({"alg":"RS256","kid":"v1"})", claims(), rsa_a(), Alg::RS256), issuer) ==
        AuthStatus::JwksKidAlgMismatch);
  CHECK(status(sign(R"({"alg":"RS256"})", claims(), rsa_a(), Alg::RS256), issuer) == AuthStatus::JwksNoMatchingKey);
  // The HMAC tag's length is exact.
  const std::string good = hmac(R"({"alg":"HS256","kid":"v1"})", claims(), secret, Alg::HS256);
  CHECK(status(replace_signature(good, raw_signature(good).substr(0, 16)), issuer) ==
        AuthStatus::JwtSignatureMalformed);
}
