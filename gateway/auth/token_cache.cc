#include "auth/token_cache.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "core/bytes8.h"

namespace portcullis::auth {
namespace {

constexpr uint64_t kP0 = 0xa0761d6478bd642full;
constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ull;
constexpr uint64_t kP3 = 0x589965cc75374cc3ull;

uint64_t mix(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

uint64_t read64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

uint64_t token_hash(std::string_view token, uint64_t seed) {
  const char* p = token.data();
  size_t n = token.size();
  uint64_t h = mix(seed ^ kP0, n ^ kP1);
  for (; n >= 16; n -= 16, p += 16) h = mix(read64(p) ^ kP1 ^ h, read64(p + 8) ^ kP2);
  char tail[16] = {};
  std::memcpy(tail, p, n);
  h = mix(read64(tail) ^ kP1 ^ h, read64(tail + 8) ^ kP2 ^ n);
  return mix(h ^ kP3, token.size() ^ kP0);
}

TokenCache::TokenCache(size_t max_entries, int64_t max_ttl_seconds, uint64_t seed, uint64_t hash_mask)
    : slots_(std::clamp<size_t>(max_entries, 1, kNone - 1)), max_ttl_(std::max<int64_t>(max_ttl_seconds, 0)),
      seed_(seed), hash_mask_(hash_mask) {
  free_.reserve(slots_.size());
  for (size_t i = slots_.size(); i-- > 0;) free_.push_back(static_cast<uint32_t>(i));
  buckets_.resize(std::bit_ceil(2 * slots_.size()));
  mask_ = buckets_.size() - 1;
}

size_t TokenCache::find_bucket(uint64_t hash) const {
  const auto tag = static_cast<uint32_t>(hash);
  for (size_t b = tag & mask_;; b = (b + 1) & mask_) {
    const Bucket& k = buckets_[b];
    if (k.slot == kNone) return kNoBucket;
    if (k.tag == tag && slots_[k.slot].hash == hash) return b;
  }
}

void TokenCache::index_insert(uint64_t hash, uint32_t slot) {
  const auto tag = static_cast<uint32_t>(hash);
  size_t b = tag & mask_;
  while (buckets_[b].slot != kNone) b = (b + 1) & mask_;  // never full: at most half used
  buckets_[b] = Bucket{tag, slot};
}

// Backward-shift deletion: later entries of the probe run move up into the hole unless
// that would put them before their home bucket, so no tombstones are needed.
void TokenCache::index_erase(size_t bucket) {
  size_t hole = bucket;
  for (size_t j = (hole + 1) & mask_; buckets_[j].slot != kNone; j = (j + 1) & mask_) {
    const size_t home = buckets_[j].tag & mask_;
    if (((j - home) & mask_) >= ((j - hole) & mask_)) {
      buckets_[hole] = buckets_[j];
      hole = j;
    }
  }
  buckets_[hole] = Bucket{};
}

void TokenCache::unlink(uint32_t i) {
  Slot& s = slots_[i];
  (s.prev == kNone ? head_ : slots_[s.prev].next) = s.next;
  (s.next == kNone ? tail_ : slots_[s.next].prev) = s.prev;
  s.prev = s.next = kNone;
}

void TokenCache::push_front(uint32_t i) {
  Slot& s = slots_[i];
  s.prev = kNone;
  s.next = head_;
  if (head_ != kNone) slots_[head_].prev = i;
  head_ = i;
  if (tail_ == kNone) tail_ = i;
}

void TokenCache::remove(uint32_t i) {
  Slot& s = slots_[i];
  unlink(i);
  if (const size_t b = find_bucket(s.hash); b != kNoBucket) index_erase(b);
  s.value = {};  // release the identity now, not when the slot is reused
  s.used = false;
  free_.push_back(i);  // capacity reserved up front: no allocation
}

const CachedAuth* TokenCache::lookup(std::string_view token, int64_t now) {
  const size_t b = find_bucket(token_hash(token, seed_) & hash_mask_);
  if (b == kNoBucket) {
    ++misses_;
    return nullptr;
  }
  const uint32_t i = buckets_[b].slot;
  Slot& s = slots_[i];
  if (!bytes8::equal_constant_time(s.token, token)) {
    ++misses_;
    return nullptr;
  }
  if (now >= s.valid_until) {
    remove(i);
    ++misses_;
    return nullptr;
  }
  if (head_ != i) {
    unlink(i);
    push_front(i);
  }
  ++hits_;
  return &s.value;
}

void TokenCache::insert(std::string_view token, CachedAuth value, int64_t now) {
  if (!value.identity) return;
  int64_t valid_until = now > INT64_MAX - max_ttl_ ? INT64_MAX : now + max_ttl_;
  if (value.identity->expires_at != 0) valid_until = std::min(valid_until, value.identity->expires_at);
  if (valid_until <= now) return;

  const uint64_t h = token_hash(token, seed_) & hash_mask_;
  uint32_t i;
  if (const size_t b = find_bucket(h); b != kNoBucket) {
    i = buckets_[b].slot;  // same token again, or a collision: the newer one wins
    unlink(i);
  } else {
    if (free_.empty()) {
      remove(tail_);
      ++evictions_;
    }
    i = free_.back();
    free_.pop_back();
    index_insert(h, i);
  }
  Slot& s = slots_[i];
  s.hash = h;
  s.token.assign(token);
  s.value = std::move(value);
  s.valid_until = valid_until;
  s.used = true;
  push_front(i);
}

template <class Pred>
size_t TokenCache::erase_where(Pred pred) {
  size_t erased = 0;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].used && pred(slots_[i].value)) {
      remove(i);
      ++erased;
    }
  }
  return erased;
}

size_t TokenCache::erase_key(uint32_t issuer_index, uint64_t key_id) {
  return erase_where([&](const CachedAuth& v) { return v.issuer_index == issuer_index && v.key_id == key_id; });
}

size_t TokenCache::erase_issuer(uint32_t issuer_index) {
  return erase_where([&](const CachedAuth& v) { return v.issuer_index == issuer_index; });
}

void TokenCache::clear() {
  erase_where([](const CachedAuth&) { return true; });
}

}  // namespace portcullis::auth
