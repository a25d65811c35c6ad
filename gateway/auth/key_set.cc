#include "auth/key_set.h"

#include <atomic>

#include "auth/jwks.h"

namespace portcullis::auth {
namespace {

uint64_t next_key_id() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
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
  return set;
}

const KeySet::Entry* KeySet::find(std::string_view kid) const {
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
