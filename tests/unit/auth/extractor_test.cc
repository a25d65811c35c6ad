#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>

#include "auth/extractor.h"

using namespace portcullis::auth;

TEST_CASE("extract_bearer takes exactly 'Bearer <token68>'") {
  struct Row { const char* name; std::string value; AuthStatus expected; std::string token; };
  const Row rows[] = {
      {"plain", "Bearer abc.def.ghi", AuthStatus::Ok, "abc.def.ghi"},
      {"lowercase scheme", "bearer abc", AuthStatus::Ok, "abc"},
      {"uppercase scheme", "BEARER abc", AuthStatus::Ok, "abc"},
      {"mixed case scheme", "bEaReR abc", AuthStatus::Ok, "abc"},
      {"token68 punctuation", "Bearer a-b.c_d~e+f/g", AuthStatus::Ok, "a-b.c_d~e+f/g"},
      {"trailing equals", "Bearer abc==", AuthStatus::Ok, "abc=="},
      {"empty", "", AuthStatus::TokenMissing, ""},
      {"scheme only", "Bearer", AuthStatus::AuthHeaderMalformed, ""},
      {"scheme and space", "Bearer ", AuthStatus::AuthHeaderMalformed, ""},
      {"Basic", "Basic dXNlcjpwYXNz", AuthStatus::AuthHeaderMalformed, ""},
      {"Bearerx", "Bearerx abc", AuthStatus::AuthHeaderMalformed, ""},
      {"no space", "Bearerabc", AuthStatus::AuthHeaderMalformed, ""},
      {"two spaces", "Bearer  abc", AuthStatus::AuthHeaderMalformed, ""},
      {"tab separator", "Bearer\tabc", AuthStatus::AuthHeaderMalformed, ""},
      {"two tokens", "Bearer abc def", AuthStatus::AuthHeaderMalformed, ""},
      {"comma list", "Bearer abc, Bearer def", AuthStatus::AuthHeaderMalformed, ""},
      {"trailing space", "Bearer abc ", AuthStatus::AuthHeaderMalformed, ""},
      {"equals in the middle", "Bearer ab=c", AuthStatus::AuthHeaderMalformed, ""},
      {"only equals", "Bearer ==", AuthStatus::AuthHeaderMalformed, ""},
      {"quoted", "Bearer \"abc\"", AuthStatus::AuthHeaderMalformed, ""},
      {"CR", "Bearer abc\r", AuthStatus::AuthHeaderMalformed, ""},
      {"NUL", std::string("Bearer ab\0c", 11), AuthStatus::AuthHeaderMalformed, ""},
      {"high byte", "Bearer ab\xc3\xa9", AuthStatus::AuthHeaderMalformed, ""},
      {"leading space", " Bearer abc", AuthStatus::AuthHeaderMalformed, ""},
      {"percent", "Bearer a%2Eb", AuthStatus::AuthHeaderMalformed, ""},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      std::string_view token = "stale";
      CHECK(extract_bearer(row.value, 8192, token) == row.expected);
      CHECK(token == row.token);
    }
  }
}

TEST_CASE("extract_bearer bounds the token size") {
  std::string_view token;
  const std::string at_limit = "Bearer " + std::string(16, 'a');
  CHECK(extract_bearer(at_limit, 16, token) == AuthStatus::Ok);
  CHECK(token.size() == 16);
  CHECK(extract_bearer("Bearer " + std::string(17, 'a'), 16, token) == AuthStatus::TokenTooLarge);
  SUBCASE("size is checked before the value is even looked at") {
    CHECK(extract_bearer(std::string(10000, ' '), 16, token) == AuthStatus::TokenTooLarge);
    CHECK(extract_bearer("Basic " + std::string(100, 'x'), 16, token) == AuthStatus::TokenTooLarge);
  }
  SUBCASE("a short scheme cannot smuggle a long token past the limit") {
    CHECK(extract_bearer("bearer " + std::string(17, 'a'), 16, token) == AuthStatus::TokenTooLarge);
  }
}

TEST_CASE("find_cookie") {
  struct Row { const char* name; std::string header; std::string cookie; std::optional<std::string> expected; };
  const Row rows[] = {
      {"single", "token=abc", "token", "abc"},
      {"among others", "a=1; token=abc; b=2", "token", "abc"},
      {"first wins", "token=one; token=two", "token", "one"},
      {"no space after semicolon", "a=1;token=abc", "token", "abc"},
      {"quoted value", "token=\"abc\"", "token", "abc"},
      {"empty value", "token=", "token", ""},
      {"absent", "a=1; b=2", "token", std::nullopt},
      {"prefix is not a match", "tokenx=abc", "token", std::nullopt},
      {"suffix is not a match", "xtoken=abc", "token", std::nullopt},
      {"case-sensitive", "Token=abc", "token", std::nullopt},
      {"name in a value", "a=token=abc", "token", std::nullopt},
      {"no equals", "token", "token", std::nullopt},
      {"empty header", "", "token", std::nullopt},
      {"value with equals", "token=a=b", "token", "a=b"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      const auto got = find_cookie(row.header, row.cookie);
      REQUIRE(got.has_value() == row.expected.has_value());
      if (got) CHECK(*got == *row.expected);
    }
  }
  CHECK_FALSE(find_cookie("=abc", "").has_value());
}

// extract_bearer skips runs of the JWT alphabet eight bytes at a time; whatever the bytes,
// it must decide what the byte-by-byte token68 grammar decides.
TEST_CASE("extract_bearer agrees with the token68 grammar on random tokens") {
  auto token68_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
  };
  auto reference = [&](const std::string& t) {
    size_t i = 0;
    while (i < t.size() && token68_char(t[i])) ++i;
    if (i == 0) return false;
    while (i < t.size() && t[i] == '=') ++i;
    return i == t.size();
  };
  std::mt19937 rng(68);
  const std::string alphabet = std::string("aZ09-._") + "aZ09-._aZ09-._aZ09-._" + "~+/= ,\t\x7f\xff\x80@[`{:";
  for (int round = 0; round < 20000; ++round) {
    std::string t(1 + rng() % 48, 'a');
    for (char& c : t) c = alphabet[rng() % alphabet.size()];
    const std::string value = "Bearer " + t;
    std::string_view token;
    const AuthStatus got = extract_bearer(value, 4096, token);
    INFO("token: " << t);
    REQUIRE((got == AuthStatus::Ok) == reference(t));
    if (got == AuthStatus::Ok) REQUIRE(token == t);
  }
}
