#include <doctest/doctest.h>

#include <string>

#include "auth/base64url.h"
#include "auth/jws.h"
#include "auth/jwks.h"
#include "auth_test_util.h"

using namespace portcullis::auth;
using portcullis::auth::testing::make_jws;

namespace {

// RFC 7515 Appendix A: the four compact examples, verbatim.
constexpr std::string_view kA1 =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kA2 =
    "eyJhbGciOiJSUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t"
    "1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jz"
    "DwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe"
    "77Rw";
constexpr std::string_view kA3 =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
constexpr std::string_view kA4 =
    "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."
    "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPE"
    "X3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

constexpr std::string_view kA123Payload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

AuthStatus parse(const std::string& token) {
  ParsedJws out;
  std::string scratch;
  return parse_jws(token, out, scratch);
}

}  // namespace

TEST_CASE("RFC 7515 A.1-A.3: JWT examples parse with their header fields and segments") {
  struct Row { const char* name; std::string_view token; Alg alg; std::string_view typ; size_t sig_len; };
  const Row rows[] = {
      {"A.1 HS256", kA1, Alg::HS256, "JWT", 32},
      {"A.2 RS256", kA2, Alg::RS256, "", 256},
      {"A.3 ES256", kA3, Alg::ES256, "", 64},  // raw R||S, 2 x 32
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      ParsedJws out;
      std::string scratch;
      REQUIRE(parse_jws(row.token, out, scratch) == AuthStatus::Ok);
      CHECK(out.alg == row.alg);
      CHECK_FALSE(out.kid.has_value());
      CHECK(out.typ == row.typ);
      CHECK(out.signature.size() == row.sig_len);
      CHECK(out.signing_input == row.token.substr(0, row.token.rfind('.')));
      CHECK(out.signing_input.data() == row.token.data());  // a view, not a copy
      REQUIRE(out.payload.IsObject());
      CHECK(std::string_view(out.payload["iss"].GetString()) == "joe");
      CHECK(out.payload["exp"].GetInt64() == 1300819380);
      CHECK(out.payload["http://example.com/is_root"].GetBool());

      std::string payload;
      JwsSegments seg;
      REQUIRE(split_compact(row.token, seg) == AuthStatus::Ok);
      REQUIRE(base64url_decode(seg.payload, payload));
      CHECK(payload == kA123Payload);
    }
  }
}

TEST_CASE("RFC 7515 A.4: a non-JSON payload parses only in raw mode") {
  ParsedJws out;
  std::string bytes;
  REQUIRE(parse_jws_raw_payload(kA4, out, bytes) == AuthStatus::Ok);
  CHECK(out.alg == Alg::ES512);
  CHECK(bytes == "Payload");
  CHECK(out.signature.size() == 132);  // raw R||S, 2 x 66
  CHECK(out.signing_input == "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA");
  std::string scratch;
  CHECK(parse_jws(kA4, out, scratch) == AuthStatus::JwtBadJson);
}

TEST_CASE("split_compact demands exactly three segments") {
  struct Row { const char* name; std::string token; AuthStatus expected; };
  const Row rows[] = {
      {"empty", "", AuthStatus::JwtBadSegmentCount},
      {"one segment", "abc", AuthStatus::JwtBadSegmentCount},
      {"two segments", "a.b", AuthStatus::JwtBadSegmentCount},
      {"three", "a.b.c", AuthStatus::Ok},
      {"three, all empty", "..", AuthStatus::Ok},
      {"four", "a.b.c.d", AuthStatus::JwtBadSegmentCount},
      {"four with empty last", "a.b.c.", AuthStatus::JwtBadSegmentCount},
      {"five: JWE", "a.b.c.d.e", AuthStatus::JweUnsupported},
      {"six", "a.b.c.d.e.f", AuthStatus::JwtBadSegmentCount},
      {"many dots", std::string(100, '.'), AuthStatus::JwtBadSegmentCount},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      JwsSegments seg;
      CHECK(split_compact(row.token, seg) == row.expected);
    }
  }
  JwsSegments seg;
  REQUIRE(split_compact("hh.pp.ss", seg) == AuthStatus::Ok);
  CHECK(seg.header == "hh");
  CHECK(seg.payload == "pp");
  CHECK(seg.signature == "ss");
  CHECK(seg.signing_input == "hh.pp");
}

