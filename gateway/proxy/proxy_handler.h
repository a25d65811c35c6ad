// The per-request pipeline on the public port: extract the token -> authenticate (cache,
// keys, parked refresh) -> decide -> identity headers. Route matching and policy plug in
// here; until then every request needs a valid token from a configured issuer (or, with no
// issuer configured, is forwarded as is) and goes to the `default` upstream.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "metrics/metrics.h"
#include "net/handler.h"
#include "proxy/authenticator.h"
#include "proxy/key_manager.h"

namespace portcullis::proxy {

class ProxyHandler final : public net::RequestHandler, public AuthWaiter {
 public:
  ProxyHandler(const config::GatewayConfig& config, KeyManager* keys, metrics::WorkerStats& stats);

  net::Cancelable* decide(const net::RequestView& request, net::Decision& decision,
                          net::DecisionReceiver& receiver) override;
  void onAuthenticated(const AuthResult& result, const PendingContext& context) override;

  void on_keys_refreshed(size_t issuer) {
    if (auth_) auth_->on_keys_refreshed(issuer);
  }
  void expire_parked() {
    if (auth_) auth_->expire_parked();
  }

 private:
  void finish(const AuthResult& result, net::Decision& d);

  const config::GatewayConfig& config_;
  metrics::WorkerStats& stats_;
  size_t default_upstream_ = 0;
  std::vector<std::string> identity_names_;
  std::unique_ptr<Authenticator> auth_;
  std::vector<std::string_view> dropped_claims_;
};

}  // namespace portcullis::proxy
