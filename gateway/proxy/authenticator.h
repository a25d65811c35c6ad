// Per-worker token verification: the verified-token cache, this worker's view of every
// issuer's keys, and requests parked while an unknown kid triggers a key refresh.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "auth/claims.h"
#include "auth/status.h"
#include "auth/token_cache.h"
#include "auth/verifier.h"
#include "config/gateway_config.h"
#include "metrics/metrics.h"
#include "net/handler.h"
#include "proxy/key_manager.h"

namespace portcullis::proxy {

struct AuthResult {
  auth::AuthStatus status = auth::AuthStatus::Ok;
  int issuer = -1;
  std::shared_ptr<const auth::Identity> identity;
};

// What a parked request needs to resume: where its decision goes, and the caller's own
// context (e.g. the matched route).
struct PendingContext {
  net::Decision* decision = nullptr;
  net::DecisionReceiver* receiver = nullptr;
  const void* route = nullptr;
  std::shared_ptr<const void> keep;  // keeps what `route` points into alive (a policy set)
};

// Told the outcome of an authentication that had to wait.
class AuthWaiter {
 public:
  virtual ~AuthWaiter() = default;
  virtual void onAuthenticated(const AuthResult& result, const PendingContext& context) = 0;
};

class Authenticator {
 public:
  Authenticator(const config::GatewayConfig& config, KeyManager& keys, metrics::WorkerStats& stats);
  ~Authenticator();

  // Fills `out` and returns nullptr, or returns a handle and calls waiter.onAuthenticated()
  // later (after a key refresh for an unknown kid). The caller cancels the handle if it dies.
  net::Cancelable* authenticate(std::string_view token, AuthResult& out, AuthWaiter& waiter,
                               const PendingContext& context);
  // On this worker's thread, after the key manager finished a refresh attempt for `issuer`.
  void on_keys_refreshed(size_t issuer);
  // Fails parked requests that waited too long (a safety net; refreshes are time-bounded).
  void expire_parked();
  const std::string& issuer_name(int issuer) const;

 private:
  struct Parked;
  void sync_keys();
  void verify(std::string_view token, AuthResult& out);

  const config::GatewayConfig& config_;
  KeyManager& keys_;
  metrics::WorkerStats& stats_;
  std::vector<auth::ClaimRules> rules_;
  std::vector<std::vector<auth::Alg>> algorithms_;
  std::vector<auth::IssuerView> views_;
  std::vector<std::shared_ptr<const auth::KeySet>> sets_;
  uint64_t seen_version_ = UINT64_MAX;
  auth::TokenCache cache_;
  auth::VerifyScratch scratch_;
  auth::VerifyOutcome outcome_;
  std::vector<std::unique_ptr<Parked>> parked_;
};

}  // namespace portcullis::proxy
