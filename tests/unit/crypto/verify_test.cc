#include "auth/crypto/verify.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "crypto/crypto_test_support.h"

namespace portcullis::auth::crypto {
namespace {

using namespace testing;

constexpr std::string_view kInput = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9";
const std::string kSecret64(64, '\x5a');

// A signing key, its verification key built through the JWK path, and a fresh signature.
struct Signed {
  KeyPtr key;
  std::string signature;
};

Signed make(Alg alg, std::string_view input = kInput) {
  switch (alg) {
    case Alg::RS256: case Alg::RS384: case Alg::RS512:
    case Alg::PS256: case Alg::PS384: case Alg::PS512:
      return {must_build(rsa_jwk(rsa_key(2048))), sign(alg, rsa_key(2048), input)};
    case Alg::ES256:
      return {must_build(ec_jwk(ec_key(Curve::P256), Curve::P256)), sign(alg, ec_key(Curve::P256), input, 32)};
    case Alg::ES384:
      return {must_build(ec_jwk(ec_key(Curve::P384), Curve::P384)), sign(alg, ec_key(Curve::P384), input, 48)};
    case Alg::ES512:
      return {must_build(ec_jwk(ec_key(Curve::P521), Curve::P521)), sign(alg, ec_key(Curve::P521), input, 66)};
    case Alg::EdDSA:
      return {must_build(ed25519_jwk(ed25519_key())), sign(alg, ed25519_key(), input)};
    case Alg::HS256: case Alg::HS384: case Alg::HS512:
      return {*build_hmac_key(kSecret64, std::nullopt), hmac(alg, kSecret64, input)};
  }
  throw std::logic_error("alg");
}

constexpr Alg kAllAlgs[] = {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384,
                            Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA,
                            Alg::HS256, Alg::HS384, Alg::HS512};

TEST_CASE("every algorithm verifies a signature made by OpenSSL with the matching key") {
  for (Alg alg : kAllAlgs) {
    SUBCASE(std::string(name(alg)).c_str()) {
      const Signed s = make(alg);
      CHECK(verify_signature(alg, *s.key, kInput, s.signature) == AuthStatus::Ok);
      // The same key verifies again (nothing is consumed by a verification).
      CHECK(verify_signature(alg, *s.key, kInput, s.signature) == AuthStatus::Ok);
      CHECK(verify_signature(alg, *s.key, "", s.signature) == AuthStatus::JwtSignatureInvalid);
    }
  }
}

TEST_CASE("a key whose own alg matches the token verifies; RSA 3072 verifies") {
  SUBCASE("RSA with alg PS256") {
    JwkParams p = rsa_jwk(rsa_key(2048));
    p.alg = Alg::PS256;
    const KeyPtr key = must_build(p);
    CHECK(verify_signature(Alg::PS256, *key, kInput, sign(Alg::PS256, rsa_key(2048), kInput)) == AuthStatus::Ok);
    CHECK(verify_signature(Alg::RS256, *key, kInput, sign(Alg::RS256, rsa_key(2048), kInput)) ==
          AuthStatus::JwksKidAlgMismatch);
  }
  SUBCASE("RSA 3072") {
    const KeyPtr key = must_build(rsa_jwk(rsa_key(3072)));
    CHECK(verify_signature(Alg::RS512, *key, kInput, sign(Alg::RS512, rsa_key(3072), kInput)) == AuthStatus::Ok);
  }
}

TEST_CASE("a flipped bit anywhere fails") {
  for (Alg alg : kAllAlgs) {
    SUBCASE(std::string(name(alg)).c_str()) {
      const Signed s = make(alg);
      for (std::size_t byte : {std::size_t{0}, s.signature.size() / 2, s.signature.size() - 1}) {
        CAPTURE(byte);
        const AuthStatus status = verify_signature(alg, *s.key, kInput, flip_bit(s.signature, byte, 3));
        // A flip can push ECDSA r or s over n: that is "malformed", still never Ok.
        CHECK(status != AuthStatus::Ok);
        if (status != AuthStatus::JwtSignatureMalformed) CHECK(status == AuthStatus::JwtSignatureInvalid);
      }
      const std::string input(kInput);
      CHECK(verify_signature(alg, *s.key, flip_bit(input, 0), s.signature) == AuthStatus::JwtSignatureInvalid);
      CHECK(verify_signature(alg, *s.key, flip_bit(input, input.size() - 1, 7), s.signature) ==
            AuthStatus::JwtSignatureInvalid);
      CHECK(verify_signature(alg, *s.key, input + ".", s.signature) == AuthStatus::JwtSignatureInvalid);
    }
  }
}

TEST_CASE("a signature checked with the wrong alg or key type never verifies") {
  const Signed rs256 = make(Alg::RS256);
  const Signed ps256 = make(Alg::PS256);
  const Signed es256 = make(Alg::ES256);
  const Signed es384 = make(Alg::ES384);
  const Signed eddsa = make(Alg::EdDSA);
  const Signed hs256 = make(Alg::HS256);
  const KeyPtr other_p384 = must_build(ec_jwk(generate("EC", "P-384").get(), Curve::P384));
  JwkParams rs256_only = rsa_jwk(rsa_key(2048));
  rs256_only.alg = Alg::RS256;
  const KeyPtr rsa_alg_rs256 = must_build(rs256_only);

  struct Row {
    const char* name;
    Alg alg;
    const VerificationKey* key;
    std::string signature;
    AuthStatus expected;
  };
  const std::vector<Row> rows = {
      {"RS256 token against an EC key", Alg::RS256, es256.key.get(), rs256.signature, AuthStatus::JwksKidAlgMismatch},
      {"ES256 token against an RSA key", Alg::ES256, rs256.key.get(), es256.signature, AuthStatus::JwksKidAlgMismatch},
      {"ES256 signature against a P-384 key", Alg::ES256, es384.key.get(), es256.signature,
       AuthStatus::JwksKidAlgMismatch},
      {"ES384 signature against a P-256 key", Alg::ES384, es256.key.get(), es384.signature,
       AuthStatus::JwksKidAlgMismatch},
      {"ES384 signature against another P-384 key", Alg::ES384, other_p384.get(), es384.signature,
       AuthStatus::JwtSignatureInvalid},
      {"EdDSA token against an EC key", Alg::EdDSA, es256.key.get(), eddsa.signature, AuthStatus::JwksKidAlgMismatch},
      {"ES256 token against an Ed25519 key", Alg::ES256, eddsa.key.get(), es256.signature,
       AuthStatus::JwksKidAlgMismatch},
      {"PS256 signature checked as RS256", Alg::RS256, rs256.key.get(), ps256.signature, AuthStatus::JwtSignatureInvalid},
      {"RS256 signature checked as PS256", Alg::PS256, rs256.key.get(), rs256.signature, AuthStatus::JwtSignatureInvalid},
      {"RS256 signature checked as RS384", Alg::RS384, rs256.key.get(), rs256.signature, AuthStatus::JwtSignatureInvalid},
      {"PS256 token against a key pinned to RS256", Alg::PS256, rsa_alg_rs256.get(), ps256.signature,
       AuthStatus::JwksKidAlgMismatch},
      // HS* with asymmetric keys: the algorithm-confusion attack.
      {"HS256 token against an RSA key", Alg::HS256, rs256.key.get(), hs256.signature, AuthStatus::JwksKidAlgMismatch},
      {"HS256 token against an EC key", Alg::HS256, es256.key.get(), hs256.signature, AuthStatus::JwksKidAlgMismatch},
      {"HS256 token against an Ed25519 key", Alg::HS256, eddsa.key.get(), hs256.signature,
       AuthStatus::JwksKidAlgMismatch},
      {"RS256 token against an HMAC key", Alg::RS256, hs256.key.get(), rs256.signature, AuthStatus::JwksKidAlgMismatch},
      {"HS384 tag checked as HS256", Alg::HS256, hs256.key.get(), hmac(Alg::HS384, kSecret64, kInput),
       AuthStatus::JwtSignatureMalformed},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) { CHECK(verify_signature(row.alg, *row.key, kInput, row.signature) == row.expected); }
  }
}

// RFC 7518 §3.5 fixes the PSS parameters; a verifier on "auto" salt would accept these.
std::string sign_pss(EVP_PKEY* key, const char* md, const char* mgf1_md, int salt, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  require(EVP_DigestSignInit_ex(ctx, &pctx, md, nullptr, nullptr, key, nullptr) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf1_md, nullptr) == 1 &&
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) == 1,
          "pss sign init");
  std::string sig(512, '\0');
  std::size_t len = sig.size();
  require(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1,
          "pss sign");
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return sig;
}

