#include "auth/crypto/verification_key.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string_view>

#include "auth/crypto/alg_traits.h"
#include "auth/crypto/curves.h"
#include "auth/crypto/openssl_handles.h"
#include "auth/crypto/verify_template.h"

namespace portcullis::auth::crypto {

void VerificationKey::PkeyFree::operator()(evp_pkey_st* pkey) const { EVP_PKEY_free(pkey); }
void VerificationKey::MdCtxFree::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }
void VerificationKey::MacCtxFree::operator()(evp_mac_ctx_st* ctx) const { EVP_MAC_CTX_free(ctx); }

VerificationKey::~VerificationKey() = default;

bool VerificationKey::fits(Alg alg) const {
  if (m_.alg && *m_.alg != alg) return false;
  if (!kind_fits(alg, m_.kty, m_.curve)) return false;
  // A secret shorter than the hash would weaken HS384/HS512 (RFC 7518 §3.2).
  return traits(alg).family != Family::Hmac || m_.secret_size >= traits(alg).hash_size;
}

namespace {

// Bounds that keep a hostile or broken JWKS from making verification slow or trivial.
using ossl::bytes;
using ossl::fail;
using ossl::kEd25519KeySize;
using ossl::kMinRsaBits;

constexpr int kMaxRsaBits = 8192;
constexpr std::size_t kMaxRsaExponentBytes = 4;  // e < 2^32, as Go and others require
constexpr std::size_t kMinHmacSecret = 32;
constexpr std::size_t kEd25519SignatureSize = 64;

using Material = VerificationKey::Material;

std::string_view kty_name(KeyType kty) {
  switch (kty) {
    case KeyType::RSA: return "RSA";
    case KeyType::EC: return "EC";
    case KeyType::OKP: return "OKP";
    case KeyType::Oct: return "oct";
  }
  return "?";
}

std::string_view strip_leading_zeros(std::string_view v) {
  const std::size_t first = v.find_first_not_of('\0');
  return first == std::string_view::npos ? std::string_view() : v.substr(first);
}

bool all_zero(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return c == '\0'; });
}

// a < b for equal-length big-endian numbers.
bool less_than(std::string_view a, std::span<const unsigned char> b) {
  return std::lexicographical_compare(bytes(a), bytes(a) + a.size(), b.begin(), b.end());
}

// Imports public key parameters into a provider-native EVP_PKEY (no deprecated RSA/EC_KEY).
ossl::Pkey from_data(const char* type, OSSL_PARAM_BLD* bld) {
  ossl::Params params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    EVP_PKEY_free(pkey);
    ERR_clear_error();  // leave no stale errors for TLS code on this thread
    return nullptr;
  }
  return ossl::Pkey(pkey);
}

Result<Material> build_rsa(const JwkParams& p) {
  const std::string_view n = strip_leading_zeros(p.n);
  const std::string_view e = strip_leading_zeros(p.e);
  if (n.empty()) return fail("RSA modulus is missing or zero");
  const int bits = static_cast<int>((n.size() - 1) * 8) +
                   std::bit_width(static_cast<unsigned>(static_cast<unsigned char>(n[0])));
  if (bits < kMinRsaBits) {
    return fail("RSA modulus is " + std::to_string(bits) + " bits; at least 2048 are required");
  }
  if (bits > kMaxRsaBits) {
    return fail("RSA modulus is " + std::to_string(bits) + " bits; at most 8192 are accepted");
  }
  if ((static_cast<unsigned char>(n.back()) & 1) == 0) return fail("RSA modulus is even");
  if (e.empty()) return fail("RSA exponent is missing or zero");
  if (e.size() > kMaxRsaExponentBytes) return fail("RSA exponent is larger than 32 bits");
  std::uint32_t e_value = 0;
  for (char c : e) e_value = (e_value << 8) | static_cast<unsigned char>(c);
  if (e_value < 3) return fail("RSA exponent " + std::to_string(e_value) + " is too small");
  if (e_value % 2 == 0) return fail("RSA exponent " + std::to_string(e_value) + " is even");

  ossl::Bignum bn_n(BN_bin2bn(bytes(n), static_cast<int>(n.size()), nullptr));
  ossl::Bignum bn_e(BN_bin2bn(bytes(e), static_cast<int>(e.size()), nullptr));
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    ERR_clear_error();
    return fail("RSA key could not be built (out of memory)");
  }
  ossl::Pkey pkey = from_data("RSA", bld.get());
  if (!pkey) return fail("RSA key was refused by OpenSSL");

  Material m;
  m.bits = bits;
  m.signature_size = n.size();  // RFC 8017 §8.2.2: the signature is exactly k octets
  m.pkey.reset(pkey.release());
  return m;
}

