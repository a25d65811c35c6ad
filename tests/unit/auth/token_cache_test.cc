#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <list>
#include <random>
#include <memory>
#include <new>
#include <string>

#include "auth/token_cache.h"

using namespace portcullis::auth;

// Counts heap allocations while armed, to prove a cache hit allocates nothing. Replacing
// the global operator new is allowed once per program; unit_auth only does it here.
namespace {
bool g_counting = false;
long g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// GCC 12 flags free() in a replacement operator delete as mismatched (it pairs it with the
// library's operator new); here both sides are ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

std::shared_ptr<const Identity> identity(const std::string& sub, int64_t expires_at) {
  auto id = std::make_shared<Identity>();
  id->issuer = "https://auth.example.com";
  id->subject = sub;
  id->expires_at = expires_at;
  return id;
}

CachedAuth entry(const std::string& sub, int64_t expires_at, uint32_t issuer = 0, uint64_t key = 1) {
  return CachedAuth{identity(sub, expires_at), issuer, key, nullptr};
}

}  // namespace

TEST_CASE("a cached token is found until its exp") {
  TokenCache cache(8, 3600, 42);
  cache.insert("tok-a", entry("alice", 1100), 1000);
  const CachedAuth* hit = cache.lookup("tok-a", 1000);
  REQUIRE(hit != nullptr);
  CHECK(hit->identity->subject == "alice");
  CHECK(cache.lookup("tok-a", 1099) != nullptr);
  CHECK(cache.lookup("tok-a", 1100) == nullptr);  // now >= exp: gone
  CHECK(cache.size() == 0);                       // and evicted
  CHECK(cache.hits() == 2);
  CHECK(cache.misses() == 1);
}

TEST_CASE("a different token never gets someone else's identity") {
  TokenCache cache(8, 3600, 42);
  cache.insert("tok-a", entry("alice", 5000), 1000);
  CHECK(cache.lookup("tok-b", 1000) == nullptr);
  CHECK(cache.lookup("tok-a ", 1000) == nullptr);
  CHECK(cache.lookup("tok-", 1000) == nullptr);
  CHECK(cache.lookup("", 1000) == nullptr);
  CHECK(cache.misses() == 4);
}

TEST_CASE("a hash collision is a miss, never the colliding token's identity") {
  TokenCache cache(8, 3600, 42, /*hash_mask=*/0);  // every token has hash 0
  cache.insert("eyJ.alice.sig", entry("alice", 5000), 1000);
  CHECK(cache.lookup("eyJ.mallory.sig", 1000) == nullptr);
  CHECK(cache.lookup("eyJ.alice.siG", 1000) == nullptr);  // same length, last byte differs
  const CachedAuth* a = cache.lookup("eyJ.alice.sig", 1000);
  REQUIRE(a != nullptr);
  CHECK(a->identity->subject == "alice");
  // The colliding token, once verified, takes the entry over; alice's is then a miss.
  cache.insert("eyJ.bob.sig", entry("bob", 5000), 1000);
  CHECK(cache.size() == 1);
  CHECK(cache.lookup("eyJ.alice.sig", 1000) == nullptr);
  const CachedAuth* b = cache.lookup("eyJ.bob.sig", 1000);
  REQUIRE(b != nullptr);
  CHECK(b->identity->subject == "bob");
}

TEST_CASE("max_ttl bounds entries, also those without exp") {
  TokenCache cache(8, 60, 1);
  cache.insert("no-exp", entry("svc", 0), 1000);
  CHECK(cache.lookup("no-exp", 1059) != nullptr);
  CHECK(cache.lookup("no-exp", 1060) == nullptr);
  cache.insert("long-exp", entry("bob", 999999), 1000);
  CHECK(cache.lookup("long-exp", 1060) == nullptr);
}

TEST_CASE("already-expired results are not cached") {
  TokenCache cache(8, 3600, 1);
  cache.insert("old", entry("x", 1000), 1000);
  cache.insert("older", entry("x", 10), 1000);
  cache.insert("null", CachedAuth{nullptr, 0, 0, nullptr}, 1000);
  CHECK(cache.size() == 0);
  TokenCache no_ttl(8, 0, 1);
  no_ttl.insert("tok", entry("x", 5000), 1000);
  CHECK(no_ttl.size() == 0);
}

TEST_CASE("the cache is bounded and evicts the least recently used") {
  TokenCache cache(3, 3600, 7);
  cache.insert("t1", entry("1", 5000), 1000);
  cache.insert("t2", entry("2", 5000), 1000);
  cache.insert("t3", entry("3", 5000), 1000);
  REQUIRE(cache.lookup("t1", 1000) != nullptr);  // t1 is now the most recent; t2 the oldest
  cache.insert("t4", entry("4", 5000), 1000);
  CHECK(cache.size() == 3);
  CHECK(cache.evictions() == 1);
  CHECK(cache.lookup("t2", 1000) == nullptr);
  CHECK(cache.lookup("t1", 1000) != nullptr);
  CHECK(cache.lookup("t3", 1000) != nullptr);
  CHECK(cache.lookup("t4", 1000) != nullptr);
  for (int i = 0; i < 1000; ++i) cache.insert("many-" + std::to_string(i), entry("m", 5000), 1000);
  CHECK(cache.size() == 3);
  CHECK(cache.capacity() == 3);
  CHECK(cache.lookup("many-999", 1000) != nullptr);
  CHECK(cache.lookup("many-996", 1000) == nullptr);
}

