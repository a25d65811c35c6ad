#include "auth/crypto/signer.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "auth/crypto/verification_key.h"
#include "auth/crypto/verify.h"
#include "crypto/crypto_test_support.h"

namespace portcullis::auth::crypto {
namespace {

using namespace testing;

constexpr std::string_view kInput = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9";

constexpr Alg kAsymmetric[] = {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384,
                               Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA};

std::string member(const rapidjson::Value& obj, const char* name) {
  REQUIRE(obj.HasMember(name));
  REQUIRE(obj[name].IsString());
  return {obj[name].GetString(), obj[name].GetStringLength()};
}

// The published JWK read back the way a relying party would (unit_crypto cannot link the
// JWKS parser of auth/; unit_cli runs the same round trip through parse_jwks).
JwkParams read_jwk(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(member(doc, "use") == "sig");
  JwkParams p;
  const std::string kty = member(doc, "kty");
  if (kty == "RSA") {
    p.kty = KeyType::RSA;
    p.n = b64url(member(doc, "n"));
    p.e = b64url(member(doc, "e"));
  } else if (kty == "EC") {
    p.kty = KeyType::EC;
    const std::string crv = member(doc, "crv");
    p.crv = crv == "P-256" ? Curve::P256 : crv == "P-384" ? Curve::P384 : Curve::P521;
    p.x = b64url(member(doc, "x"));
    p.y = b64url(member(doc, "y"));
  } else {
    REQUIRE(kty == "OKP");
    CHECK(member(doc, "crv") == "Ed25519");
    p.kty = KeyType::OKP;
    p.crv = Curve::Ed25519;
    p.x = b64url(member(doc, "x"));
  }
  if (doc.HasMember("kid")) p.kid = member(doc, "kid");
  return p;
}

// Keys are generated once per algorithm (RSA generation is slow under ASan).
const SigningKey& key_for(Alg alg) {
  static std::vector<std::pair<Alg, SigningKey>> cache;
  for (const auto& [a, k] : cache) {
    if (a == alg) return k;
  }
  Result<SigningKey> k = SigningKey::generate(alg);
  REQUIRE(k.ok());
  cache.emplace_back(alg, std::move(k.value()));
  return cache.back().second;
}

std::size_t expected_size(Alg alg) {
  switch (alg) {
    case Alg::ES256: return 64;
    case Alg::ES384: return 96;
    case Alg::ES512: return 132;
    case Alg::EdDSA: return 64;
    default: return 256;  // RSA 2048
  }
}

TEST_CASE("generate -> public JWK -> verification key -> signature verifies, for every algorithm") {
  for (Alg alg : kAsymmetric) {
    SUBCASE(std::string(name(alg)).c_str()) {
      const SigningKey& key = key_for(alg);
      CHECK(key.fits(alg));
      Result<JwkParams> pub = key.public_params();
      REQUIRE(pub.ok());
      pub->alg = alg;
      pub->kid = "k1";
      Result<std::string> json = public_jwk_json(*pub);
      REQUIRE(json.ok());
      CHECK(json->find(std::string("\"alg\":\"") + std::string(name(alg)) + "\"") != std::string::npos);
      JwkParams read = read_jwk(*json);
      CHECK(read.kid == std::optional<std::string>("k1"));
      read.alg = alg;
      Result<KeyPtr> vk = build_verification_key(read);
      REQUIRE_MESSAGE(vk.ok(), (vk.ok() ? "" : vk.error().message));

      Result<std::string> sig = key.sign(alg, kInput);
      REQUIRE(sig.ok());
      CHECK(sig->size() == expected_size(alg));
      CHECK(verify_signature(alg, **vk, kInput, *sig) == AuthStatus::Ok);
      CHECK(verify_signature(alg, **vk, "x.y", *sig) == AuthStatus::JwtSignatureInvalid);
      CHECK(verify_signature(alg, **vk, kInput, flip_bit(*sig, 5)) != AuthStatus::Ok);
    }
  }
}

TEST_CASE("generate picks the key type the algorithm needs") {
  struct Row {
    Alg alg;
    KeyType kty;
    Curve crv;
    Alg default_alg;
  };
  const Row rows[] = {
      {Alg::RS256, KeyType::RSA, Curve::None, Alg::RS256}, {Alg::PS512, KeyType::RSA, Curve::None, Alg::RS256},
      {Alg::ES256, KeyType::EC, Curve::P256, Alg::ES256},  {Alg::ES384, KeyType::EC, Curve::P384, Alg::ES384},
      {Alg::ES512, KeyType::EC, Curve::P521, Alg::ES512},  {Alg::EdDSA, KeyType::OKP, Curve::Ed25519, Alg::EdDSA},
  };
  for (const Row& r : rows) {
    SUBCASE(std::string(name(r.alg)).c_str()) {
      const SigningKey& key = key_for(r.alg);
      CHECK(key.kty() == r.kty);
      CHECK(key.curve() == r.crv);
      CHECK(key.default_alg() == r.default_alg);
      Result<JwkParams> p = key.public_params();
      REQUIRE(p.ok());
      if (r.kty == KeyType::RSA) {
        CHECK(p->n.size() == 256);
        CHECK(p->e == std::string("\x01\x00\x01", 3));
      } else if (r.kty == KeyType::EC) {
        CHECK(p->x.size() == coord_size(r.crv));
        CHECK(p->y.size() == coord_size(r.crv));
      } else {
        CHECK(p->x.size() == 32);
      }
    }
  }
}

TEST_CASE("ECDSA signatures are always raw R || S of exactly twice the coordinate size") {
  // About 1 in 256 signatures has an R or S with a leading zero byte: padding must hold.
  for (Alg alg : {Alg::ES256, Alg::ES384, Alg::ES512}) {
    SUBCASE(std::string(name(alg)).c_str()) {
      const SigningKey& key = key_for(alg);
      Result<JwkParams> pub = key.public_params();
      REQUIRE(pub.ok());
      Result<KeyPtr> vk = build_verification_key(*pub);
      REQUIRE(vk.ok());
      int ok = 0;
      for (int i = 0; i < 300; ++i) {
        const std::string input = std::string(kInput) + std::to_string(i);
        Result<std::string> sig = key.sign(alg, input);
        REQUIRE(sig.ok());
        REQUIRE(sig->size() == expected_size(alg));
        ok += verify_signature(alg, **vk, input, *sig) == AuthStatus::Ok;
      }
      CHECK(ok == 300);
    }
  }
}

TEST_CASE("PS* signatures use a salt as long as the hash") {
  for (Alg alg : {Alg::PS256, Alg::PS384, Alg::PS512}) {
    SUBCASE(std::string(name(alg)).c_str()) {
      const SigningKey& key = key_for(alg);
      Result<std::string> sig = key.sign(alg, kInput);
      REQUIRE(sig.ok());
      Result<std::string> pem = key.public_pem();
      REQUIRE(pem.ok());
      // Verify independently with an explicit salt length: only the hash length passes.
      BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
      Pkey pub(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr));
      BIO_free(bio);
      REQUIRE(pub);
      auto verify_with_salt = [&](int salt) {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX* pctx = nullptr;
        bool ok = EVP_DigestVerifyInit_ex(ctx, &pctx, md_name(alg), nullptr, nullptr, pub.get(), nullptr) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                                   reinterpret_cast<const unsigned char*>(kInput.data()), kInput.size()) == 1;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return ok;
      };
      const int hash = static_cast<int>(EVP_MD_get_size(EVP_get_digestbyname(md_name(alg))));
      CHECK(verify_with_salt(hash));
      CHECK_FALSE(verify_with_salt(hash == 32 ? 48 : 32));
    }
  }
}

