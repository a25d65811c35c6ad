#include <doctest/doctest.h>

#include <string>

#include "auth/introspection.h"

using namespace portcullis::auth;

namespace {

constexpr int64_t kNow = 1'700'000'000;

ClaimRules rules() {
  ClaimRules r;
  r.issuer = "https://auth.example.com";
  r.audiences = {"orders-api"};
  r.leeway_seconds = 30;
  return r;
}

IntrospectionAnswer parse(const std::string& body) { return parse_introspection_response(body, rules(), kNow); }

}  // namespace

TEST_CASE("looks_like_jwt: exactly two dots") {
  CHECK(looks_like_jwt("a.b.c"));
  CHECK(looks_like_jwt(".."));
  CHECK_FALSE(looks_like_jwt("2YotnFZFEjr1zCsicMWpAA"));
  CHECK_FALSE(looks_like_jwt("a.b"));
  CHECK_FALSE(looks_like_jwt("a.b.c.d.e"));  // JWE: only the issuer can read it
  CHECK_FALSE(looks_like_jwt(""));
  CHECK_FALSE(looks_like_jwt("."));
  CHECK_FALSE(looks_like_jwt("..."));
  CHECK_FALSE(looks_like_jwt("a.b.c."));
  CHECK(looks_like_jwt("a.."));
}

TEST_CASE("form_urlencode follows the form rules") {
  std::string out;
  form_urlencode("a-b_c.d*e f+g/h=i&j%k~", out);
  CHECK(out == "a-b_c.d*e+f%2Bg%2Fh%3Di%26j%25k%7E");
  out.clear();
  form_urlencode("\xC3\xA9\n", out);
  CHECK(out == "%C3%A9%0A");
}

TEST_CASE("request body: token, hint, and client_secret_post credentials") {
  CHECK(introspection_request_body("t.o+k", {}, {}) == "token=t.o%2Bk&token_type_hint=access_token");
  CHECK(introspection_request_body("tok", "my app", "p&ss") ==
        "token=tok&token_type_hint=access_token&client_id=my+app&client_secret=p%26ss");
}

TEST_CASE("an active answer gives an identity with the answer as claims") {
  IntrospectionAnswer a = parse(R"({"active":true,"sub":"alice","scope":"orders:read  profile",)"
                                R"("client_id":"app","exp":1700000600,"aud":["x","orders-api"],)"
                                R"("iss":"https://auth.example.com","token_type":"Bearer"})");
  REQUIRE(a.status == AuthStatus::Ok);
  REQUIRE(a.identity);
  CHECK(a.identity->subject == "alice");
  CHECK(a.identity->issuer == "https://auth.example.com");
  CHECK(a.identity->scopes == std::vector<std::string>{"orders:read", "profile"});
  CHECK(a.expires_at == 1700000600);
  CHECK(a.identity->claims["client_id"].GetString() == std::string("app"));
}

TEST_CASE("iss, aud, exp are optional in an answer (RFC 7662 §2.2)") {
  IntrospectionAnswer a = parse(R"({"active":true})");
  REQUIRE(a.status == AuthStatus::Ok);
  CHECK(a.identity->issuer == "https://auth.example.com");
  CHECK(a.identity->subject.empty());
  CHECK(a.expires_at == 0);
}

TEST_CASE("inactive, and answers that are active but not for us") {
  CHECK(parse(R"({"active":false})").status == AuthStatus::TokenInactive);
  CHECK(parse(R"({"active":false,"sub":"x"})").status == AuthStatus::TokenInactive);
  CHECK(parse(R"({"active":true,"aud":"billing-api"})").status == AuthStatus::JwtAudMismatch);
  CHECK(parse(R"({"active":true,"aud":7})").status == AuthStatus::JwtAudInvalid);
  CHECK(parse(R"({"active":true,"iss":"https://evil.example.com"})").status == AuthStatus::JwtIssUnknown);
  CHECK(parse(R"({"active":true,"exp":1699999000})").status == AuthStatus::JwtExpired);
  CHECK(parse(R"({"active":true,"exp":"1800000000"})").status == AuthStatus::JwtExpInvalid);
  CHECK(parse(R"({"active":true,"nbf":1800000000})").status == AuthStatus::JwtNotYetValid);
  CHECK(parse(R"({"active":true,"sub":5})").status == AuthStatus::JwtSubInvalid);
  CHECK(parse(R"({"active":true,"sub":"a\u0007b"})").status == AuthStatus::JwtClaimControlChar);
  CHECK(parse(R"({"active":true,"scope":["a"]})").status == AuthStatus::Ok);  // scope_claim rules as for JWTs
  CHECK(parse(R"({"active":true,"scope":7})").status == AuthStatus::JwtScopeInvalid);
}

TEST_CASE("answers that are not answers: no decision") {
  for (const char* body : {"", "not json", "[]", "{}", R"({"active":"true"})", R"({"active":1})",
                           R"({"active":null})", R"({"active":true,"active":false})",
                           R"({"active":true} trailing)"}) {
    CAPTURE(body);
    IntrospectionAnswer a = parse(body);
    CHECK(a.status == AuthStatus::IntrospectionFailed);
    CHECK_FALSE(a.identity);
  }
  std::string huge = R"({"active":true,"pad":")" + std::string(kMaxIntrospectionAnswerBytes, 'x') + R"("})";
  CHECK(parse(huge).status == AuthStatus::IntrospectionFailed);
}
