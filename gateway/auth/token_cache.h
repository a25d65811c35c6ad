// Verified-token cache, one per worker (no locks). A hit skips base64, JSON and signature
// work entirely and allocates nothing. Safety rules:
//  - the key is a seeded 64-bit hash of the whole token, and the full token is compared
//    on every hit (a hash collision is a miss, never someone else's identity);
//  - every hit re-checks expiry against `now` (never serve an expired token, Envoy's
//    jwt_authn cache does the same); expiry is min(exp, insert time + max_ttl);
//  - entries remember which issuer and which key verified them, so they die when that key
//    leaves the JWKS (erase_key) or the issuer's keys/config change (erase_issuer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/claims.h"

namespace portcullis::auth {

struct IntrospectionEntry;  // auth/introspection.h

struct CachedAuth {
  std::shared_ptr<const Identity> identity;
  uint32_t issuer_index = 0;  // position of the issuer in the config snapshot
  uint64_t key_id = 0;        // unique id of the verifying key (assigned when keys load); 0: none
  // Set when the issuer introspects: the shared verdict each hit must still consult.
  std::shared_ptr<IntrospectionEntry> introspection;
};

// Seeded, fast, non-cryptographic (multiply-fold, 16 bytes per round).
uint64_t token_hash(std::string_view token, uint64_t seed);

class TokenCache {
 public:
  // `max_entries` >= 1. `max_ttl_seconds` bounds entries whose token has no exp (and all
  // others), so a revoked-but-unexpiring token is re-verified now and then.
  // `hash_mask` is for tests: 0 makes every token collide, to show that a collision is a
  // miss and never another token's entry.
  TokenCache(size_t max_entries, int64_t max_ttl_seconds, uint64_t seed, uint64_t hash_mask = ~uint64_t{0});

  // The cached result for exactly this token if it is still valid at `now`; an expired
  // entry is evicted. The pointer is valid until the next non-const call.
  const CachedAuth* lookup(std::string_view token, int64_t now);

  // Caches a verified token (replacing an entry with the same hash); ignores entries that
  // are already expired. Evicts the least recently used entry when full.
  void insert(std::string_view token, CachedAuth value, int64_t now);

  // Drop entries verified by one key / by any key of one issuer. Return how many.
  size_t erase_key(uint32_t issuer_index, uint64_t key_id);
  size_t erase_issuer(uint32_t issuer_index);
  void clear();

  size_t size() const { return slots_.size() - free_.size(); }
  size_t capacity() const { return slots_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t evictions() const { return evictions_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Slot {
    uint64_t hash = 0;
    std::string token;
    CachedAuth value;
    int64_t valid_until = 0;  // exclusive
    uint32_t prev = kNone, next = kNone;
    bool used = false;
  };

  // The index from hash to slot: open addressing with linear probing over a power-of-two
  // table at most half full, so a lookup reads one or two adjacent buckets (a node-based map
  // chases a pointer into cold memory and allocates on every insert).
  struct Bucket {
    uint32_t tag = 0;       // the hash's low 32 bits; its home bucket is tag & mask_
    uint32_t slot = kNone;  // kNone: empty
  };
  static constexpr size_t kNoBucket = SIZE_MAX;
  size_t find_bucket(uint64_t hash) const;
  void index_insert(uint64_t hash, uint32_t slot);
  void index_erase(size_t bucket);

  void unlink(uint32_t i);
  void push_front(uint32_t i);
  void remove(uint32_t i);
  template <class Pred>
  size_t erase_where(Pred pred);

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<Bucket> buckets_;
  size_t mask_ = 0;
  uint32_t head_ = kNone, tail_ = kNone;  // most / least recently used
  int64_t max_ttl_;
  uint64_t seed_;
  uint64_t hash_mask_;
  uint64_t hits_ = 0, misses_ = 0, evictions_ = 0;
};

}  // namespace portcullis::auth