TEST_CASE("parse_jws rejects structural damage") {
  const std::string good = make_jws(R"({"alg":"RS256"})", R"({"iss":"x"})");
  const auto dot1 = good.find('.');
  const auto dot2 = good.rfind('.');
  const std::string h = good.substr(0, dot1), p = good.substr(dot1 + 1, dot2 - dot1 - 1), s = good.substr(dot2 + 1);
  struct Row { const char* name; std::string token; AuthStatus expected; };
  const Row rows[] = {
      {"good", good, AuthStatus::Ok},
      {"missing signature", h + "." + p + ".", AuthStatus::JwtSignatureMalformed},
      {"missing signature and dot", h + "." + p, AuthStatus::JwtBadSegmentCount},
      {"missing payload", h + ".." + s, AuthStatus::JwtBadJson},
      {"missing header", "." + p + "." + s, AuthStatus::JwtBadJson},
      {"JWE shape", h + "." + p + "." + s + ".x.y", AuthStatus::JweUnsupported},
      {"padding in header", h + "==." + p + "." + s, AuthStatus::JwtBadBase64},
      {"padding in signature", h + "." + p + "." + s + "=", AuthStatus::JwtBadBase64},
      {"standard alphabet in signature", h + "." + p + "." + "ab+/", AuthStatus::JwtBadBase64},
      {"space in payload", h + "." + p.substr(0, 4) + " " + p.substr(4) + "." + s, AuthStatus::JwtBadBase64},
      // "e30" is "{}"; "e31" decodes to the same bytes with a stray low bit set.
      {"non-canonical trailing bits in payload", h + ".e31." + s, AuthStatus::JwtBadBase64},
      {"header not JSON", base64url_encode("alg=RS256") + "." + p + "." + s, AuthStatus::JwtBadJson},
      {"header is an array", base64url_encode(R"(["RS256"])") + "." + p + "." + s, AuthStatus::JwtNotObject},
      {"payload is an array", h + "." + base64url_encode("[1]") + "." + s, AuthStatus::JwtNotObject},
      {"payload has duplicate iss", h + "." + base64url_encode(R"({"iss":"a","iss":"b"})") + "." + s,
       AuthStatus::JwtDuplicateMember},
      {"payload nested too deep", h + "." + base64url_encode("{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}") +
                                      "." + s,
       AuthStatus::JwtJsonTooDeep},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) { CHECK(parse(row.token) == row.expected); }
  }
}

