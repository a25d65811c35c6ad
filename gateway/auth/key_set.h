// An issuer's usable keys: built once from a JWKS document (or a shared secret), immutable
// afterwards, shared read-only by every worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/crypto/verification_key.h"
#include "auth/jwk.h"

namespace portcullis::auth {

class KeySet {
 public:
  struct Entry {
    crypto::KeyPtr key;
    uint64_t id = 0;  // unique per built key, for the token cache
  };
  struct Report {
    std::string error;                 // the document was refused as a whole
    std::vector<std::string> skipped;  // "kid: reason" per key left out
  };

  // nullptr (and report.error) when the document is not a usable JWKS. A document whose
  // every key is skipped yields an empty set, which the caller treats as a failed fetch.
  static std::shared_ptr<const KeySet> from_jwks(std::string_view json, size_t max_bytes, Report& report);
  static std::shared_ptr<const KeySet> from_secret(std::string secret, Report& report);

  // The key holding `kid`. A set built from a configured secret has one key and no kids:
  // that key is returned whatever the kid (it is only a hint, and it can name no other key).
  const Entry* find(std::string_view kid) const;
  bool ambiguous(std::string_view kid) const;
  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  // The document this set was built from (to skip rebuilding when a refresh changes nothing).
  const std::string& source() const { return source_; }

 private:
  std::vector<Entry> entries_;
  std::vector<std::string> ambiguous_kids_;
  std::string source_;
  bool secret_ = false;  // built by from_secret
};

}  // namespace portcullis::auth
