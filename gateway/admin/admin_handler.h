// The admin port: /healthz, /readyz, /metrics. Served by its own loop, never on the public
// port, and never forwards anything.
#pragma once

#include <atomic>
#include <functional>

#include "metrics/metrics.h"
#include "net/handler.h"

namespace portcullis::admin {

class AdminHandler final : public net::RequestHandler {
 public:
  // ready: whether every issuer has keys and every policy file loaded.
  AdminHandler(metrics::Metrics& metrics, std::function<bool()> ready, const std::atomic<bool>& draining);
  net::Cancelable* decide(const net::RequestView& request, net::Decision& decision,
                          net::DecisionReceiver& receiver) override;

 private:
  metrics::Metrics& metrics_;
  std::function<bool()> ready_;
  const std::atomic<bool>& draining_;
};

}  // namespace portcullis::admin
