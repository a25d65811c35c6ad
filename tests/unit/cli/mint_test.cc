#include "cli/mint.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "auth/crypto/signer.h"
#include "auth/crypto/verification_key.h"
#include "auth/crypto/verify.h"
#include "auth/jwks.h"
#include "cli/cli_test_util.h"

namespace portcullis::cli {
namespace {

using namespace testing;
using auth::Alg;
using auth::AuthStatus;
using auth::crypto::SigningKey;

constexpr int64_t kNow = 1'700'000'000;
const std::string kSecret(64, 'q');

const SigningKey& key_for(Alg alg) {
  static std::map<Alg, SigningKey> cache;
  auto it = cache.find(alg);
  if (it == cache.end()) {
    Result<SigningKey> k = SigningKey::generate(alg);
    REQUIRE(k.ok());
    it = cache.emplace(alg, std::move(k.value())).first;
  }
  return it->second;
}

MintRequest request(Alg alg, std::string_view claims = R"({"sub":"alice"})") {
  MintRequest r;
  r.alg = alg;
  if (auth::is_hmac(alg)) {
    r.secret = kSecret;
  } else {
    r.key = &key_for(alg);
  }
  r.claims_json = claims;
  r.now = kNow;
  r.ttl_seconds = 900;
  return r;
}

constexpr Alg kAllAlgs[] = {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512, Alg::ES256,
                            Alg::ES384, Alg::ES512, Alg::EdDSA, Alg::HS256, Alg::HS384, Alg::HS512};

TEST_CASE("generate -> JWK -> parse_jwks -> build_verification_key verifies a minted token, for every algorithm") {
  for (Alg alg : kAllAlgs) {
    SUBCASE(std::string(auth::to_string(alg)).c_str()) {
      auth::crypto::KeyPtr vk;
      std::optional<std::string> kid;
      if (auth::is_hmac(alg)) {
        Result<auth::crypto::KeyPtr> k = auth::crypto::build_hmac_key(kSecret, std::nullopt);
        REQUIRE(k.ok());
        vk = *k;
      } else {
        const SigningKey& key = key_for(alg);
        Result<auth::JwkParams> pub = key.public_params();
        REQUIRE(pub.ok());
        pub->alg = alg;
        pub->kid = *key.thumbprint();
        kid = pub->kid;
        const std::string jwks = "{\"keys\":[" + *auth::crypto::public_jwk_json(*pub) + "]}";
        const auth::JwksParseResult parsed = auth::parse_jwks(jwks, 64 * 1024);
        REQUIRE(parsed.error.empty());
        REQUIRE(parsed.skipped.empty());
        REQUIRE(parsed.keys.size() == 1);
        CHECK(parsed.keys[0].kid == kid);
        CHECK(parsed.keys[0].alg == std::optional<Alg>(alg));
        CHECK(*auth::crypto::jwk_thumbprint(parsed.keys[0]) == *kid);
        Result<auth::crypto::KeyPtr> k = auth::crypto::build_verification_key(parsed.keys[0]);
        REQUIRE_MESSAGE(k.ok(), (k.ok() ? "" : k.error().message));
        vk = *k;
      }
      MintRequest req = request(alg);
      req.kid = kid;
      Result<std::string> token = mint_token(req);
      REQUIRE(token.ok());
      const DecodedToken d = decode(*token);
      CHECK(str(d.header, "alg") == auth::to_string(alg));
      CHECK(auth::crypto::verify_signature(alg, *vk, d.signing_input, d.signature) == AuthStatus::Ok);
      CHECK(auth::crypto::verify_signature(alg, *vk, d.signing_input + "x", d.signature) ==
            AuthStatus::JwtSignatureInvalid);
    }
  }
}

TEST_CASE("the header is alg, typ, kid; --header members replace, append or remove") {
  struct Row {
    const char* name;
    std::string_view header_json;
    bool with_kid;
    std::vector<std::string> names;
    std::string typ;  // "" when absent
  };
  const Row rows[] = {
      {"default", "", true, {"alg", "typ", "kid"}, "JWT"},
      {"no kid", "", false, {"alg", "typ"}, "JWT"},
      {"typ replaced in place", R"({"typ":"at+jwt"})", true, {"alg", "typ", "kid"}, "at+jwt"},
      {"new member appended", R"({"x5u":"https://x"})", true, {"alg", "typ", "kid", "x5u"}, "JWT"},
      {"null removes", R"({"typ":null,"kid":null})", true, {"alg"}, ""},
      {"null for an absent member", R"({"cty":null})", true, {"alg", "typ", "kid"}, "JWT"},
      {"empty object", "{}", true, {"alg", "typ", "kid"}, "JWT"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      MintRequest req = request(Alg::ES256);
      if (r.with_kid) req.kid = "k1";
      req.header_json = r.header_json;
      Result<std::string> token = mint_token(req);
      REQUIRE(token.ok());
      const DecodedToken d = decode(*token);
      CHECK(names(d.header) == r.names);
      if (r.typ.empty()) {
        CHECK_FALSE(d.header.HasMember("typ"));
      } else {
        CHECK(str(d.header, "typ") == r.typ);
      }
      if (d.header.HasMember("kid")) CHECK(str(d.header, "kid") == "k1");
    }
  }
}

TEST_CASE("a header alg is only a label: the signature uses the requested alg") {
  for (std::string_view label : {R"({"alg":"none"})", R"({"alg":"HS256"})", R"({"alg":42})"}) {
    SUBCASE(std::string(label).c_str()) {
      MintRequest req = request(Alg::ES256);
      req.header_json = label;
      Result<std::string> token = mint_token(req);
      REQUIRE(token.ok());
      const DecodedToken d = decode(*token);
      CHECK(d.signature.size() == 64);
      Result<auth::crypto::KeyPtr> vk = auth::crypto::build_verification_key(*key_for(Alg::ES256).public_params());
      REQUIRE(vk.ok());
      CHECK(auth::crypto::verify_signature(Alg::ES256, **vk, d.signing_input, d.signature) == AuthStatus::Ok);
    }
  }
}

TEST_CASE("iat and exp are added unless the claims have them") {
  struct Row {
    const char* name;
    std::string_view claims;
    int64_t ttl;
    std::optional<int64_t> iat, exp;
  };
  const Row rows[] = {
      {"both added", R"({"sub":"a"})", 900, kNow, kNow + 900},
      {"ttl 0: no exp", R"({"sub":"a"})", 0, kNow, std::nullopt},
      {"iat kept", R"({"iat":5})", 60, 5, kNow + 60},
      {"exp kept", R"({"exp":7})", 60, kNow, 7},
      {"empty claims", "{}", 30, kNow, kNow + 30},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      MintRequest req = request(Alg::HS256, r.claims);
      req.ttl_seconds = r.ttl;
      Result<std::string> token = mint_token(req);
      REQUIRE(token.ok());
      const DecodedToken d = decode(*token);
      REQUIRE(d.payload.HasMember("iat"));
      CHECK(d.payload["iat"].GetInt64() == *r.iat);
      if (r.exp) {
        REQUIRE(d.payload.HasMember("exp"));
        CHECK(d.payload["exp"].GetInt64() == *r.exp);
      } else {
        CHECK_FALSE(d.payload.HasMember("exp"));
      }
    }
  }
  SUBCASE("other claims pass through unchanged") {
    Result<std::string> token =
        mint_token(request(Alg::HS256, R"({"iss":"https://issuer.test","aud":["a","b"],"n":{"k":[1,true,null]}})"));
    REQUIRE(token.ok());
    const DecodedToken d = decode(*token);
    CHECK(str(d.payload, "iss") == "https://issuer.test");
    CHECK(d.payload["aud"].Size() == 2);
    CHECK(d.payload["n"]["k"][1].GetBool());
  }
}

TEST_CASE("mint_token rejects bad claims, bad headers and missing or unfit keys") {
  struct Row {
    const char* name;
    Alg alg;
    std::string_view claims;
    std::string_view header;
    bool drop_key;
    const char* message;
  };
  const Row rows[] = {
      {"claims array", Alg::ES256, "[1]", "", false, "--claims must be a JSON object, e.g. '{\"sub\":\"alice\"}'"},
      {"claims string", Alg::ES256, "\"alice\"", "", false, "--claims must be a JSON object, e.g. '{\"sub\":\"alice\"}'"},
      {"claims syntax", Alg::ES256, "{sub:alice}", "", false, "--claims is not valid JSON"},
      {"claims empty", Alg::ES256, "", "", false, "--claims is not valid JSON"},
      {"claims trailing garbage", Alg::ES256, "{} x", "", false, "--claims is not valid JSON"},
      {"claims duplicate", Alg::ES256, R"({"sub":"a","sub":"b"})", "", false, "--claims has the same member twice"},
      {"header array", Alg::ES256, "{}", "[]", false, "--header must be a JSON object, e.g. '{\"sub\":\"alice\"}'"},
      {"header syntax", Alg::ES256, "{}", "{", false, "--header is not valid JSON"},
      {"no key", Alg::ES256, "{}", "", true, "ES256 needs a private key (--key)"},
      {"no secret", Alg::HS256, "{}", "", true, "HS256 needs a secret (--secret-file)"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      MintRequest req = request(r.alg, r.claims);
      req.header_json = r.header;
      if (r.drop_key) {
        req.key = nullptr;
        req.secret = {};
      }
      Result<std::string> token = mint_token(req);
      REQUIRE_FALSE(token.ok());
      CHECK(token.error().message == r.message);
    }
  }
  SUBCASE("deep claims") {
    std::string deep(40, '[');
    deep = "{\"a\":" + deep + std::string(40, ']') + "}";
    Result<std::string> token = mint_token(request(Alg::ES256, deep));
    REQUIRE_FALSE(token.ok());
    CHECK(token.error().message == "--claims is nested too deeply");
  }
  SUBCASE("key unfit for the alg") {
    MintRequest req = request(Alg::ES256);
    req.alg = Alg::RS256;
    Result<std::string> token = mint_token(req);
    REQUIRE_FALSE(token.ok());
    CHECK(token.error().message == "RS256 cannot be used with this key");
  }
  SUBCASE("short secret") {
    MintRequest req = request(Alg::HS512);
    const std::string short_secret(32, 's');
    req.secret = short_secret;
    Result<std::string> token = mint_token(req);
    REQUIRE_FALSE(token.ok());
    CHECK(token.error().message == "HS512 needs a secret of at least 64 bytes");
  }
}

TEST_CASE("parse_ttl") {
  struct Row {
    std::string_view text;
    std::optional<int64_t> seconds;
    const char* error;
  };
  const Row rows[] = {
      {"0", 0, ""},
      {"30s", 30, ""},
      {"15m", 900, ""},
      {"1h", 3600, ""},
      {"2h30m", 9000, ""},
      {"1500ms", std::nullopt, "--ttl must be whole seconds (JWT times are in seconds)"},
      {"15", std::nullopt, "--ttl needs a unit, e.g. 15s"},
      {"", std::nullopt, "--ttl is not a duration (e.g. 30s, 15m, 1h, 2h30m): "},
      {"-5m", std::nullopt, "--ttl is not a duration (e.g. 30s, 15m, 1h, 2h30m): -5m"},
      {"1.5h", std::nullopt, "--ttl is not a duration (e.g. 30s, 15m, 1h, 2h30m): 1.5h"},
      {"forever", std::nullopt, "--ttl is not a duration (e.g. 30s, 15m, 1h, 2h30m): forever"},
  };
  for (const Row& r : rows) {
    SUBCASE(std::string(r.text.empty() ? "(empty)" : r.text).c_str()) {
      Result<int64_t> ttl = parse_ttl(r.text);
      if (r.seconds) {
        REQUIRE(ttl.ok());
        CHECK(*ttl == *r.seconds);
      } else {
        REQUIRE_FALSE(ttl.ok());
        CHECK(ttl.error().message == r.error);
      }
    }
  }
}

}  // namespace
}  // namespace portcullis::cli