TEST_CASE("the index agrees with a plain LRU model through long random runs") {
  // Small caches make long probe runs, wrap-around at the table's end and backward shifts
  // on every kind of removal (eviction, expiry on lookup, erase_key); each seed is a
  // different hash layout. The model is a list, most recent first.
  for (size_t capacity : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{8}, size_t{33}}) {
    for (uint64_t seed = 1; seed <= 6; ++seed) {
      TokenCache cache(capacity, 1'000'000, seed);
      std::list<std::pair<std::string, int64_t>> model;  // token, valid until
      std::mt19937_64 rng(seed * 1000 + capacity);
      auto find = [&](const std::string& t) {
        return std::find_if(model.begin(), model.end(), [&](const auto& e) { return e.first == t; });
      };
      for (int step = 0; step < 4000; ++step) {
        const std::string token = "tok-" + std::to_string(rng() % (3 * capacity + 2));
        const int64_t now = 1000 + step;
        const uint64_t op = rng() % 10;
        if (op < 5) {
          const int64_t exp = now + 1 + static_cast<int64_t>(rng() % 50);
          cache.insert(token, entry(token, exp, 0, rng() % 3), now);
          if (auto it = find(token); it != model.end()) {
            model.erase(it);
          } else if (model.size() == capacity) {
            model.pop_back();
          }
          model.emplace_front(token, exp);
        } else if (op < 9) {
          const CachedAuth* hit = cache.lookup(token, now);
          auto it = find(token);
          if (it != model.end() && now >= it->second) {
            model.erase(it);  // expired: evicted by the lookup
            it = model.end();
          }
          REQUIRE((hit != nullptr) == (it != model.end()));
          if (hit != nullptr) {
            CHECK(hit->identity->subject == token);
            model.splice(model.begin(), model, it);
          }
        } else {
          cache.erase_issuer(0);
          model.clear();
        }
        REQUIRE(cache.size() == model.size());
      }
      // Every entry the model still holds is found while it is valid.
      const int64_t last = 1000 + 4000 - 1;
      for (const auto& [token, until] : model) CHECK((cache.lookup(token, last) != nullptr) == (last < until));
    }
  }
}

TEST_CASE("re-inserting a token replaces its entry") {
  TokenCache cache(4, 3600, 7);
  cache.insert("t", entry("old", 5000), 1000);
  cache.insert("t", entry("new", 6000), 1000);
  CHECK(cache.size() == 1);
  REQUIRE(cache.lookup("t", 1000) != nullptr);
  CHECK(cache.lookup("t", 1000)->identity->subject == "new");
}

TEST_CASE("entries die with their key or issuer") {
  TokenCache cache(16, 3600, 9);
  cache.insert("a", entry("a", 5000, 0, 11), 1000);
  cache.insert("b", entry("b", 5000, 0, 12), 1000);
  cache.insert("c", entry("c", 5000, 1, 11), 1000);
  cache.insert("d", entry("d", 5000, 1, 13), 1000);
  CHECK(cache.erase_key(0, 11) == 1);
  CHECK(cache.lookup("a", 1000) == nullptr);
  CHECK(cache.lookup("c", 1000) != nullptr);  // same key id, other issuer: kept
  CHECK(cache.erase_issuer(1) == 2);
  CHECK(cache.lookup("c", 1000) == nullptr);
  CHECK(cache.lookup("b", 1000) != nullptr);
  cache.clear();
  CHECK(cache.size() == 0);
  // Slots freed by erase are reusable.
  for (int i = 0; i < 16; ++i) cache.insert("x" + std::to_string(i), entry("x", 5000), 1000);
  CHECK(cache.size() == 16);
  CHECK(cache.evictions() == 0);
}

TEST_CASE("the identity outlives its eviction for whoever holds it") {
  TokenCache cache(1, 3600, 3);
  cache.insert("t1", entry("alice", 5000), 1000);
  std::shared_ptr<const Identity> held = cache.lookup("t1", 1000)->identity;
  cache.insert("t2", entry("bob", 5000), 1000);
  CHECK(cache.lookup("t1", 1000) == nullptr);
  CHECK(held->subject == "alice");
  CHECK(held.use_count() == 1);  // the cache released its reference on eviction
}

TEST_CASE("token_hash depends on every byte, the length and the seed") {
  const std::string base(100, 'a');
  const uint64_t h = token_hash(base, 1);
  for (size_t i = 0; i < base.size(); ++i) {
    std::string t = base;
    t[i] = 'b';
    CAPTURE(i);
    CHECK(token_hash(t, 1) != h);
  }
  CHECK(token_hash(base + '\0', 1) != h);
  CHECK(token_hash(base.substr(0, 99), 1) != h);
  CHECK(token_hash(base, 2) != h);
  CHECK(token_hash("", 1) != token_hash(std::string(1, '\0'), 1));
  CHECK(token_hash(base, 1) == h);
}

TEST_CASE("a cache hit allocates nothing") {
  TokenCache cache(4, 3600, 5);
  const std::string token(900, 'T');
  cache.insert(token, entry("alice", 5000), 1000);
  cache.insert("other", entry("bob", 5000), 1000);
  g_allocations = 0;
  g_counting = true;
  const CachedAuth* a = cache.lookup(token, 1000);    // hit (and moves to the front)
  const CachedAuth* b = cache.lookup("other", 1000);  // hit
  const CachedAuth* c = cache.lookup("miss", 1000);   // miss
  g_counting = false;
  CHECK(a != nullptr);
  CHECK(b != nullptr);
  CHECK(c == nullptr);
  CHECK(g_allocations == 0);
  // The counter itself works.
  g_counting = true;
  auto probe = std::make_unique<int>(1);
  g_counting = false;
  CHECK(g_allocations == 1);
}
