#include "auth/key_set.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "auth/jwks.h"

namespace portcullis::auth {
namespace {

uint64_t next_key_id() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

// ROCA (CVE-2017-15361): Infineon-generated moduli have the form k*M + (65537^a mod M), M the
// product of the first primes, so n mod p lies in the subgroup 65537 generates modulo every
// odd prime p up to 167. A sound modulus passes all 38 tests with negligible probability.
bool has_roca_fingerprint(std::string_view n) {
  static constexpr std::array<uint32_t, 38> kPrimes = {3,   5,   7,   11,  13,  17,  19,  23,  29,  31,
                                                       37,  41,  43,  47,  53,  59,  61,  67,  71,  73,
                                                       79,  83,  89,  97,  101, 103, 107, 109, 113, 127,
                                                       131, 137, 139, 149, 151, 157, 163, 167};
  for (uint32_t p : kPrimes) {
    uint32_t r = 0;
    for (unsigned char c : n) r = (r * 256 + c) % p;
    bool member = false;
    uint32_t x = 1;
    do {
      if (x == r) {
        member = true;
        break;
      }
      x = x * 65537 % p;
    } while (x != 1);
    if (!member) return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const KeySet> KeySet::from_jwks(std::string_view json, size_t max_bytes, Report& report) {
  JwksParseResult parsed = parse_jwks(json, max_bytes);
  if (!parsed.error.empty()) {
    report.error = parsed.error;
    return nullptr;
  }
  auto set = std::make_shared<KeySet>();
  for (const SkippedKey& s : parsed.skipped) report.skipped.push_back((s.kid.empty() ? "(no kid)" : s.kid) + ": " + s.reason);
  for (JwkParams& params : parsed.keys) {
    if (params.kty == KeyType::RSA && has_roca_fingerprint(params.n)) {
      report.skipped.push_back(params.kid.value_or("(no kid)") + ": RSA modulus has the ROCA fingerprint (CVE-2017-15361)");
      continue;
    }
    Result<crypto::KeyPtr> key = crypto::build_verification_key(params);
    if (!key) {
      report.skipped.push_back(params.kid.value_or("(no kid)") + ": " + key.error().message);
      continue;
    }
    set->entries_.push_back(Entry{std::move(key.value()), next_key_id()});
  }
  set->ambiguous_kids_ = std::move(parsed.ambiguous_kids);
  set->source_.assign(json);
  return set;
}

std::shared_ptr<const KeySet> KeySet::from_secret(std::string secret, Report& report) {
  std::string source = secret;
  Result<crypto::KeyPtr> key = crypto::build_hmac_key(std::move(secret), std::nullopt);
  if (!key) {
    report.error = key.error().message;
    return nullptr;
  }
  auto set = std::make_shared<KeySet>();
  set->entries_.push_back(Entry{std::move(key.value()), next_key_id()});
  set->source_ = std::move(source);
  set->secret_ = true;
  return set;
}

const KeySet::Entry* KeySet::find(std::string_view kid) const {
  if (secret_) return entries_.empty() ? nullptr : &entries_.front();
  for (const Entry& e : entries_) {
    if (e.key->kid() && *e.key->kid() == kid) return &e;
  }
  return nullptr;
}

bool KeySet::ambiguous(std::string_view kid) const {
  for (const std::string& k : ambiguous_kids_) {
    if (k == kid) return true;
  }
  return false;
}

}  // namespace portcullis::auth
