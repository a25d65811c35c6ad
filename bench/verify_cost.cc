// bench_verify_cost: the CPU time of Portcullis's token path without the network, to tell
// the work around the signature check apart from what a loaded loopback does to a proxy.
//
//   bench_verify_cost [--alg RS256|ES256|EdDSA] [--tokens N] [--cache N] [--rounds R] [--json]
//
// Makes a key for the alg, its JWKS, and N distinct tokens shaped like bench/run's (iss, aud,
// sub, scope, jti, iat, exp); then, in R interleaved rounds on this thread, times three
// blocks over the same tokens:
//   hit   the verified-token cache lookup of one cached token (what a cache hit costs);
//   miss  lookup (a miss) + verify_token + insert, evicting the least recently used entry
//         once the cache is full: the path Authenticator::verify takes on a miss, less its
//         metric counters (--cache defaults to N/3, so every token is a miss);
//   sig   crypto::verify_signature alone on the same tokens, parsed before the clock starts:
//         OpenSSL's share of a miss (SHA over the signing input, then the public-key check).
// Each round prints (miss - hit) / sig; the median over the rounds is the figure. The
// blocks run back to back within a round, so a machine whose speed drifts from one second
// to the next moves all three alike.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "auth/claims.h"
#include "auth/crypto/signer.h"
#include "auth/crypto/verify.h"
#include "auth/jws.h"
#include "auth/key_set.h"
#include "auth/token_cache.h"
#include "auth/verifier.h"
#include "cli/mint.h"

namespace {

using namespace portcullis;

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_verify_cost: %s\n", what.c_str());
  std::exit(1);
}

struct Options {
  auth::Alg alg = auth::Alg::RS256;
  size_t tokens = 3000;
  size_t cache = 0;  // 0: tokens / 3
  int rounds = 7;
  bool json = false;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> std::string_view {
      if (i + 1 >= argc) fail(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--alg") {
      auto alg = auth::alg_from_string(next());
      if (!alg || (*alg != auth::Alg::RS256 && *alg != auth::Alg::ES256 && *alg != auth::Alg::EdDSA)) {
        fail("--alg must be RS256, ES256 or EdDSA");
      }
      o.alg = *alg;
    } else if (a == "--tokens") {
      o.tokens = std::strtoul(std::string(next()).c_str(), nullptr, 10);
    } else if (a == "--cache") {
      o.cache = std::strtoul(std::string(next()).c_str(), nullptr, 10);
    } else if (a == "--rounds") {
      o.rounds = std::atoi(std::string(next()).c_str());
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "-h" || a == "--help") {
      std::puts("usage: bench_verify_cost [--alg RS256|ES256|EdDSA] [--tokens N] [--cache N] [--rounds R] [--json]");
      std::exit(0);
    } else {
      fail("unknown argument " + std::string(a));
    }
  }
  if (o.tokens < 30 || o.tokens > 1'000'000) fail("--tokens must be in [30, 1000000]");
  if (o.rounds < 1 || o.rounds > 1000) fail("--rounds must be in [1, 1000]");
  if (o.cache == 0) o.cache = o.tokens / 3;
  if (o.cache + 2 > o.tokens) fail("--cache must be below --tokens - 1 (every rotating token must miss)");
  return o;
}

constexpr std::string_view kIssuer = "https://bench.portcullis.local";

struct Fixture {
  std::shared_ptr<const auth::KeySet> keys;
  std::vector<std::string> tokens;
};

Fixture make_fixture(const Options& o, int64_t now) {
  auto key = auth::crypto::SigningKey::generate(o.alg);
  if (!key) fail("key: " + key.error().message);
  auto params = key->public_params();
  if (!params) fail("public key: " + params.error().message);
  params->kid = "bench";
  auto jwk = auth::crypto::public_jwk_json(*params);
  if (!jwk) fail("jwk: " + jwk.error().message);
  Fixture f;
  auth::KeySet::Report report;
  f.keys = auth::KeySet::from_jwks("{\"keys\":[" + *jwk + "]}", 1 << 20, report);
  if (!f.keys || f.keys->size() != 1) fail("jwks: " + report.error);
  f.tokens.reserve(o.tokens);
  for (size_t i = 0; i < o.tokens; ++i) {
    std::string claims = "{\"iss\":\"" + std::string(kIssuer) +
                         "\",\"aud\":\"bench\",\"sub\":\"bench\",\"scope\":\"bench\",\"jti\":\"" +
                         std::to_string(i) + "-" + std::to_string(now) + "\"}";
    cli::MintRequest req;
    req.alg = o.alg;
    req.key = &*key;
    req.kid = "bench";
    req.claims_json = claims;
    req.now = now;
    req.ttl_seconds = 7200;
    auto token = cli::mint_token(req);
    if (!token) fail("mint: " + token.error().message);
    f.tokens.push_back(std::move(*token));
  }
  return f;
}

struct Round {
  double hit_us = 0, miss_us = 0, sig_us = 0;
  double ratio() const { return (miss_us - hit_us) / sig_us; }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  const int64_t now = ::time(nullptr);
  const Fixture f = make_fixture(o, now);

