#include "auth/crypto/signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "auth/crypto/alg_traits.h"
#include "auth/crypto/curves.h"
#include "auth/crypto/openssl_handles.h"

namespace portcullis::auth::crypto {

namespace {

using ossl::bytes;
using ossl::fail;
using ossl::kEd25519KeySize;
using ossl::kMinRsaBits;

constexpr std::size_t kGeneratedRsaBits = 2048;
constexpr std::size_t kMaxPemBytes = 1u << 20;  // far above any key; keeps the BIO's int length sane

using Bio = std::unique_ptr<BIO, ossl::Deleter<BIO, BIO_free_all>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, ossl::Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

// auth/base64url.cc lives in another module (it links against this one), hence a local copy
// of the encoder. Encoding only: nothing here parses attacker input.
std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  const unsigned char* p = bytes(in);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void append_member(std::string& out, std::string_view name, std::string_view value) {
  if (out.size() > 1) out.push_back(',');
  append_json_string(out, name);
  out.push_back(':');
  append_json_string(out, value);
}

std::optional<std::string_view> jwk_curve_name(Curve crv) {
  switch (crv) {
    case Curve::P256: return "P-256";
    case Curve::P384: return "P-384";
    case Curve::P521: return "P-521";
    case Curve::Ed25519: return "Ed25519";
    case Curve::None: break;
  }
  return std::nullopt;
}

// The required members of RFC 7638 §3.2, already in lexicographic order, so that the same
// sequence serves the thumbprint and (followed by alg, use, kid) the published JWK.
Result<std::string> required_members(const JwkParams& p) {
  std::string out = "{";
  switch (p.kty) {
    case KeyType::RSA:
      append_member(out, "e", base64url(p.e));
      append_member(out, "kty", "RSA");
      append_member(out, "n", base64url(p.n));
      return out;
    case KeyType::EC: {
      const auto crv = jwk_curve_name(p.crv);
      if (!crv || p.crv == Curve::Ed25519) return fail("EC key with an unsupported curve");
      append_member(out, "crv", *crv);
      append_member(out, "kty", "EC");
      append_member(out, "x", base64url(p.x));
      append_member(out, "y", base64url(p.y));
      return out;
    }
    case KeyType::OKP:
      if (p.crv != Curve::Ed25519) return fail("OKP key with an unsupported curve");
      append_member(out, "crv", "Ed25519");
      append_member(out, "kty", "OKP");
      append_member(out, "x", base64url(p.x));
      return out;
    case KeyType::Oct: break;
  }
  return fail("symmetric keys have no public JWK");
}

std::string bn_bytes(const BIGNUM* bn, int pad_to) {
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (pad_to > 0) {
    BN_bn2binpad(bn, o, pad_to);
  } else {
    BN_bn2bin(bn, o);
  }
  return out;
}

std::optional<std::string> bn_param(const EVP_PKEY* pkey, const char* name, int pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return std::nullopt;
  ossl::Bignum bn(raw);
  if (pad_to > 0 && BN_num_bytes(bn.get()) > pad_to) return std::nullopt;
  return bn_bytes(bn.get(), pad_to);
}

std::optional<Curve> ec_curve(const EVP_PKEY* pkey) {
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
    return std::nullopt;
  }
  const std::string_view n(name, len);
  if (n == "prime256v1" || n == "P-256" || n == "secp256r1") return Curve::P256;
  if (n == "secp384r1" || n == "P-384") return Curve::P384;
  if (n == "secp521r1" || n == "P-521") return Curve::P521;
  return std::nullopt;
}

// DER ECDSA-Sig-Value -> raw R || S, each left-padded to the coordinate size (RFC 7518 §3.4).
Result<std::string> der_to_raw(std::string_view der, std::size_t coord_size) {
  const unsigned char* p = bytes(der);
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return fail("ECDSA signature could not be decoded");
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  const int size = static_cast<int>(coord_size);
  if (BN_num_bytes(r) > size || BN_num_bytes(s) > size) return fail("ECDSA signature is out of range");
  return bn_bytes(r, size) + bn_bytes(s, size);
}

// Refuses prompting for a passphrase: a dev tool must not hang on an encrypted key.
int no_passphrase(char*, int, int, void*) { return -1; }

}  // namespace

Result<std::string> jwk_thumbprint(const JwkParams& params) {
  Result<std::string> json = required_members(params);
  if (!json) return json.error();
  json->push_back('}');
  std::array<unsigned char, 32> digest{};
  std::size_t len = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, json->data(), json->size(), digest.data(), &len) != 1 ||
      len != digest.size()) {
    return fail("SHA-256 is unavailable");
  }
  return base64url(std::string_view(reinterpret_cast<const char*>(digest.data()), len));
}

Result<std::string> public_jwk_json(const JwkParams& params) {
  Result<std::string> json = required_members(params);
  if (!json) return json.error();
  if (params.alg) append_member(*json, "alg", traits(*params.alg).name);
  append_member(*json, "use", "sig");
  if (params.kid) append_member(*json, "kid", *params.kid);
  json->push_back('}');
  return json;
}

void SigningKey::PkeyFree::operator()(evp_pkey_st* pkey) const { EVP_PKEY_free(pkey); }

SigningKey::SigningKey(evp_pkey_st* pkey, KeyType kty, Curve curve) : pkey_(pkey), kty_(kty), curve_(curve) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

