// The per-request pipeline on the public port: match the route (policy) -> extract the
// token -> authenticate (cache, keys, parked refresh) -> issuer and requirements -> forward
// with identity headers, or answer 401/403/404/405/503. Without policy files, every request
// needs a valid token from a configured issuer (none configured: every request is
// forwarded) and goes to the `default` upstream.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "metrics/metrics.h"
#include "net/handler.h"
#include "policy/model.h"
#include "proxy/authenticator.h"
#include "proxy/key_manager.h"
#include "proxy/policy_store.h"

namespace portcullis::proxy {

class ProxyHandler final : public net::RequestHandler, public AuthWaiter {
 public:
  // `introspector` may be null; `notify` as for Authenticator.
  ProxyHandler(const config::GatewayConfig& config, KeyManager* keys, PolicyStore* policies,
               metrics::WorkerStats& stats, Introspector* introspector = nullptr, std::function<void()> notify = {});

  net::Cancelable* decide(const net::RequestView& request, net::Decision& decision,
                          net::DecisionReceiver& receiver) override;
  void onAuthenticated(const AuthResult& result, const PendingContext& context) override;

  void on_keys_refreshed(size_t issuer) {
    if (auth_) auth_->on_keys_refreshed(issuer);
  }
  void on_introspected() {
    if (auth_) auth_->on_introspected();
  }
  void expire_parked() {
    if (auth_) auth_->expire_parked();
  }

 private:
  // Finds the token; TokenMissing when there is none.
  auth::AuthStatus extract(const net::RequestView& request, std::string_view& token) const;
  void finish(const AuthResult& result, const policy::Route* route, net::Decision& d);
  void allow(const auth::Identity* identity, net::Decision& d);
  void refuse(const AuthResult& result, net::Decision& d);
  void respond(net::Decision& d, int status, std::string_view code);

  const config::GatewayConfig& config_;
  PolicyStore* policies_;
  metrics::WorkerStats& stats_;
  size_t default_upstream_ = 0;
  std::vector<std::string> identity_names_;
  std::unique_ptr<Authenticator> auth_;
  std::shared_ptr<const policy::PolicySet> policy_set_;
  uint64_t policy_version_ = 0;
  std::vector<std::string_view> dropped_claims_;
};

}  // namespace portcullis::proxy