TEST_CASE("parse_jws enforces the header rules") {
  struct Row { const char* name; std::string header; AuthStatus expected; };
  const Row rows[] = {
      {"minimal", R"({"alg":"ES256"})", AuthStatus::Ok},
      {"alg missing", R"({"typ":"JWT"})", AuthStatus::JwtAlgMissing},
      {"alg none", R"({"alg":"none"})", AuthStatus::JwtAlgNone},
      {"alg None", R"({"alg":"None"})", AuthStatus::JwtAlgNone},
      {"alg NONE", R"({"alg":"NONE"})", AuthStatus::JwtAlgNone},
      {"alg nOnE", R"({"alg":"nOnE"})", AuthStatus::JwtAlgNone},
      {"alg none escaped", R"({"alg":"\u006eone"})", AuthStatus::JwtAlgNone},
      {"alg empty", R"({"alg":""})", AuthStatus::JwtAlgUnknown},
      {"alg 'none ' (trailing space)", R"({"alg":"none "})", AuthStatus::JwtAlgUnknown},
      {"alg lowercase rs256", R"({"alg":"rs256"})", AuthStatus::JwtAlgUnknown},
      {"alg HS1", R"({"alg":"HS1"})", AuthStatus::JwtAlgUnknown},
      {"alg ES256K", R"({"alg":"ES256K"})", AuthStatus::JwtAlgUnknown},
      {"alg number", R"({"alg":256})", AuthStatus::JwtAlgUnknown},
      {"alg null", R"({"alg":null})", AuthStatus::JwtAlgUnknown},
      {"alg array", R"({"alg":["RS256"]})", AuthStatus::JwtAlgUnknown},
      {"alg duplicated", R"({"alg":"RS256","alg":"none"})", AuthStatus::JwtDuplicateMember},
      {"kid number", R"({"alg":"RS256","kid":1})", AuthStatus::JwtKidInvalid},
      {"kid null", R"({"alg":"RS256","kid":null})", AuthStatus::JwtKidInvalid},
      {"kid object", R"({"alg":"RS256","kid":{"a":1}})", AuthStatus::JwtKidInvalid},
      {"kid 256 bytes", R"({"alg":"RS256","kid":")" + std::string(256, 'k') + "\"}", AuthStatus::Ok},
      {"kid 257 bytes", R"({"alg":"RS256","kid":")" + std::string(257, 'k') + "\"}", AuthStatus::JwtKidInvalid},
      {"kid path-looking is just a string", R"({"alg":"RS256","kid":"../../etc/passwd"})", AuthStatus::Ok},
      {"kid SQL-looking is just a string", R"({"alg":"RS256","kid":"' OR 1=1 --"})", AuthStatus::Ok},
      {"typ number", R"({"alg":"RS256","typ":1})", AuthStatus::JwtHeaderInvalid},
      {"typ string", R"({"alg":"RS256","typ":"at+jwt"})", AuthStatus::Ok},
      {"crit empty array", R"({"alg":"RS256","crit":[]})", AuthStatus::JwtCritUnsupported},
      {"crit unknown extension", R"({"alg":"RS256","crit":["exp"],"exp":1})", AuthStatus::JwtCritUnsupported},
      {"crit not an array", R"({"alg":"RS256","crit":"x"})", AuthStatus::JwtCritUnsupported},
      {"crit with a number", R"({"alg":"RS256","crit":[1]})", AuthStatus::JwtCritUnsupported},
      {"b64 false", R"({"alg":"RS256","b64":false})", AuthStatus::JwtB64Unsupported},
      {"b64 true", R"({"alg":"RS256","b64":true})", AuthStatus::JwtB64Unsupported},
      {"b64 false with crit", R"({"alg":"RS256","b64":false,"crit":["b64"]})", AuthStatus::JwtB64Unsupported},
      {"jku ignored", R"({"alg":"RS256","jku":"https://evil.example/jwks"})", AuthStatus::Ok},
      {"x5u ignored", R"({"alg":"RS256","x5u":"https://evil.example/cert"})", AuthStatus::Ok},
      {"x5c ignored", R"({"alg":"RS256","x5c":["MIIB"]})", AuthStatus::Ok},
      {"jwk ignored", R"({"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}})", AuthStatus::Ok},
      {"header duplicate nested in jwk", R"({"alg":"ES256","jwk":{"kty":"EC","kty":"RSA"}})",
       AuthStatus::JwtDuplicateMember},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) { CHECK(parse(make_jws(row.header, R"({"iss":"x"})")) == row.expected); }
  }
}

TEST_CASE("every implemented alg parses; kid and typ are views into the header") {
  for (const char* name : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
                           "HS256", "HS384", "HS512"}) {
    CAPTURE(name);
    ParsedJws out;
    std::string scratch;
    const std::string token =
        make_jws(std::string(R"({"alg":")") + name + R"(","kid":"key-1","typ":"at+jwt"})", R"({"sub":"a"})");
    REQUIRE(parse_jws(token, out, scratch) == AuthStatus::Ok);
    CHECK(to_string(out.alg) == name);
    REQUIRE(out.kid.has_value());
    CHECK(*out.kid == "key-1");
    CHECK(out.typ == "at+jwt");
  }
}