Result<SigningKey> SigningKey::adopt(evp_pkey_st* raw) {
  ossl::Pkey pkey(raw);
  if (EVP_PKEY_is_a(raw, "RSA")) {
    if (EVP_PKEY_get_bits(raw) < kMinRsaBits) return fail("RSA key is smaller than 2048 bits");
    return SigningKey(pkey.release(), KeyType::RSA, Curve::None);
  }
  if (EVP_PKEY_is_a(raw, "EC")) {
    const std::optional<Curve> crv = ec_curve(raw);
    if (!crv) return fail("EC key on an unsupported curve (want P-256, P-384 or P-521)");
    return SigningKey(pkey.release(), KeyType::EC, *crv);
  }
  if (EVP_PKEY_is_a(raw, "ED25519")) return SigningKey(pkey.release(), KeyType::OKP, Curve::Ed25519);
  return fail("unsupported key type (want RSA, EC P-256/P-384/P-521 or Ed25519)");
}

Result<SigningKey> SigningKey::generate(Alg alg) {
  const AlgTraits t = traits(alg);
  EVP_PKEY* pkey = nullptr;
  switch (t.family) {
    case Family::RsaPkcs1:
    case Family::RsaPss: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", kGeneratedRsaBits); break;
    case Family::Ecdsa: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve_info(t.curve)->group_name); break;
    case Family::EdDsa: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    case Family::Hmac: return fail(std::string(t.name) + " uses a shared secret, not a key pair");
  }
  if (pkey == nullptr) return fail("key generation failed for " + std::string(t.name));
  return adopt(pkey);
}

Result<SigningKey> SigningKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return fail("PEM text is larger than 1 MiB");
  if (pem.find("ENCRYPTED") != std::string_view::npos) return fail("encrypted private keys are not supported");
  if (pem.find("PRIVATE KEY-----") == std::string_view::npos) {
    if (pem.find("PUBLIC KEY-----") != std::string_view::npos) return fail("this is a public key; a private key is needed");
    return fail("no PEM private key found");
  }
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail("out of memory");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, no_passphrase, nullptr, nullptr, nullptr);
  if (pkey == nullptr) return fail("the PEM private key could not be read");
  return adopt(pkey);
}

Alg SigningKey::default_alg() const {
  switch (kty_) {
    case KeyType::EC: return curve_ == Curve::P384 ? Alg::ES384 : curve_ == Curve::P521 ? Alg::ES512 : Alg::ES256;
    case KeyType::OKP: return Alg::EdDSA;
    case KeyType::RSA:
    case KeyType::Oct: break;
  }
  return Alg::RS256;
}

bool SigningKey::fits(Alg alg) const { return traits(alg).family != Family::Hmac && kind_fits(alg, kty_, curve_); }

Result<std::string> SigningKey::private_pem() const {
  Bio bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail("the private key could not be written as PEM");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<std::string> SigningKey::public_pem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) return fail("the public key could not be written as PEM");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<JwkParams> SigningKey::public_params() const {
  JwkParams p;
  p.kty = kty_;
  p.crv = curve_;
  switch (kty_) {
    case KeyType::RSA: {
      auto n = bn_param(pkey_.get(), OSSL_PKEY_PARAM_RSA_N, 0);
      auto e = bn_param(pkey_.get(), OSSL_PKEY_PARAM_RSA_E, 0);
      if (!n || !e) return fail("the RSA public key could not be read");
      p.n = std::move(*n);
      p.e = std::move(*e);
      return p;
    }
    case KeyType::EC: {
      const int size = static_cast<int>(curve_info(curve_)->coord_size);
      auto x = bn_param(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_X, size);
      auto y = bn_param(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, size);
      if (!x || !y) return fail("the EC public key could not be read");
      p.x = std::move(*x);
      p.y = std::move(*y);
      return p;
    }
    case KeyType::OKP: {
      p.x.assign(kEd25519KeySize, '\0');
      std::size_t len = p.x.size();
      if (EVP_PKEY_get_raw_public_key(pkey_.get(), reinterpret_cast<unsigned char*>(p.x.data()), &len) != 1 ||
          len != kEd25519KeySize) {
        return fail("the Ed25519 public key could not be read");
      }
      return p;
    }
    case KeyType::Oct: break;
  }
  return fail("unsupported key type");
}

Result<std::string> SigningKey::thumbprint() const {
  Result<JwkParams> p = public_params();
  if (!p) return p.error();
  return jwk_thumbprint(*p);
}

Result<std::string> SigningKey::sign(Alg alg, std::string_view signing_input) const {
  const AlgTraits t = traits(alg);
  if (!fits(alg)) return fail(std::string(t.name) + " cannot be used with this key");
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const char* md = t.family == Family::EdDsa ? nullptr : hash_name(t.hash).data();
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, pkey_.get(), nullptr) != 1) {
    return fail("signing could not start for " + std::string(t.name));
  }
  if (t.family == Family::RsaPss &&
      (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return fail("RSA-PSS parameters were refused");
  }
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, bytes(signing_input), signing_input.size()) != 1) {
    return fail("signing failed for " + std::string(t.name));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(signing_input),
                     signing_input.size()) != 1) {
    return fail("signing failed for " + std::string(t.name));
  }
  sig.resize(len);
  if (t.family == Family::Ecdsa) return der_to_raw(sig, curve_info(t.curve)->coord_size);
  return sig;
}

Result<std::string> hmac_sign(Alg alg, std::string_view secret, std::string_view signing_input) {
  const AlgTraits t = traits(alg);
  if (t.family != Family::Hmac) return fail(std::string(t.name) + " is not an HMAC algorithm");
  if (secret.size() < t.hash_size) {
    return fail(std::string(t.name) + " needs a secret of at least " + std::to_string(t.hash_size) + " bytes");
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, hash_name(t.hash).data(), nullptr, secret.data(), secret.size(),
                bytes(signing_input), signing_input.size(), out.data(), out.size(), &len) == nullptr) {
    return fail("HMAC failed for " + std::string(t.name));
  }
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

}  // namespace portcullis::auth::crypto
