#include <doctest/doctest.h>

#include <string>

#include "auth/jwk.h"

using namespace portcullis::auth;

TEST_CASE("alg names round-trip exactly") {
  for (int i = 0; i <= static_cast<int>(Alg::HS512); ++i) {
    const auto alg = static_cast<Alg>(i);
    CAPTURE(i);
    const auto name = to_string(alg);
    REQUIRE(alg_from_string(name).has_value());
    CHECK(*alg_from_string(name) == alg);
  }
  CHECK(to_string(Alg::EdDSA) == "EdDSA");
}

TEST_CASE("alg_from_string rejects none and near misses") {
  struct Row { const char* name; std::string input; };
  const Row rows[] = {
      {"none", "none"}, {"None", "None"}, {"empty", ""}, {"lowercase", "rs256"}, {"trailing space", "RS256 "},
      {"leading space", " RS256"}, {"ES256K", "ES256K"}, {"Ed25519 is a curve, not an alg", "Ed25519"},
      {"eddsa lowercase", "eddsa"}, {"ES521 (typo seen in the wild)", "ES521"}, {"RSA1_5 is encryption", "RSA1_5"},
      {"embedded NUL", std::string("RS256\0", 6)},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) { CHECK_FALSE(alg_from_string(row.input).has_value()); }
  }
}

TEST_CASE("is_hmac is true only for HS*") {
  CHECK(is_hmac(Alg::HS256));
  CHECK(is_hmac(Alg::HS384));
  CHECK(is_hmac(Alg::HS512));
  for (Alg a : {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512, Alg::ES256, Alg::ES384,
                Alg::ES512, Alg::EdDSA}) {
    CHECK_FALSE(is_hmac(a));
  }
}
