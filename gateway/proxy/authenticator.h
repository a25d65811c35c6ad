// Per-worker token verification: the verified-token cache, this worker's view of every
// issuer's keys, requests parked while an unknown kid triggers a key refresh, and the
// introspection step (RFC 7662) for issuers that have one: opaque tokens, `always` (parked
// until the shared verdict is fresh) and `periodic` (one atomic load per request; the
// verdict is refreshed in the background).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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
#include "policy/model.h"
#include "proxy/introspector.h"
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
  // `introspector` may be null (no issuer introspects). `notify` is called from the control
  // thread when an introspection this worker waits for has ended; it must post
  // on_introspected() to this worker's loop.
  Authenticator(const config::GatewayConfig& config, KeyManager& keys, Introspector* introspector,
                std::function<void()> notify, metrics::WorkerStats& stats);
  ~Authenticator();

  // Fills `out` and returns nullptr, or returns a handle and calls waiter.onAuthenticated()
  // later (after a key refresh for an unknown kid, or an introspection call). The caller
  // cancels the handle if it dies. `route` (may be null) limits which issuers may introspect
  // an opaque token.
  net::Cancelable* authenticate(std::string_view token, const policy::Route* route, AuthResult& out,
                                AuthWaiter& waiter, const PendingContext& context);
  // On this worker's thread, after the key manager finished a refresh attempt for `issuer`.
  void on_keys_refreshed(size_t issuer);
  // On this worker's thread, after an introspection call it waited for has ended.
  void on_introspected();
  // Fails parked requests that waited too long (a safety net; fetches are time-bounded).
  void expire_parked();
  const std::string& issuer_name(int issuer) const;

 private:
  struct Parked;
  enum class Judgement { Done, Wait };
  void sync_keys();
  std::shared_ptr<auth::IntrospectionEntry> verify(std::string_view token, AuthResult& out);
  int opaque_issuer(const policy::Route* route) const;
  Judgement judge(const std::shared_ptr<auth::IntrospectionEntry>& entry,
                  const std::shared_ptr<const auth::Identity>& offline, int64_t now, AuthResult& out);
  bool await_or_settle(const std::shared_ptr<auth::IntrospectionEntry>& entry,
                       const std::shared_ptr<const auth::Identity>& offline, int64_t now, AuthResult& out);
  void resolve(const auth::IntrospectionEntry& entry, const std::shared_ptr<const auth::Identity>& offline,
               const IntrospectionView& view, AuthResult& out);
  net::Cancelable* park(std::unique_ptr<Parked> parked);
  void remember_opaque(std::string_view token, const std::shared_ptr<auth::IntrospectionEntry>& entry,
                       const AuthResult& result, int64_t now);

  const config::GatewayConfig& config_;
  KeyManager& keys_;
  Introspector* introspector_;
  const std::function<void()> notify_;  // its address is what the introspector calls back
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
