// Fuzz target: JWKS documents as a discovery/JWKS fetch or a jwks_file hands them over:
// the JSON-level hygiene of auth/jwks.h, then the OpenSSL keys KeySet builds (RSA size and
// exponent, ROCA, EC points on their curve, Ed25519 lengths).
//
// Differentials: KeySet refuses exactly the documents parse_jwks refuses; a key that loads
// has a unique kid that finds it, and fits exactly the algorithms the JSON-level rule says;
// every usable key, written out as a public JWK (the `keys generate` path) and parsed again,
// gives back the same parameters and the same RFC 7638 thumbprint.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/crypto/signer.h"
#include "auth/jwks.h"
#include "auth/key_set.h"
#include "fuzz_check.h"

namespace auth = portcullis::auth;

namespace {

constexpr size_t kMaxBytes = 1 << 20;  // the default jwks_max_bytes

constexpr auth::Alg kAllAlgs[] = {auth::Alg::RS256, auth::Alg::RS384, auth::Alg::RS512, auth::Alg::PS256,
                                  auth::Alg::PS384, auth::Alg::PS512, auth::Alg::ES256, auth::Alg::ES384,
                                  auth::Alg::ES512, auth::Alg::EdDSA, auth::Alg::HS256, auth::Alg::HS384,
                                  auth::Alg::HS512};

bool same_params(const auth::JwkParams& a, const auth::JwkParams& b) {
  return a.kid == b.kid && a.kty == b.kty && a.alg == b.alg && a.crv == b.crv && a.n == b.n && a.e == b.e &&
         a.x == b.x && a.y == b.y;
}

void check_usable_key(const auth::JwkParams& params, const auth::JwksParseResult& parsed) {
  FUZZ_CHECK(params.kty != auth::KeyType::Oct);
  if (params.alg) FUZZ_CHECK(auth::key_fits_alg(params, *params.alg) && !auth::is_hmac(*params.alg));
  for (const std::string& kid : parsed.ambiguous_kids) FUZZ_CHECK(params.kid != kid);

  const auto json = portcullis::auth::crypto::public_jwk_json(params);
  FUZZ_CHECK(json.ok());
  const auth::JwksParseResult again = auth::parse_jwks("{\"keys\":[" + *json + "]}", kMaxBytes);
  FUZZ_CHECK(again.error.empty() && again.keys.size() == 1 && again.skipped.empty());
  FUZZ_CHECK(same_params(again.keys[0], params));
  const auto print = portcullis::auth::crypto::jwk_thumbprint(params);
  const auto print_again = portcullis::auth::crypto::jwk_thumbprint(again.keys[0]);
  FUZZ_CHECK(print.ok() && print_again.ok() && *print == *print_again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);

  const auth::JwksParseResult parsed = auth::parse_jwks(json, kMaxBytes);
  if (!parsed.error.empty()) FUZZ_CHECK(parsed.keys.empty());
  FUZZ_CHECK(parsed.keys.size() <= auth::kMaxJwksKeys);
  for (const auth::JwkParams& params : parsed.keys) check_usable_key(params, parsed);

  auth::KeySet::Report report;
  const std::shared_ptr<const auth::KeySet> set = auth::KeySet::from_jwks(json, kMaxBytes, report);
  FUZZ_CHECK((set == nullptr) == !parsed.error.empty());
  if (!set) {
    FUZZ_CHECK(!report.error.empty());
    return 0;
  }
  FUZZ_CHECK(set->size() <= parsed.keys.size());
  FUZZ_CHECK(set->size() + report.skipped.size() == parsed.keys.size() + parsed.skipped.size());
  for (const auth::KeySet::Entry& entry : set->entries()) {
    FUZZ_CHECK(entry.key != nullptr && entry.id != 0);
    const auth::JwkParams* params = nullptr;
    for (const auth::JwkParams& p : parsed.keys) {
      if (p.kid == entry.key->kid() && p.kty == entry.key->kty() && p.crv == entry.key->curve() &&
          p.alg == entry.key->alg()) {
        params = &p;
      }
    }
    FUZZ_CHECK(params != nullptr);
    for (auth::Alg alg : kAllAlgs) FUZZ_CHECK(entry.key->fits(alg) == auth::key_fits_alg(*params, alg));
    if (const auto& kid = entry.key->kid()) {
      FUZZ_CHECK(set->find(*kid) == &entry);
      FUZZ_CHECK(!set->ambiguous(*kid));
    }
  }
  return 0;
}