  auth::ClaimRules rules;
  rules.issuer = std::string(kIssuer);
  rules.audiences = {"bench"};
  const std::vector<auth::Alg> algorithms{o.alg};
  const auth::IssuerView view{&rules, algorithms, f.keys.get()};
  auth::VerifyScratch scratch;
  auth::VerifyOutcome outcome;
  auth::TokenCache cache(o.cache, 3600, 0x9e3779b97f4a7c15ULL);

  // The miss path; every token must verify, or the figures would time refusals.
  auto miss = [&](const std::string& token) {
    if (cache.lookup(token, now) != nullptr) fail("a -miss token was a cache hit (cache too large)");
    auth::verify_token(token, {&view, 1}, now, scratch, outcome);
    if (outcome.status != auth::AuthStatus::Ok) fail("token refused: " + std::string(auth::to_string(outcome.status)));
    cache.insert(token, auth::CachedAuth{outcome.identity, 0, outcome.key_id, nullptr}, now);
  };

  // The signature step's inputs, parsed once.
  struct Parsed {
    std::string signing_input, signature;
  };
  std::vector<Parsed> parsed;
  parsed.reserve(f.tokens.size());
  for (const std::string& token : f.tokens) {
    if (auth::parse_jws_raw_payload(token, scratch.jws, scratch.buffer) != auth::AuthStatus::Ok) fail("parse");
    parsed.push_back({std::string(scratch.jws.signing_input), std::string(scratch.jws.signature)});
  }
  const auth::crypto::VerificationKey& key = *f.keys->entries().front().key;

  // The last token is the -hit one; the others rotate through the misses. Warm up: fill the
  // cache so the first measured misses evict, like a running gateway.
  const std::string& hot = f.tokens.back();
  const size_t rotating = f.tokens.size() - 1;
  for (size_t i = 0; i < o.cache; ++i) miss(f.tokens[i]);
  size_t next = o.cache;  // the next token to miss on (cycling: it left the cache long ago)
  const size_t block = std::min<size_t>(rotating - o.cache, 1000);
  const size_t hit_block = block * 20;  // hits are ~100x cheaper: a longer block, same clock precision

  std::vector<Round> rounds;
  for (int r = 0; r < o.rounds; ++r) {
    Round round;
    // The misses of the last round pushed the hit token out; put it back, untimed.
    if (cache.lookup(hot, now) == nullptr) miss(hot);
    double t0 = thread_cpu_seconds();
    for (size_t i = 0; i < hit_block; ++i) {
      if (cache.lookup(hot, now) == nullptr) fail("the -hit token left the cache");
    }
    double t1 = thread_cpu_seconds();
    const size_t first = next;
    for (size_t i = 0; i < block; ++i) {
      miss(f.tokens[next]);
      next = next + 1 == rotating ? 0 : next + 1;
    }
    double t2 = thread_cpu_seconds();
    for (size_t i = 0, k = first; i < block; ++i, k = k + 1 == rotating ? 0 : k + 1) {
      if (auth::crypto::verify_signature(o.alg, key, parsed[k].signing_input, parsed[k].signature) != auth::AuthStatus::Ok) {
        fail("signature refused");
      }
    }
    double t3 = thread_cpu_seconds();
    round.hit_us = (t1 - t0) / static_cast<double>(hit_block) * 1e6;
    round.miss_us = (t2 - t1) / static_cast<double>(block) * 1e6;
    round.sig_us = (t3 - t2) / static_cast<double>(block) * 1e6;
    rounds.push_back(round);
    if (!o.json) {
      std::printf("round %d: hit %.3f µs  miss %.2f µs  sig %.2f µs  (miss-hit)/sig %.3f\n", r + 1, round.hit_us,
                  round.miss_us, round.sig_us, round.ratio());
    }
  }
  std::vector<double> hit, miss_us, sig, ratio;
  for (const Round& r : rounds) {
    hit.push_back(r.hit_us);
    miss_us.push_back(r.miss_us);
    sig.push_back(r.sig_us);
    ratio.push_back(r.ratio());
  }
  const auto [lo, hi] = std::minmax_element(ratio.begin(), ratio.end());
  if (o.json) {
    std::printf("{\"alg\":\"%s\",\"tokens\":%zu,\"cache\":%zu,\"rounds\":%d,\"block\":%zu,\"hit_us\":%.4f,"
                "\"miss_us\":%.3f,\"sig_us\":%.3f,\"ratio\":%.4f,\"ratio_min\":%.4f,\"ratio_max\":%.4f}\n",
                std::string(auth::to_string(o.alg)).c_str(), o.tokens, o.cache, o.rounds, block, median(hit),
                median(miss_us), median(sig), median(ratio), *lo, *hi);
  } else {
    std::printf("%s, median of %d rounds: hit %.3f µs, miss %.2f µs, signature alone %.2f µs, "
                "(miss-hit)/sig %.3f (%.3f-%.3f)\n",
                std::string(auth::to_string(o.alg)).c_str(), o.rounds, median(hit), median(miss_us), median(sig),
                median(ratio), *lo, *hi);
  }
  return 0;
}
