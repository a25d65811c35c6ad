#include "auth/crypto/verification_key.h"

#include <doctest/doctest.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/crypto_test_support.h"

namespace portcullis::auth::crypto {
namespace {

using namespace testing;

constexpr Alg kAllAlgs[] = {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384,
                            Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA,
                            Alg::HS256, Alg::HS384, Alg::HS512};

JwkParams rsa2048() { return rsa_jwk(rsa_key(2048)); }
JwkParams p256() { return ec_jwk(ec_key(Curve::P256), Curve::P256); }
JwkParams ed() { return ed25519_jwk(ed25519_key()); }

TEST_CASE("build_verification_key accepts well-formed keys of every type") {
  struct Row {
    const char* name;
    std::function<JwkParams()> params;
    KeyType kty;
    Curve crv;
    int bits;
  };
  const std::vector<Row> rows = {
      {"RSA 2048", rsa2048, KeyType::RSA, Curve::None, 2048},
      {"RSA 3072", [] { return rsa_jwk(rsa_key(3072)); }, KeyType::RSA, Curve::None, 3072},
      {"RSA e=3", [] { auto p = rsa2048(); p.e = "\x03"; return p; }, KeyType::RSA, Curve::None, 2048},
      {"RSA n with a leading zero octet",
       [] { auto p = rsa2048(); p.n.insert(0, 1, '\0'); return p; }, KeyType::RSA, Curve::None, 2048},
      {"RSA crv ignored", [] { auto p = rsa2048(); p.crv = Curve::P256; return p; }, KeyType::RSA,
       Curve::None, 2048},
      {"EC P-256", p256, KeyType::EC, Curve::P256, 256},
      {"EC P-384", [] { return ec_jwk(ec_key(Curve::P384), Curve::P384); }, KeyType::EC, Curve::P384, 384},
      {"EC P-521", [] { return ec_jwk(ec_key(Curve::P521), Curve::P521); }, KeyType::EC, Curve::P521, 521},
      {"OKP Ed25519", ed, KeyType::OKP, Curve::Ed25519, 256},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      JwkParams params = row.params();
      params.kid = "k1";
      auto key = build_verification_key(params);
      REQUIRE_MESSAGE(key.ok(), (key.ok() ? "" : key.error().message));
      CHECK((*key)->kty() == row.kty);
      CHECK((*key)->curve() == row.crv);
      CHECK((*key)->bits() == row.bits);
      CHECK((*key)->kid() == std::optional<std::string>("k1"));
      CHECK_FALSE((*key)->alg().has_value());
    }
  }
}

TEST_CASE("build_verification_key rejects weak, malformed and symmetric keys") {
  struct Row {
    const char* name;
    std::function<JwkParams()> params;
    const char* reason;  // a fragment of the error message
  };
  const std::vector<Row> rows = {
      {"RSA 1024-bit modulus", [] { return rsa_jwk(rsa_key(1024)); }, "1024 bits; at least 2048"},
      {"RSA 2047-bit modulus", [] { auto p = rsa2048(); p.n[0] = '\x7f'; p.n.back() |= 1; return p; },
       "2047 bits"},
      {"RSA modulus over 8192 bits", [] { auto p = rsa2048(); p.n = std::string(1025, '\xff'); return p; },
       "at most 8192"},
      {"RSA modulus missing", [] { auto p = rsa2048(); p.n.clear(); return p; }, "modulus is missing"},
      {"RSA modulus all zero", [] { auto p = rsa2048(); p.n.assign(256, '\0'); return p; },
       "modulus is missing"},
      {"RSA even modulus", [] { auto p = rsa2048(); p.n.back() &= '\xfe'; return p; }, "modulus is even"},
      {"RSA e=1", [] { auto p = rsa2048(); p.e = "\x01"; return p; }, "exponent 1 is too small"},
      {"RSA e=2", [] { auto p = rsa2048(); p.e = "\x02"; return p; }, "exponent 2 is too small"},
      {"RSA e=0", [] { auto p = rsa2048(); p.e = std::string(1, '\0'); return p; }, "exponent is missing"},
      {"RSA e missing", [] { auto p = rsa2048(); p.e.clear(); return p; }, "exponent is missing"},
      {"RSA e=65536 (even)", [] { auto p = rsa2048(); p.e = std::string("\x01\x00\x00", 3); return p; },
       "is even"},
      {"RSA e of 33 bits", [] { auto p = rsa2048(); p.e = std::string("\x01\x00\x00\x00\x01", 5); return p; },
       "larger than 32 bits"},
      {"EC point off the curve", [] { auto p = p256(); p.y = flip_bit(p.y, 31); return p; },
       "not on the curve"},
      {"EC point at infinity (0, 0)", [] { auto p = p256(); p.x.assign(32, '\0'); p.y.assign(32, '\0'); return p; },
       "infinity"},
      {"EC x >= p", [] { auto p = p256(); p.x.assign(32, '\xff'); return p; }, "field prime"},
      {"EC y >= p", [] { auto p = p256(); p.y.assign(32, '\xff'); return p; }, "field prime"},
      {"EC x one byte short", [] { auto p = p256(); p.x.erase(0, 1); return p; }, "exactly 32 bytes"},
      {"EC y zero-padded to 33 bytes", [] { auto p = p256(); p.y.insert(0, 1, '\0'); return p; },
       "exactly 32 bytes"},
      {"EC P-256 point labelled P-384", [] { auto p = p256(); p.crv = Curve::P384; return p; },
       "exactly 48 bytes"},
      {"EC without a curve", [] { auto p = p256(); p.crv = Curve::None; return p; }, "unsupported curve"},
      {"EC labelled Ed25519", [] { auto p = p256(); p.crv = Curve::Ed25519; return p; }, "unsupported curve"},
      {"OKP labelled P-256", [] { auto p = ed(); p.crv = Curve::P256; return p; }, "unsupported curve"},
      {"OKP without a curve", [] { auto p = ed(); p.crv = Curve::None; return p; }, "unsupported curve"},
      {"Ed25519 x of 31 bytes", [] { auto p = ed(); p.x.pop_back(); return p; }, "exactly 32 bytes"},
      {"Ed25519 x of 33 bytes", [] { auto p = ed(); p.x.push_back('\0'); return p; }, "exactly 32 bytes"},
      {"oct key from a JWKS", [] { JwkParams p; p.kty = KeyType::Oct; p.x = std::string(64, 'k'); return p; },
       "oct"},
      // The classic confusion: the issuer's public modulus offered as an HMAC secret.
      {"oct key carrying the RSA modulus", [] { auto p = rsa2048(); p.kty = KeyType::Oct; p.alg = Alg::HS256; return p; },
       "oct"},
      {"RSA key with alg ES256", [] { auto p = rsa2048(); p.alg = Alg::ES256; return p; }, "does not fit"},
      {"RSA key with alg HS256", [] { auto p = rsa2048(); p.alg = Alg::HS256; return p; }, "does not fit"},
      {"P-256 key with alg ES384", [] { auto p = p256(); p.alg = Alg::ES384; return p; }, "does not fit"},
      {"P-256 key with alg EdDSA", [] { auto p = p256(); p.alg = Alg::EdDSA; return p; }, "does not fit"},
      {"Ed25519 key with alg RS256", [] { auto p = ed(); p.alg = Alg::RS256; return p; }, "does not fit"},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      auto key = build_verification_key(row.params());
      REQUIRE_FALSE(key.ok());
      CHECK_MESSAGE(key.error().message.find(row.reason) != std::string::npos, key.error().message);
    }
  }
}