TEST_CASE("PSS verifies only with MGF1 on the same hash and salt length = hash length") {
  const KeyPtr key = must_build(rsa_jwk(rsa_key(2048)));
  EVP_PKEY* priv = rsa_key(2048);
  struct Row {
    const char* name;
    Alg alg;
    const char* md;
    const char* mgf1;
    int salt;
    AuthStatus expected;
  };
  const Row rows[] = {
      {"PS256, salt 32", Alg::PS256, "SHA256", "SHA256", 32, AuthStatus::Ok},
      {"PS384, salt 48", Alg::PS384, "SHA384", "SHA384", 48, AuthStatus::Ok},
      {"PS512, salt 64", Alg::PS512, "SHA512", "SHA512", 64, AuthStatus::Ok},
      {"PS256, salt 0", Alg::PS256, "SHA256", "SHA256", 0, AuthStatus::JwtSignatureInvalid},
      {"PS256, salt 20", Alg::PS256, "SHA256", "SHA256", 20, AuthStatus::JwtSignatureInvalid},
      {"PS256, salt 33", Alg::PS256, "SHA256", "SHA256", 33, AuthStatus::JwtSignatureInvalid},
      {"PS256, maximal salt", Alg::PS256, "SHA256", "SHA256", RSA_PSS_SALTLEN_MAX, AuthStatus::JwtSignatureInvalid},
      {"PS256, MGF1 with SHA-1", Alg::PS256, "SHA256", "SHA1", 32, AuthStatus::JwtSignatureInvalid},
      {"PS384, MGF1 with SHA-256", Alg::PS384, "SHA384", "SHA256", 48, AuthStatus::JwtSignatureInvalid},
      {"PS512, salt 32", Alg::PS512, "SHA512", "SHA512", 32, AuthStatus::JwtSignatureInvalid},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      const std::string sig = sign_pss(priv, row.md, row.mgf1, row.salt, kInput);
      CHECK(verify_signature(row.alg, *key, kInput, sig) == row.expected);
    }
  }
}

