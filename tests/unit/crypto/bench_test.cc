// Not a timed assertion: prints the cost of one verification so it can be compared with
// `openssl speed` on the same machine. Set PORTCULLIS_BENCH_MS to change the time per alg.
#include <doctest/doctest.h>

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <sstream>

#include "crypto/crypto_test_support.h"

namespace portcullis::auth::crypto {
namespace {

using namespace testing;

TEST_CASE("report microseconds per verification") {
  const char* env = std::getenv("PORTCULLIS_BENCH_MS");
  const auto budget = std::chrono::milliseconds(env != nullptr ? std::atoi(env) : 200);
  const std::string input =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJhcGkiLCJleHAiOjE5MDAwMDAwMDB9";
  const std::string secret(32, 'h');
  struct Row {
    Alg alg;
    KeyPtr key;
    std::string signature;
  };
  const Row rows[] = {
      {Alg::RS256, must_build(rsa_jwk(rsa_key(2048))), sign(Alg::RS256, rsa_key(2048), input)},
      {Alg::PS256, must_build(rsa_jwk(rsa_key(2048))), sign(Alg::PS256, rsa_key(2048), input)},
      {Alg::ES256, must_build(ec_jwk(ec_key(Curve::P256), Curve::P256)), sign(Alg::ES256, ec_key(Curve::P256), input, 32)},
      {Alg::EdDSA, must_build(ed25519_jwk(ed25519_key())), sign(Alg::EdDSA, ed25519_key(), input)},
      {Alg::HS256, *build_hmac_key(secret, std::nullopt), hmac(Alg::HS256, secret, input)},
  };
  // Thread CPU time, like `openssl speed` (which counts user time): a busy machine inflates
  // wall time, not this.
  auto cpu_us = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  };
  std::ostringstream report;
  report.precision(3);
  for (const Row& row : rows) {
    using Clock = std::chrono::steady_clock;
    int count = 0, ok = 0;
    const auto start = Clock::now();
    const double cpu_start = cpu_us();
    auto elapsed = Clock::duration::zero();
    while (elapsed < budget) {
      for (int i = 0; i < 16; ++i, ++count) ok += verify_signature(row.alg, *row.key, input, row.signature) == AuthStatus::Ok;
      elapsed = Clock::now() - start;
    }
    CHECK(ok == count);
    const double us = (cpu_us() - cpu_start) / count;
    const double wall = std::chrono::duration<double, std::micro>(elapsed).count() / count;
    report << name(row.alg) << " " << us << " us/verify cpu (" << static_cast<long>(1e6 / us) << "/s, wall "
           << wall << " us); ";
  }
  MESSAGE(report.str());
}

}  // namespace
}  // namespace portcullis::auth::crypto
