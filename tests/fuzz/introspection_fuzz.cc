// Fuzz target: RFC 7662 introspection answers (auth/introspection.h), the body an issuer's
// introspection endpoint returns with a 200, checked against one issuer's claim rules at a
// fixed "now"; and the form encoding of the request we send with the same bytes as token.
//
// Invariants and differentials: an answer is Ok only with an identity for this issuer whose
// expiry has not passed; every other verdict carries no identity; form_urlencode decodes back
// to its input and emits only unreserved bytes, '+' and %XX; looks_like_jwt is "two dots".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/claims.h"
#include "auth/introspection.h"
#include "fixed_keys.h"
#include "fuzz_check.h"

namespace auth = portcullis::auth;

namespace {

const auth::ClaimRules& rules() {
  static const auth::ClaimRules* r = [] {
    auto* rules = new auth::ClaimRules;
    rules->issuer = "https://idp.example.com";
    rules->audiences = {"orders-api"};
    rules->leeway_seconds = 30;
    return rules;
  }();
  return *r;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding, strict: only what form_urlencode may emit.
bool form_decode(std::string_view in, std::string& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '*') {
      out.push_back(c);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const int64_t now = portcullis::fuzz::kFixedNow;

  const auth::IntrospectionAnswer answer = auth::parse_introspection_response(body, rules(), now);
  FUZZ_CHECK(!auth::to_string(answer.status).empty());
  if (body.size() > auth::kMaxIntrospectionAnswerBytes) FUZZ_CHECK(answer.status == auth::AuthStatus::IntrospectionFailed);
  if (answer.status == auth::AuthStatus::Ok) {
    FUZZ_CHECK(answer.identity != nullptr);
    FUZZ_CHECK(answer.identity->issuer == rules().issuer);
    FUZZ_CHECK(answer.expires_at == answer.identity->expires_at);
    if (answer.expires_at != 0) FUZZ_CHECK(now < answer.expires_at + rules().leeway_seconds);
    FUZZ_CHECK(answer.identity->claims.IsObject());
  } else {
    FUZZ_CHECK(answer.identity == nullptr);
  }

  static std::string encoded, decoded;
  encoded.clear();
  decoded.clear();
  auth::form_urlencode(body, encoded);
  FUZZ_CHECK(form_decode(encoded, decoded));
  FUZZ_CHECK(decoded == body);
  FUZZ_CHECK(auth::introspection_request_body(body, "", "") == "token=" + encoded + "&token_type_hint=access_token");

  size_t dots = 0;
  for (char c : body) dots += c == '.' ? 1 : 0;
  FUZZ_CHECK(auth::looks_like_jwt(body) == (dots == 2));
  return 0;
}