TEST_CASE("HMAC: wrong secret, short secrets and tag lengths") {
  const std::string secret32(32, 'q');
  const KeyPtr key32 = *build_hmac_key(secret32, std::nullopt);
  const std::string tag = hmac(Alg::HS256, secret32, kInput);
  struct Row {
    const char* name;
    Alg alg;
    std::string signature;
    AuthStatus expected;
  };
  const std::vector<Row> rows = {
      {"correct tag", Alg::HS256, tag, AuthStatus::Ok},
      {"tag from another secret", Alg::HS256, hmac(Alg::HS256, std::string(32, 'r'), kInput),
       AuthStatus::JwtSignatureInvalid},
      {"tag truncated to 16 bytes", Alg::HS256, tag.substr(0, 16), AuthStatus::JwtSignatureMalformed},
      {"tag one byte short", Alg::HS256, tag.substr(0, 31), AuthStatus::JwtSignatureMalformed},
      {"tag with a trailing byte", Alg::HS256, tag + '\0', AuthStatus::JwtSignatureMalformed},
      {"empty tag", Alg::HS256, "", AuthStatus::JwtSignatureMalformed},
      {"HS384 with a 32-byte secret", Alg::HS384, hmac(Alg::HS384, secret32, kInput), AuthStatus::JwksKidAlgMismatch},
      {"HS512 with a 32-byte secret", Alg::HS512, hmac(Alg::HS512, secret32, kInput), AuthStatus::JwksKidAlgMismatch},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) { CHECK(verify_signature(row.alg, *key32, kInput, row.signature) == row.expected); }
  }
}

TEST_CASE("RSA and EdDSA signatures of the wrong length are malformed") {
  for (Alg alg : {Alg::RS256, Alg::PS256, Alg::EdDSA}) {
    SUBCASE(std::string(name(alg)).c_str()) {
      const Signed s = make(alg);
      CHECK(verify_signature(alg, *s.key, kInput, "") == AuthStatus::JwtSignatureMalformed);
      CHECK(verify_signature(alg, *s.key, kInput, s.signature.substr(1)) == AuthStatus::JwtSignatureMalformed);
      CHECK(verify_signature(alg, *s.key, kInput, std::string(1, '\0') + s.signature) ==
            AuthStatus::JwtSignatureMalformed);
      CHECK(verify_signature(alg, *s.key, kInput, s.signature + '\0') == AuthStatus::JwtSignatureMalformed);
    }
  }
}

TEST_CASE("one key verifies concurrently from many threads") {
  for (Alg alg : {Alg::RS256, Alg::PS384, Alg::ES256, Alg::EdDSA, Alg::HS512}) {
    SUBCASE(std::string(name(alg)).c_str()) {
      const Signed s = make(alg);
      const std::string bad = flip_bit(s.signature, s.signature.size() / 2);
      std::atomic<int> wrong{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
          for (int i = 0; i < 25; ++i) {
            if (verify_signature(alg, *s.key, kInput, s.signature) != AuthStatus::Ok) ++wrong;
            if (verify_signature(alg, *s.key, kInput, bad) == AuthStatus::Ok) ++wrong;
          }
        });
      }
      for (std::thread& t : threads) t.join();
      CHECK(wrong.load() == 0);
    }
  }
}

TEST_CASE("a failed verification leaves no error on the OpenSSL error queue") {
  const Signed s = make(Alg::RS256);
  ERR_clear_error();
  REQUIRE(verify_signature(Alg::RS256, *s.key, kInput, flip_bit(s.signature, 7)) == AuthStatus::JwtSignatureInvalid);
  CHECK(ERR_peek_error() == 0);
  REQUIRE(build_verification_key([] { auto p = ec_jwk(ec_key(Curve::P256), Curve::P256); p.y = flip_bit(p.y, 0); return p; }())
              .ok() == false);
  CHECK(ERR_peek_error() == 0);
}

}  // namespace
}  // namespace portcullis::auth::crypto
