#include "auth/crypto/ecdsa_der.h"

#include <doctest/doctest.h>

#include <openssl/obj_mac.h>

#include <vector>

#include "crypto/crypto_test_support.h"

namespace portcullis::auth::crypto {
namespace {

using namespace testing;

constexpr std::string_view kInput = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJib2IifQ";

struct CurveCase {
  const char* name;
  Curve crv;
  Alg alg;
  int nid;
};
constexpr CurveCase kCurves[] = {{"P-256", Curve::P256, Alg::ES256, NID_X9_62_prime256v1},
                                 {"P-384", Curve::P384, Alg::ES384, NID_secp384r1},
                                 {"P-521", Curve::P521, Alg::ES512, NID_secp521r1}};

// The curve order n, big-endian, one coordinate long (read independently of the code under test).
std::string order_of(int nid, std::size_t size) {
  EC_GROUP* group = EC_GROUP_new_by_curve_name(nid);
  std::string out(size, '\0');
  BN_bn2binpad(EC_GROUP_get0_order(group), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size));
  EC_GROUP_free(group);
  return out;
}

std::string der_of(std::string_view raw) {
  const std::size_t half = raw.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(p, static_cast<int>(half), nullptr), BN_bin2bn(p + half, static_cast<int>(half), nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

std::string minus_one(std::string v) {
  for (std::size_t i = v.size(); i-- > 0;) {
    if (v[i] != '\0') {
      v[i] = static_cast<char>(v[i] - 1);
      break;
    }
    v[i] = '\xff';
  }
  return v;
}

TEST_CASE("ECDSA signatures in any form but raw R||S with 0 < r, s < n are malformed") {
  for (const CurveCase& c : kCurves) {
    SUBCASE(c.name) {
      const std::size_t size = coord_size(c.crv);
      const std::string n = order_of(c.nid, size);
      const std::string zero(size, '\0');
      const std::string one = std::string(size - 1, '\0') + '\x01';
      const KeyPtr key = must_build(ec_jwk(ec_key(c.crv), c.crv));
      const std::string raw = sign(c.alg, ec_key(c.crv), kInput, size);
      const std::string r = raw.substr(0, size), s = raw.substr(size);
      REQUIRE(verify_signature(c.alg, *key, kInput, raw) == AuthStatus::Ok);

      struct Row {
        const char* name;
        std::string signature;
        AuthStatus expected;
      };
      const std::vector<Row> rows = {
          {"DER-encoded (as OpenSSL emits it)", der_of(raw), AuthStatus::JwtSignatureMalformed},
          {"one byte short", raw.substr(0, raw.size() - 1), AuthStatus::JwtSignatureMalformed},
          {"one byte long (trailing zero)", raw + '\0', AuthStatus::JwtSignatureMalformed},
          {"r and s each zero-padded by one byte", '\0' + r + '\0' + s, AuthStatus::JwtSignatureMalformed},
          {"empty", "", AuthStatus::JwtSignatureMalformed},
          {"r = s = 0 (psychic signature)", zero + zero, AuthStatus::JwtSignatureMalformed},
          {"r = 0", zero + s, AuthStatus::JwtSignatureMalformed},
          {"s = 0", r + zero, AuthStatus::JwtSignatureMalformed},
          {"r = n", n + s, AuthStatus::JwtSignatureMalformed},
          {"s = n", r + n, AuthStatus::JwtSignatureMalformed},
          {"r = all ones", std::string(size, '\xff') + s, AuthStatus::JwtSignatureMalformed},
          {"r = n - 1 (in range, wrong)", minus_one(n) + s, AuthStatus::JwtSignatureInvalid},
          {"s = n - 1 (in range, wrong)", r + minus_one(n), AuthStatus::JwtSignatureInvalid},
          {"r = s = 1", one + one, AuthStatus::JwtSignatureInvalid},
          {"r and s swapped", s + r, AuthStatus::JwtSignatureInvalid},
      };
      for (const Row& row : rows) {
        CAPTURE(row.name);
        CHECK(verify_signature(c.alg, *key, kInput, row.signature) == row.expected);
      }
    }
  }
}

TEST_CASE("ecdsa_raw_to_der produces the DER OpenSSL produces") {
  for (const CurveCase& c : kCurves) {
    SUBCASE(c.name) {
      const std::size_t size = coord_size(c.crv);
      const std::string n = order_of(c.nid, size);
      const auto order = std::span(reinterpret_cast<const unsigned char*>(n.data()), size);
      const std::string one = std::string(size - 1, '\0') + '\x01';
      const std::string high = '\x80' + std::string(size - 1, '\0');  // needs a 0x00 pad (if < n)
      const std::string top = minus_one(n);
      const std::vector<std::pair<const char*, std::string>> rows = {
          {"r = s = 1", one + one},
          {"r = 1, s = n - 1", one + top},
          {"r = n - 1, s = n - 1", top + top},
          {"leading zero bytes", std::string(3, '\0') + std::string(size - 3, '\x11') + one},
          {"high bit set", (high < n ? high : one) + top},
          {"a real signature", sign(c.alg, ec_key(c.crv), kInput, size)},
      };
      for (const auto& [row_name, raw] : rows) {
        CAPTURE(row_name);
        EcdsaDer der;
        REQUIRE(ecdsa_raw_to_der(raw, order, der) == EcdsaSigCheck::Ok);
        CHECK(std::string(reinterpret_cast<const char*>(der.bytes.data()), der.size) == der_of(raw));
      }
    }
  }
}

TEST_CASE("ecdsa_raw_to_der rejects bad lengths and out-of-range values") {
  const std::string n = order_of(NID_X9_62_prime256v1, 32);
  const auto order = std::span(reinterpret_cast<const unsigned char*>(n.data()), 32);
  const std::string one = std::string(31, '\0') + '\x01';
  struct Row {
    const char* name;
    std::string raw;
    EcdsaSigCheck expected;
  };
  const std::vector<Row> rows = {
      {"63 bytes", std::string(63, '\x01'), EcdsaSigCheck::WrongLength},
      {"65 bytes", std::string(65, '\x01'), EcdsaSigCheck::WrongLength},
      {"empty", "", EcdsaSigCheck::WrongLength},
      {"r = 0", std::string(32, '\0') + one, EcdsaSigCheck::OutOfRange},
      {"s = 0", one + std::string(32, '\0'), EcdsaSigCheck::OutOfRange},
      {"r = n", n + one, EcdsaSigCheck::OutOfRange},
      {"s = n", one + n, EcdsaSigCheck::OutOfRange},
      {"r = 1, s = 1", one + one, EcdsaSigCheck::Ok},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      EcdsaDer der;
      CHECK(ecdsa_raw_to_der(row.raw, order, der) == row.expected);
    }
  }
}

}  // namespace
}  // namespace portcullis::auth::crypto