Result<Material> build_ec(const JwkParams& p) {
  const CurveInfo* info = curve_info(p.crv);
  if (info == nullptr) return fail("unsupported curve for an EC key (want P-256, P-384 or P-521)");
  const std::size_t size = info->coord_size;
  if (p.x.size() != size || p.y.size() != size) {
    return fail("EC coordinates must be exactly " + std::to_string(size) + " bytes for this curve");
  }
  if (all_zero(p.x) && all_zero(p.y)) return fail("EC point is the point at infinity");
  if (!less_than(p.x, info->prime()) || !less_than(p.y, info->prime())) {
    return fail("EC coordinate is not below the field prime");
  }
  std::string point;
  point.reserve(1 + 2 * size);
  point.push_back('\x04');  // uncompressed SEC1 encoding
  point.append(p.x).append(p.y);

  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, info->group_name, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
    ERR_clear_error();
    return fail("EC key could not be built (out of memory)");
  }
  ossl::Pkey pkey = from_data("EC", bld.get());
  if (!pkey) return fail("EC point is not on the curve");
  // Full public-key validation (SP 800-56A 5.6.2.3.3): on the curve, not infinity, order n.
  ossl::PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return fail("EC point failed public-key validation");
  }

  Material m;
  m.bits = info->bits;
  m.signature_size = 2 * size;
  m.pkey.reset(pkey.release());
  return m;
}

// The y coordinates (little-endian, as in the encoding) of the eight Ed25519 points of small
// order: 0 and 1 (orders 4 and 1), p - 1 (order 2) and the two of order 8. Under a public key
// of small order, R = the identity and S = 0 is a valid signature of every message (OpenSSL
// 3.0 accepts it; RFC 8032 §5.1.7 does not exclude such keys, libsodium does), so one such key
// in a JWKS would let anyone forge tokens. Refused with either sign bit.
constexpr unsigned char kSmallOrderY[][kEd25519KeySize] = {
    {0x00},
    {0x01},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};

// y >= p = 2^255 - 19: a non-canonical encoding (RFC 8032 §5.1.3 says decoding fails; OpenSSL
// reduces it instead), which an honest key never has.
bool ed25519_y_non_canonical(const unsigned char* a) {
  if ((a[31] & 0x7f) != 0x7f || a[0] < 0xed) return false;
  return std::all_of(a + 1, a + 31, [](unsigned char b) { return b == 0xff; });
}

bool ed25519_small_order(const unsigned char* a) {
  return std::any_of(std::begin(kSmallOrderY), std::end(kSmallOrderY), [&](const unsigned char(&y)[kEd25519KeySize]) {
    return std::equal(a, a + 31, y) && (a[31] & 0x7f) == y[31];
  });
}

Result<Material> build_okp(const JwkParams& p) {
  if (p.crv != Curve::Ed25519) return fail("unsupported curve for an OKP key (want Ed25519)");
  if (p.x.size() != kEd25519KeySize) return fail("Ed25519 x must be exactly 32 bytes");
  const auto* a = reinterpret_cast<const unsigned char*>(p.x.data());
  if (ed25519_y_non_canonical(a)) return fail("Ed25519 x is a non-canonical encoding");
  if (ed25519_small_order(a)) return fail("Ed25519 x is a point of small order (a forgeable key)");
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, p.x.data(), p.x.size())) {
    ERR_clear_error();
    return fail("Ed25519 key could not be built (out of memory)");
  }
  ossl::Pkey pkey = from_data("ED25519", bld.get());
  if (!pkey) return fail("Ed25519 key was refused by OpenSSL");

  Material m;
  m.bits = 256;
  m.signature_size = kEd25519SignatureSize;
  m.pkey.reset(pkey.release());
  return m;
}

