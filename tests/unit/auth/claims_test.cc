#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "auth/claims.h"
#include "auth/json.h"

using namespace portcullis::auth;

namespace {

constexpr int64_t kNow = 1'700'000'000;

ClaimRules rules() {
  ClaimRules r;
  r.issuer = "https://auth.example.com";
  r.audiences = {"orders-api", "billing-api"};
  r.leeway_seconds = 30;
  return r;
}

// A valid payload with `extra` members spliced in (later names must not repeat earlier
// ones: the strict parser would refuse them, so rows replace claims via `base`).
std::string payload(const std::string& members) { return "{" + members + "}"; }

const std::string kIss = R"("iss":"https://auth.example.com")";
const std::string kAud = R"("aud":"orders-api")";
const std::string kExp = R"("exp":1700000600)";
const std::string kSub = R"("sub":"user-1")";

std::string valid_with(const std::string& extra) { return payload(kIss + "," + kAud + "," + kExp + "," + kSub + extra); }

AuthStatus check(const std::string& json, const ClaimRules& r = rules(), int64_t now = kNow, std::string_view typ = "",
                 Identity* out_identity = nullptr) {
  rapidjson::Document doc;
  REQUIRE(parse_json_object(json, doc) == AuthStatus::Ok);
  Identity id;
  const AuthStatus st = validate_claims(doc, typ, r, now, id);
  if (out_identity != nullptr) *out_identity = std::move(id);
  return st;
}

}  // namespace

TEST_CASE("a valid token yields its identity") {
  Identity id;
  REQUIRE(check(valid_with(R"(,"scope":"orders:read orders:write","tenant_id":"acme")"), rules(), kNow, "", &id) ==
          AuthStatus::Ok);
  CHECK(id.issuer == "https://auth.example.com");
  CHECK(id.subject == "user-1");
  CHECK(id.expires_at == 1700000600);
  CHECK(id.scopes == std::vector<std::string>{"orders:read", "orders:write"});
  REQUIRE(id.claims.IsObject());
  CHECK(std::string_view(id.claims["tenant_id"].GetString()) == "acme");
}