TEST_CASE("a key survives PEM: same thumbprint, and its signatures verify with the original JWK") {
  for (Alg alg : {Alg::RS256, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA}) {
    SUBCASE(std::string(name(alg)).c_str()) {
      const SigningKey& key = key_for(alg);
      Result<std::string> pem = key.private_pem();
      REQUIRE(pem.ok());
      CHECK(pem->starts_with("-----BEGIN PRIVATE KEY-----\n"));
      Result<SigningKey> again = SigningKey::from_pem(*pem);
      REQUIRE(again.ok());
      CHECK(again->kty() == key.kty());
      CHECK(again->curve() == key.curve());
      CHECK(*again->thumbprint() == *key.thumbprint());
      Result<std::string> pub_pem = key.public_pem();
      REQUIRE(pub_pem.ok());
      CHECK(pub_pem->starts_with("-----BEGIN PUBLIC KEY-----\n"));
      Result<KeyPtr> vk = build_verification_key(*key.public_params());
      REQUIRE(vk.ok());
      Result<std::string> sig = again->sign(alg, kInput);
      REQUIRE(sig.ok());
      CHECK(verify_signature(alg, **vk, kInput, *sig) == AuthStatus::Ok);
    }
  }
}

TEST_CASE("traditional (non-PKCS#8) PEM private keys load too") {
  Pkey ec = generate("EC", "P-384");
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey_traditional(bio, ec.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  SUBCASE("alone") {
    Result<SigningKey> k = SigningKey::from_pem(pem);
    REQUIRE(k.ok());
    CHECK(k->curve() == Curve::P384);
    CHECK(k->default_alg() == Alg::ES384);
  }
  SUBCASE("after an EC PARAMETERS block, as `openssl ecparam -genkey` writes") {
    const std::string params = "-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n";
    Result<SigningKey> k = SigningKey::from_pem(params + pem);
    REQUIRE(k.ok());
    CHECK(k->curve() == Curve::P384);
  }
}

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

TEST_CASE("from_pem refuses what it cannot sign with, without quoting the input") {
  const std::string secretish = "-----BEGIN PRIVATE KEY-----\nTUlJQ2RnSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBbUF3\n-----END PRIVATE KEY-----\n";
  struct Row {
    const char* name;
    std::string pem;
    const char* message;
  };
  const Row rows[] = {
      {"empty", "", "no PEM private key found"},
      {"over 1 MiB", std::string((1u << 20) + 1, 'A'), "PEM text is larger than 1 MiB"},
      {"garbage", "hello", "no PEM private key found"},
      {"public key", *key_for(Alg::ES256).public_pem(), "this is a public key; a private key is needed"},
      {"encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
       "encrypted private keys are not supported"},
      {"corrupt body", secretish, "the PEM private key could not be read"},
      {"RSA 1024", pem_of(rsa_key(1024)), "RSA key is smaller than 2048 bits"},
      {"secp256k1", pem_of(generate("EC", "secp256k1").get()),
       "EC key on an unsupported curve (want P-256, P-384 or P-521)"},
      {"X25519", pem_of(generate("X25519", nullptr).get()),
       "unsupported key type (want RSA, EC P-256/P-384/P-521 or Ed25519)"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      Result<SigningKey> k = SigningKey::from_pem(r.pem);
      REQUIRE_FALSE(k.ok());
      CHECK(k.error().message == r.message);
      CHECK(ERR_peek_error() == 0);
    }
  }
}

TEST_CASE("sign refuses an algorithm that does not fit the key") {
  struct Row {
    Alg key_alg;
    Alg sign_alg;
  };
  const Row rows[] = {{Alg::ES256, Alg::RS256}, {Alg::ES256, Alg::ES384}, {Alg::ES512, Alg::ES256},
                      {Alg::RS256, Alg::ES256}, {Alg::RS256, Alg::EdDSA}, {Alg::EdDSA, Alg::ES256},
                      {Alg::RS256, Alg::HS256}, {Alg::ES256, Alg::HS512}};
  for (const Row& r : rows) {
    SUBCASE((std::string(name(r.key_alg)) + " key, " + std::string(name(r.sign_alg))).c_str()) {
      const SigningKey& key = key_for(r.key_alg);
      CHECK_FALSE(key.fits(r.sign_alg));
      Result<std::string> sig = key.sign(r.sign_alg, kInput);
      REQUIRE_FALSE(sig.ok());
      CHECK(sig.error().message == std::string(name(r.sign_alg)) + " cannot be used with this key");
    }
  }
}

TEST_CASE("generate refuses HMAC algorithms") {
  for (Alg alg : {Alg::HS256, Alg::HS384, Alg::HS512}) {
    SUBCASE(std::string(name(alg)).c_str()) {
      Result<SigningKey> k = SigningKey::generate(alg);
      REQUIRE_FALSE(k.ok());
      CHECK(k.error().message == std::string(name(alg)) + " uses a shared secret, not a key pair");
    }
  }
}

TEST_CASE("hmac_sign round-trips through build_hmac_key and verify_signature") {
  const std::string secret(64, 'k');
  for (Alg alg : {Alg::HS256, Alg::HS384, Alg::HS512}) {
    SUBCASE(std::string(name(alg)).c_str()) {
      Result<std::string> mac = hmac_sign(alg, secret, kInput);
      REQUIRE(mac.ok());
      CHECK(*mac == hmac(alg, secret, kInput));
      Result<KeyPtr> key = build_hmac_key(secret, std::nullopt);
      REQUIRE(key.ok());
      CHECK(verify_signature(alg, **key, kInput, *mac) == AuthStatus::Ok);
    }
  }
}

TEST_CASE("hmac_sign refuses short secrets and non-HMAC algorithms") {
  struct Row {
    const char* name;
    Alg alg;
    std::size_t secret_size;
    const char* message;
  };
  const Row rows[] = {
      {"HS256 31 bytes", Alg::HS256, 31, "HS256 needs a secret of at least 32 bytes"},
      {"HS256 empty", Alg::HS256, 0, "HS256 needs a secret of at least 32 bytes"},
      {"HS384 47 bytes", Alg::HS384, 47, "HS384 needs a secret of at least 48 bytes"},
      {"HS512 63 bytes", Alg::HS512, 63, "HS512 needs a secret of at least 64 bytes"},
      {"RS256", Alg::RS256, 64, "RS256 is not an HMAC algorithm"},
      {"EdDSA", Alg::EdDSA, 64, "EdDSA is not an HMAC algorithm"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      Result<std::string> mac = hmac_sign(r.alg, std::string(r.secret_size, 's'), kInput);
      REQUIRE_FALSE(mac.ok());
      CHECK(mac.error().message == r.message);
    }
  }
}

TEST_CASE("RFC 7638 and RFC 8037 thumbprint vectors") {
  SUBCASE("RFC 7638 section 3.1 RSA key") {
    JwkParams p;
    p.kty = KeyType::RSA;
    p.n = b64url(
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
        "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajr"
        "n1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw");
    p.e = b64url("AQAB");
    p.kid = "2011-04-29";  // not part of the thumbprint
    p.alg = Alg::RS256;
    Result<std::string> t = jwk_thumbprint(p);
    REQUIRE(t.ok());
    CHECK(*t == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  }
  SUBCASE("RFC 8037 appendix A.3 Ed25519 key") {
    JwkParams p;
    p.kty = KeyType::OKP;
    p.crv = Curve::Ed25519;
    p.x = b64url("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    Result<std::string> t = jwk_thumbprint(p);
    REQUIRE(t.ok());
    CHECK(*t == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  }
}

TEST_CASE("thumbprint and JWK export refuse keys without a public form") {
  struct Row {
    const char* name;
    KeyType kty;
    Curve crv;
    const char* message;
  };
  const Row rows[] = {
      {"oct", KeyType::Oct, Curve::None, "symmetric keys have no public JWK"},
      {"EC without curve", KeyType::EC, Curve::None, "EC key with an unsupported curve"},
      {"EC on Ed25519", KeyType::EC, Curve::Ed25519, "EC key with an unsupported curve"},
      {"OKP on P-256", KeyType::OKP, Curve::P256, "OKP key with an unsupported curve"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      JwkParams p;
      p.kty = r.kty;
      p.crv = r.crv;
      p.x = "secret-ish";
      Result<std::string> t = jwk_thumbprint(p);
      REQUIRE_FALSE(t.ok());
      CHECK(t.error().message == r.message);
      Result<std::string> j = public_jwk_json(p);
      REQUIRE_FALSE(j.ok());
      CHECK(j.error().message == r.message);
    }
  }
}

TEST_CASE("public_jwk_json escapes the kid and omits what is unset") {
  JwkParams p = *key_for(Alg::EdDSA).public_params();
  SUBCASE("no alg, no kid") {
    const std::string json = *public_jwk_json(p);
    CHECK(json.find("\"alg\"") == std::string::npos);
    CHECK(json.find("\"kid\"") == std::string::npos);
    CHECK(json.find("\"use\":\"sig\"") != std::string::npos);
  }
  SUBCASE("a kid with quotes, backslashes and control characters") {
    p.kid = std::string("a\"b\\c\n\x01", 7);
    rapidjson::Document doc;
    const std::string json = *public_jwk_json(p);
    doc.Parse(json.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(member(doc, "kid") == *p.kid);
  }
  SUBCASE("the thumbprint of the generated key matches its JWK") {
    const std::string json = *public_jwk_json(p);
    CHECK(*jwk_thumbprint(read_jwk(json)) == *key_for(Alg::EdDSA).thumbprint());
  }
}

}  // namespace
}  // namespace portcullis::auth::crypto