// 32 bytes from 64 hex digits (an Ed25519 public key encoding: y little-endian, x's sign in
// the top bit), optionally with that sign bit set.
std::string ed25519_x(std::string_view hex, bool sign = false) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  if (sign) out[31] = static_cast<char>(static_cast<unsigned char>(out[31]) | 0x80);
  return out;
}

// The y coordinates of the eight points of order 1, 2, 4 and 8 (computed as [L]P for random
// points P, L the group order): 0, 1, p - 1 and the two order-8 values.
constexpr std::string_view kSmallOrderHex[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
};

TEST_CASE("build_verification_key refuses Ed25519 keys of small order and non-canonical encodings") {
  std::vector<std::pair<std::string_view, std::string_view>> rows;  // y, the reason
  for (std::string_view y : kSmallOrderHex) rows.emplace_back(y, "small order");
  // y >= p: p itself (0 mod p), p + 1 (1 mod p) and p + 18 = 2^255 - 1.
  for (std::string_view y : {"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                             "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                             "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
    rows.emplace_back(y, "non-canonical");
  }
  for (const auto& [y, reason] : rows) {
    for (bool sign : {false, true}) {
      CAPTURE(y);
      CAPTURE(sign);
      JwkParams p = ed();
      p.x = ed25519_x(y, sign);
      auto key = build_verification_key(p);
      REQUIRE_FALSE(key.ok());
      CHECK_MESSAGE(key.error().message.find(reason) != std::string::npos, key.error().message);
    }
  }
  // Generated keys ([a]B, in the prime-order subgroup) are never refused.
  for (int i = 0; i < 64; ++i) REQUIRE(build_verification_key(ed()).ok());
}

// Why the refusal matters: with A of small order, R = the identity and S = 0 satisfy
// [S]B = R + [k]A for every message, and OpenSSL 3.0's Ed25519 verify accepts that signature.
TEST_CASE("premise: OpenSSL accepts a forged signature under a small-order Ed25519 key") {
  const std::string identity = ed25519_x(kSmallOrderHex[1]);
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(identity.data()), 32);
  REQUIRE(raw != nullptr);
  std::string sig = identity + std::string(32, '\0');  // R = identity, S = 0
  const std::string msg = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZG1pbiJ9";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, raw) == 1);
  const int verdict = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
  // Not a requirement on OpenSSL (a later one may refuse it): a note on why the key check exists.
  WARN_MESSAGE(verdict == 1, "this OpenSSL refuses the small-order forgery by itself");
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(raw);
  ERR_clear_error();
}