constexpr Alg kAsymmetricAlgs[] = {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384,
                                    Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA};

// Prepares the verification context of every algorithm this key can ever be used with.
bool prepare_templates(Material& m) {
  for (Alg alg : kAsymmetricAlgs) {
    if (!kind_fits(alg, m.kty, m.curve) || (m.alg && *m.alg != alg)) continue;
    EVP_MD_CTX* ctx = new_verify_template(alg, m.pkey.get());
    if (ctx == nullptr) return false;
    m.verify[verify_slot(alg)].reset(ctx);
  }
  return true;
}

}  // namespace

Result<KeyPtr> build_verification_key(const JwkParams& params) {
  if (params.kty == KeyType::Oct) {
    // An HMAC key from a JWKS is the algorithm-confusion door (CVE-2015-9235 and kin).
    return fail("symmetric (oct) keys are never accepted from a JWKS");
  }
  if (params.alg && !kind_fits(*params.alg, params.kty, params.crv)) {
    return fail(std::string("key alg ") + std::string(traits(*params.alg).name) +
                " does not fit a kty " + std::string(kty_name(params.kty)) + " key of this curve");
  }
  Result<Material> built = params.kty == KeyType::RSA  ? build_rsa(params)
                           : params.kty == KeyType::EC ? build_ec(params)
                                                       : build_okp(params);
  if (!built) return built.error();
  Material m = std::move(built).value();
  m.kty = params.kty;
  m.curve = params.kty == KeyType::RSA ? Curve::None : params.crv;
  m.alg = params.alg;
  m.kid = params.kid;
  if (!prepare_templates(m)) return fail("OpenSSL could not prepare verification for this key");
  return KeyPtr(new VerificationKey(std::move(m)));
}

Result<KeyPtr> build_hmac_key(std::string secret, std::optional<std::string> kid) {
  struct Cleanse {  // the secret's only plaintext copy outside OpenSSL dies here
    std::string& s;
    ~Cleanse() { OPENSSL_cleanse(s.data(), s.size()); }
  } cleanse{secret};
  if (secret.size() < kMinHmacSecret) {
    return fail("HMAC secret is " + std::to_string(secret.size()) +
                " bytes; at least 32 are required");
  }
  Material m;
  m.kty = KeyType::Oct;
  m.kid = std::move(kid);
  m.bits = static_cast<int>(secret.size() * 8);
  m.secret_size = secret.size();

  std::unique_ptr<EVP_MAC, ossl::Deleter<EVP_MAC, EVP_MAC_free>> mac(
      EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) {
    ERR_clear_error();
    return fail("HMAC is unavailable in this OpenSSL");
  }
  // One keyed context per usable hash; each verification duplicates one, so the key
  // schedule (ipad/opad) is computed here, once.
  for (Hash hash : {Hash::Sha256, Hash::Sha384, Hash::Sha512}) {
    const std::size_t hash_size = hash == Hash::Sha256 ? 32 : hash == Hash::Sha384 ? 48 : 64;
    if (secret.size() < hash_size) continue;
    std::string digest(hash_name(hash));
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
        OSSL_PARAM_construct_end()};
    ossl::MacCtx ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx || EVP_MAC_init(ctx.get(), bytes(secret), secret.size(), params) != 1) {
      ERR_clear_error();
      return fail("HMAC key could not be built");
    }
    m.hmac[static_cast<int>(hash)].reset(ctx.release());
  }
  return KeyPtr(new VerificationKey(std::move(m)));
}

}  // namespace portcullis::auth::crypto