TEST_CASE("iss must be a string equal to the issuer's") {
  struct Row { const char* name; std::string json; AuthStatus expected; };
  const Row rows[] = {
      {"missing", payload(kAud + "," + kExp), AuthStatus::JwtIssMissing},
      {"number", payload(R"("iss":1,)" + kAud + "," + kExp), AuthStatus::JwtIssNotString},
      {"null", payload(R"("iss":null,)" + kAud + "," + kExp), AuthStatus::JwtIssNotString},
      {"array with the right value", payload(R"("iss":["https://auth.example.com"],)" + kAud + "," + kExp),
       AuthStatus::JwtIssNotString},
      {"other issuer", payload(R"("iss":"https://evil.example.com",)" + kAud + "," + kExp), AuthStatus::JwtIssUnknown},
      {"trailing slash", payload(R"("iss":"https://auth.example.com/",)" + kAud + "," + kExp), AuthStatus::JwtIssUnknown},
      {"case differs", payload(R"("iss":"https://AUTH.example.com",)" + kAud + "," + kExp), AuthStatus::JwtIssUnknown},
      {"prefix only", payload(R"("iss":"https://auth.example.co",)" + kAud + "," + kExp), AuthStatus::JwtIssUnknown},
      {"embedded NUL after the right value", payload(R"("iss":"https://auth.example.com\u0000x",)" + kAud + "," + kExp),
       AuthStatus::JwtClaimControlChar},
      {"CRLF", payload(R"("iss":"https://auth.example.com\r\nX-Admin: 1",)" + kAud + "," + kExp),
       AuthStatus::JwtClaimControlChar},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) { CHECK(check(row.json) == row.expected); }
  }
}

TEST_CASE("sub is optional but must be a clean string") {
  struct Row { const char* name; std::string sub; AuthStatus expected; };
  const Row rows[] = {
      {"absent", "", AuthStatus::Ok},
      {"string", R"(,"sub":"alice")", AuthStatus::Ok},
      {"empty string", R"(,"sub":"")", AuthStatus::Ok},
      {"unicode", R"(,"sub":"caf\u00e9")", AuthStatus::Ok},
      {"number", R"(,"sub":42)", AuthStatus::JwtSubInvalid},
      {"null", R"(,"sub":null)", AuthStatus::JwtSubInvalid},
      {"array", R"(,"sub":["alice"])", AuthStatus::JwtSubInvalid},
      {"object", R"(,"sub":{"id":"alice"})", AuthStatus::JwtSubInvalid},
      {"bool", R"(,"sub":true)", AuthStatus::JwtSubInvalid},
      {"LF", R"(,"sub":"alice\nX-Auth-Subject: admin")", AuthStatus::JwtClaimControlChar},
      {"CR", R"(,"sub":"alice\r")", AuthStatus::JwtClaimControlChar},
      {"NUL", R"(,"sub":"alice\u0000")", AuthStatus::JwtClaimControlChar},
      {"tab", R"(,"sub":"a\tb")", AuthStatus::JwtClaimControlChar},
      {"DEL", R"(,"sub":"a\u007f")", AuthStatus::JwtClaimControlChar},
      {"C1 NEL", R"(,"sub":"a\u0085")", AuthStatus::JwtClaimControlChar},
      {"C1 as raw UTF-8", ",\"sub\":\"a\xc2\x9f\"", AuthStatus::JwtClaimControlChar},
      {"Latin-1 letter is fine", ",\"sub\":\"\xc2\xa9\"", AuthStatus::Ok},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) { CHECK(check(payload(kIss + "," + kAud + "," + kExp + row.sub)) == row.expected); }
  }
}

TEST_CASE("aud is a string or an array of strings containing a configured audience") {
  struct Row { const char* name; std::string aud; AuthStatus expected; };
  const Row rows[] = {
      {"string match", R"("aud":"orders-api")", AuthStatus::Ok},
      {"second configured audience", R"("aud":"billing-api")", AuthStatus::Ok},
      {"array match", R"("aud":["other","orders-api"])", AuthStatus::Ok},
      {"missing", "", AuthStatus::JwtAudMissing},
      {"string mismatch", R"("aud":"orders")", AuthStatus::JwtAudMismatch},
      {"case differs", R"("aud":"Orders-API")", AuthStatus::JwtAudMismatch},
      {"array mismatch", R"("aud":["a","b"])", AuthStatus::JwtAudMismatch},
      {"empty array", R"("aud":[])", AuthStatus::JwtAudMismatch},
      {"empty string", R"("aud":"")", AuthStatus::JwtAudMismatch},
      {"number", R"("aud":1)", AuthStatus::JwtAudInvalid},
      {"null", R"("aud":null)", AuthStatus::JwtAudInvalid},
      {"object", R"("aud":{"orders-api":true})", AuthStatus::JwtAudInvalid},
      {"array with a number", R"("aud":["orders-api",1])", AuthStatus::JwtAudInvalid},
      {"array with null before the match", R"("aud":[null,"orders-api"])", AuthStatus::JwtAudInvalid},
      {"nested array", R"("aud":[["orders-api"]])", AuthStatus::JwtAudInvalid},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      const std::string members = kIss + "," + kExp + (row.aud.empty() ? "" : "," + row.aud);
      CHECK(check(payload(members)) == row.expected);
    }
  }
}

TEST_CASE("no configured audience fails closed") {
  ClaimRules r = rules();
  r.audiences.clear();
  CHECK(check(valid_with(""), r) == AuthStatus::JwtAudMismatch);
}

TEST_CASE("exp, nbf and iat are JSON numbers in [0, 2^53]") {
  struct Row { const char* name; std::string claim; std::string value; AuthStatus expected; };
  const Row rows[] = {
      {"exp string", "exp", R"("1700000600")", AuthStatus::JwtExpInvalid},
      {"exp null", "exp", "null", AuthStatus::JwtExpInvalid},
      {"exp bool", "exp", "true", AuthStatus::JwtExpInvalid},
      {"exp array", "exp", "[1700000600]", AuthStatus::JwtExpInvalid},
      {"exp negative", "exp", "-1", AuthStatus::JwtExpInvalid},
      {"exp negative fraction", "exp", "-0.5", AuthStatus::JwtExpInvalid},
      {"exp 2^53 + 1", "exp", "9007199254740993", AuthStatus::JwtExpInvalid},
      {"exp 2^63", "exp", "9223372036854775808", AuthStatus::JwtExpInvalid},
      {"exp 2^64 + 1 (a double)", "exp", "18446744073709551617", AuthStatus::JwtExpInvalid},
      {"exp 1e300", "exp", "1e300", AuthStatus::JwtExpInvalid},
      {"exp 2^53 exactly", "exp", "9007199254740992", AuthStatus::Ok},
      {"exp as a fraction", "exp", "1700000600.5", AuthStatus::Ok},
      {"exp in exponent form", "exp", "1.7000006e9", AuthStatus::Ok},
      {"nbf string", "nbf", R"("0")", AuthStatus::JwtNbfInvalid},
      {"nbf negative", "nbf", "-5", AuthStatus::JwtNbfInvalid},
      {"nbf huge", "nbf", "1e20", AuthStatus::JwtNbfInvalid},
      {"nbf 0", "nbf", "0", AuthStatus::Ok},
      {"iat string", "iat", R"("now")", AuthStatus::JwtIatInvalid},
      {"iat object", "iat", "{}", AuthStatus::JwtIatInvalid},
      {"iat negative", "iat", "-1700000000", AuthStatus::JwtIatInvalid},
      {"iat past", "iat", "1699999000", AuthStatus::Ok},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      std::string members = kIss + "," + kAud;
      if (row.claim != "exp") members += "," + kExp;
      members += ",\"" + row.claim + "\":" + row.value;
      CHECK(check(payload(members)) == row.expected);
    }
  }
}

TEST_CASE("time windows, with leeway, at a frozen now") {
  // exp = 1000, leeway 30: expired on or after 1030 (RFC 7519: "on or after").
  struct Row { const char* name; std::string dates; int64_t now; int64_t leeway; AuthStatus expected; };
  const Row rows[] = {
      {"before exp", R"("exp":1000)", 999, 0, AuthStatus::Ok},
      {"at exp, no leeway", R"("exp":1000)", 1000, 0, AuthStatus::JwtExpired},
      {"after exp, no leeway", R"("exp":1000)", 1001, 0, AuthStatus::JwtExpired},
      {"within leeway", R"("exp":1000)", 1029, 30, AuthStatus::Ok},
      {"at exp + leeway", R"("exp":1000)", 1030, 30, AuthStatus::JwtExpired},
      {"fractional exp, just before", R"("exp":1000.5)", 1000, 0, AuthStatus::Ok},
      {"fractional exp, just after", R"("exp":1000.5)", 1001, 0, AuthStatus::JwtExpired},
      {"exp 0", R"("exp":0)", 1000, 30, AuthStatus::JwtExpired},
      {"nbf in the future", R"("exp":5000,"nbf":2000)", 1000, 30, AuthStatus::JwtNotYetValid},
      {"nbf within leeway", R"("exp":5000,"nbf":1030)", 1000, 30, AuthStatus::Ok},
      {"nbf just beyond leeway", R"("exp":5000,"nbf":1031)", 1000, 30, AuthStatus::JwtNotYetValid},
      {"nbf fractional beyond leeway", R"("exp":5000,"nbf":1030.25)", 1000, 30, AuthStatus::JwtNotYetValid},
      {"nbf equal to now", R"("exp":5000,"nbf":1000)", 1000, 0, AuthStatus::Ok},
      {"iat in the future", R"("exp":5000,"iat":1100)", 1000, 30, AuthStatus::JwtIatInFuture},
      {"iat within leeway", R"("exp":5000,"iat":1030)", 1000, 30, AuthStatus::Ok},
      {"iat now", R"("exp":5000,"iat":1000)", 1000, 0, AuthStatus::Ok},
      {"negative leeway is treated as zero", R"("exp":1000)", 1000, -100, AuthStatus::JwtExpired},
      {"absurd leeway is clamped to a day", R"("exp":1000)", 1000 + 86400, INT64_MAX, AuthStatus::JwtExpired},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      ClaimRules r = rules();
      r.leeway_seconds = row.leeway;
      CHECK(check(payload(kIss + "," + kAud + "," + row.dates), r, row.now) == row.expected);
    }
  }
}

TEST_CASE("exp is required unless the issuer says otherwise") {
  const std::string no_exp = payload(kIss + "," + kAud);
  CHECK(check(no_exp) == AuthStatus::JwtExpMissing);
  ClaimRules r = rules();
  r.require_exp = false;
  Identity id;
  CHECK(check(no_exp, r, kNow, "", &id) == AuthStatus::Ok);
  CHECK(id.expires_at == 0);
  // An exp that is present is still checked.
  CHECK(check(payload(kIss + "," + kAud + R"(,"exp":"x")"), r) == AuthStatus::JwtExpInvalid);
  CHECK(check(payload(kIss + "," + kAud + R"(,"exp":1)"), r) == AuthStatus::JwtExpired);
}

TEST_CASE("expires_at is the ceiling of exp") {
  Identity id;
  REQUIRE(check(payload(kIss + "," + kAud + R"(,"exp":1700000600.2)"), rules(), kNow, "", &id) == AuthStatus::Ok);
  CHECK(id.expires_at == 1700000601);
}

TEST_CASE("scopes: space-separated string or array of strings, whole tokens") {
  struct Row { const char* name; std::string claim_name; std::string scope; AuthStatus expected; std::vector<std::string> scopes; };
  const Row rows[] = {
      {"absent", "scope", "", AuthStatus::Ok, {}},
      {"one", "scope", R"("read")", AuthStatus::Ok, {"read"}},
      {"two", "scope", R"("read write")", AuthStatus::Ok, {"read", "write"}},
      {"double and edge spaces dropped", "scope", R"("  read   write ")", AuthStatus::Ok, {"read", "write"}},
      {"empty string", "scope", R"("")", AuthStatus::Ok, {}},
      {"case kept", "scope", R"("READ read")", AuthStatus::Ok, {"READ", "read"}},
      {"array", "scope", R"(["read","write"])", AuthStatus::Ok, {"read", "write"}},
      {"scp array", "scp", R"(["orders:read"])", AuthStatus::Ok, {"orders:read"}},
      {"scp string", "scp", R"("a b")", AuthStatus::Ok, {"a", "b"}},
      {"array with empty element", "scope", R"(["read",""])", AuthStatus::Ok, {"read"}},
      {"number", "scope", "1", AuthStatus::JwtScopeInvalid, {}},
      {"null", "scope", "null", AuthStatus::JwtScopeInvalid, {}},
      {"object", "scope", R"({"read":true})", AuthStatus::JwtScopeInvalid, {}},
      {"array with a number", "scope", R"(["read",1])", AuthStatus::JwtScopeInvalid, {}},
      {"array with a nested array", "scope", R"([["read"]])", AuthStatus::JwtScopeInvalid, {}},
      {"array element with a space", "scope", R"(["read admin"])", AuthStatus::JwtScopeInvalid, {}},
      {"tab is not a separator", "scope", R"("read\tadmin")", AuthStatus::JwtClaimControlChar, {}},
      {"newline", "scope", R"("read\nadmin")", AuthStatus::JwtClaimControlChar, {}},
      {"CR in an array element", "scope", R"(["read\r"])", AuthStatus::JwtClaimControlChar, {}},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      ClaimRules r = rules();
      r.scope_claim = row.claim_name;
      const std::string extra = row.scope.empty() ? "" : ",\"" + row.claim_name + "\":" + row.scope;
      Identity id;
      REQUIRE(check(valid_with(extra), r, kNow, "", &id) == row.expected);
      if (row.expected == AuthStatus::Ok) CHECK(id.scopes == row.scopes);
    }
  }
}

TEST_CASE("the configured scope claim is the only one read") {
  ClaimRules r = rules();
  r.scope_claim = "scp";
  Identity id;
  REQUIRE(check(valid_with(R"(,"scope":"admin")"), r, kNow, "", &id) == AuthStatus::Ok);
  CHECK(id.scopes.empty());
  // The claim name is compared by its full length.
  r.scope_claim = std::string("scope\0x", 7);
  REQUIRE(check(valid_with(R"(,"scope":"admin")"), r, kNow, "", &id) == AuthStatus::Ok);
  CHECK(id.scopes.empty());
  // ...and a wrong type in a claim nobody asked about is not our business.
  r.scope_claim = "scope";
  CHECK(check(valid_with(R"(,"scp":42)"), r) == AuthStatus::Ok);
}

TEST_CASE("typ, when required, matches case-insensitively with or without application/") {
  struct Row { const char* name; std::string required; std::string typ; AuthStatus expected; };
  const Row rows[] = {
      {"not required, absent", "", "", AuthStatus::Ok},
      {"not required, anything", "", "whatever", AuthStatus::Ok},
      {"exact", "at+jwt", "at+jwt", AuthStatus::Ok},
      {"case", "at+jwt", "AT+JWT", AuthStatus::Ok},
      {"application/ prefix", "at+jwt", "application/at+jwt", AuthStatus::Ok},
      {"Application/ prefix, mixed case", "at+jwt", "Application/AT+jwt", AuthStatus::Ok},
      {"prefix in the rule", "application/at+jwt", "at+jwt", AuthStatus::Ok},
      {"absent", "at+jwt", "", AuthStatus::JwtTypMismatch},
      {"plain JWT", "at+jwt", "JWT", AuthStatus::JwtTypMismatch},
      {"other media type", "at+jwt", "text/at+jwt", AuthStatus::JwtTypMismatch},
      {"prefix only", "at+jwt", "application/", AuthStatus::JwtTypMismatch},
      {"suffix junk", "at+jwt", "at+jwt ", AuthStatus::JwtTypMismatch},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      ClaimRules r = rules();
      r.require_typ = row.required;
      CHECK(check(valid_with(""), r, kNow, row.typ) == row.expected);
    }
  }
}

TEST_CASE("validate_claims rejects a non-object payload") {
  rapidjson::Document doc;
  doc.SetArray();
  Identity id;
  CHECK(validate_claims(doc, "", rules(), kNow, id) == AuthStatus::JwtNotObject);
}

TEST_CASE("owned claims move into the identity with their pool") {
  const std::string json = valid_with(R"(,"email":"a@example.com")");
  OwnedClaims claims(json.size());
  REQUIRE(parse_json_object(json, claims.doc) == AuthStatus::Ok);
  const rapidjson::MemoryPoolAllocator<>* pool = claims.pool.get();
  const char* email = claims.doc["email"].GetString();
  Identity id;
  REQUIRE(validate_claims(std::move(claims), "", rules(), kNow, id) == AuthStatus::Ok);
  REQUIRE(id.claims.IsObject());
  CHECK(id.claims_pool.get() == pool);
  CHECK(&id.claims.GetAllocator() == pool);
  CHECK(id.claims["email"].GetString() == email);  // moved, not copied
  CHECK(std::string_view(id.claims["email"].GetString()) == "a@example.com");
  CHECK(id.subject == "user-1");
}

TEST_CASE("owned claims that fail validation leave the identity alone") {
  const std::string json = payload(kIss + "," + kExp + "," + kSub + R"(,"aud":"someone-else")");
  Identity id;
  OwnedClaims claims(json.size());
  REQUIRE(parse_json_object(json, claims.doc) == AuthStatus::Ok);
  CHECK(validate_claims(std::move(claims), "", rules(), kNow, id) == AuthStatus::JwtAudMismatch);
  CHECK_FALSE(id.claims_pool);
}

TEST_CASE("peek_issuer reads iss without validating") {
  struct Row { const char* name; std::string json; std::optional<std::string_view> expected; };
  const Row rows[] = {
      {"string", R"({"iss":"https://a"})", std::string_view("https://a")},
      {"missing", R"({"sub":"x"})", std::nullopt},
      {"number", R"({"iss":1})", std::nullopt},
      {"array", R"({"iss":["https://a"]})", std::nullopt},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      rapidjson::Document doc;
      REQUIRE(parse_json_object(row.json, doc) == AuthStatus::Ok);
      CHECK(peek_issuer(doc) == row.expected);
    }
  }
  rapidjson::Document arr;
  arr.SetArray();
  CHECK_FALSE(peek_issuer(arr).has_value());
}

TEST_CASE("has_control_char") {
  CHECK_FALSE(has_control_char(""));
  CHECK_FALSE(has_control_char("plain ascii ~!"));
  CHECK_FALSE(has_control_char("\xe2\x80\x99"));  // U+2019
  CHECK(has_control_char(std::string_view("\0", 1)));
  CHECK(has_control_char("\x1f"));
  CHECK(has_control_char("\x7f"));
  CHECK(has_control_char("\xc2\x80"));
  CHECK_FALSE(has_control_char("\xc2"));  // truncated: not a C1 control (JSON parsing rejects it anyway)
}