TEST_CASE("fits pairs kty, curve and the key's own alg with the token alg") {
  auto with_alg = [](JwkParams p, Alg alg) { p.alg = alg; return p; };
  struct Row {
    const char* name;
    std::function<KeyPtr()> key;
    std::vector<Alg> fitting;
  };
  const std::vector<Row> rows = {
      {"RSA", [] { return must_build(rsa2048()); },
       {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512}},
      {"RSA alg RS256", [&] { return must_build(with_alg(rsa2048(), Alg::RS256)); }, {Alg::RS256}},
      {"RSA alg PS384", [&] { return must_build(with_alg(rsa2048(), Alg::PS384)); }, {Alg::PS384}},
      {"EC P-256", [] { return must_build(p256()); }, {Alg::ES256}},
      {"EC P-256 alg ES256", [&] { return must_build(with_alg(p256(), Alg::ES256)); }, {Alg::ES256}},
      {"EC P-384", [] { return must_build(ec_jwk(ec_key(Curve::P384), Curve::P384)); }, {Alg::ES384}},
      {"EC P-521", [] { return must_build(ec_jwk(ec_key(Curve::P521), Curve::P521)); }, {Alg::ES512}},
      {"OKP Ed25519", [] { return must_build(ed()); }, {Alg::EdDSA}},
      {"HMAC 32 bytes", [] { return *build_hmac_key(std::string(32, 's'), std::nullopt); }, {Alg::HS256}},
      {"HMAC 48 bytes", [] { return *build_hmac_key(std::string(48, 's'), std::nullopt); },
       {Alg::HS256, Alg::HS384}},
      {"HMAC 64 bytes", [] { return *build_hmac_key(std::string(64, 's'), std::nullopt); },
       {Alg::HS256, Alg::HS384, Alg::HS512}},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      const KeyPtr key = row.key();
      for (Alg alg : kAllAlgs) {
        const bool expected =
            std::find(row.fitting.begin(), row.fitting.end(), alg) != row.fitting.end();
        CHECK_MESSAGE(key->fits(alg) == expected, name(alg));
      }
    }
  }
}

TEST_CASE("build_hmac_key requires at least 32 bytes of secret") {
  struct Row {
    const char* name;
    std::size_t size;
    bool ok;
  };
  const Row rows[] = {{"empty", 0, false}, {"16 bytes", 16, false}, {"31 bytes", 31, false},
                      {"32 bytes", 32, true}, {"47 bytes", 47, true}, {"100 bytes", 100, true}};
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      auto key = build_hmac_key(std::string(row.size, 'z'), std::string("hs"));
      REQUIRE(key.ok() == row.ok);
      if (row.ok) {
        CHECK((*key)->kty() == KeyType::Oct);
        CHECK((*key)->curve() == Curve::None);
        CHECK((*key)->kid() == std::optional<std::string>("hs"));
        CHECK((*key)->bits() == static_cast<int>(row.size * 8));
      } else {
        CHECK(key.error().message.find("at least 32") != std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace portcullis::auth::crypto