TEST_CASE("a reused ParsedJws and scratch carry nothing over") {
  ParsedJws out;
  std::string scratch;
  REQUIRE(parse_jws(make_jws(R"({"alg":"RS256","kid":"first","typ":"JWT"})", R"({"a":1})", "sig-one"), out, scratch) ==
          AuthStatus::Ok);
  REQUIRE(parse_jws(make_jws(R"({"alg":"ES256"})", R"({"b":2})", "s2"), out, scratch) == AuthStatus::Ok);
  CHECK(out.alg == Alg::ES256);
  CHECK_FALSE(out.kid.has_value());
  CHECK(out.typ.empty());
  CHECK(out.signature == "s2");
  CHECK_FALSE(out.payload.HasMember("a"));
  CHECK(out.payload["b"].GetInt() == 2);
  // A failure after a success leaves no stale kid behind.
  CHECK(parse_jws(make_jws(R"({"alg":"none","kid":"x"})", "{}"), out, scratch) == AuthStatus::JwtAlgNone);
  CHECK_FALSE(out.kid.has_value());
}

TEST_CASE("a reused ParsedJws keeps parsing into its own buffers") {
  // Resetting must not swap in a Document with rapidjson's default 64 KiB pool.
  ParsedJws out;
  std::string scratch;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(parse_jws(make_jws(R"({"alg":"RS256","kid":"k"})", R"({"sub":"x"})", "sig"), out, scratch) ==
            AuthStatus::Ok);
    CHECK(&out.header.GetAllocator() == &out.header_pool);
    CHECK(&out.payload.GetAllocator() == &out.payload_pool);
    const char* kid = out.kid->data();
    CHECK((kid >= out.header_buffer && kid < out.header_buffer + sizeof out.header_buffer));
  }
}

TEST_CASE("a token carrying its own jwk gets no key from it") {
  // Wycheproof json_web_signature tcId 32: an ES256 token whose header embeds the
  // attacker's public key, with the issuer's kid.
  const std::string header =
      R"({"alg":"ES256","kid":"kid-ec-sign","jwk":{"kty":"EC","kid":"kid-ec-sign","use":"sig","alg":"ES256",)"
      R"("x":"MdnTZDIhDJbfASdFqamcpO2Ch9GNKK2m0MQlh402Spo","y":"7avJ4lq_Wyx-nLPDBQ2YpytuHyMio07BUyvl3jaC-1Y","crv":"P-256"}})";
  const std::string token = make_jws(header, R"({"iss":"x"})", std::string(64, '\x01'));
  ParsedJws out;
  std::string scratch;
  REQUIRE(parse_jws(token, out, scratch) == AuthStatus::Ok);
  // ParsedJws exposes alg and kid only: key selection can only look in the issuer's JWKS.
  CHECK(*out.kid == "kid-ec-sign");

  // The issuer's JWKS holds a different key under that kid; the embedded jwk is not in it.
  const auto issuer = parse_jwks(
      R"({"keys":[{"kty":"EC","kid":"kid-ec-sign","use":"sig","alg":"ES256","crv":"P-256",)"
      R"("x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}]})",
      1 << 20);
  REQUIRE(issuer.keys.size() == 1);
  std::string embedded_x;
  REQUIRE(base64url_decode("MdnTZDIhDJbfASdFqamcpO2Ch9GNKK2m0MQlh402Spo", embedded_x));
  CHECK(issuer.keys[0].x != embedded_x);
  // Against an empty issuer key set nothing fits, whatever the header offers.
  const auto empty = parse_jwks(R"({"keys":[]})", 1 << 20);
  CHECK(empty.keys.empty());
  // (That the signature then fails against the issuer's key is the crypto layer's test.)
}
