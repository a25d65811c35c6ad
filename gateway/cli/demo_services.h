// The two local services `portcullis demo` runs beside the gateway, served by the gateway's
// own connection machinery (a net::Worker whose RequestHandler answers locally, as the admin
// port does), each on 127.0.0.1 with a port the OS picks:
//  - the dev issuer: its JWKS from memory at /jwks.json, fetched by the key manager over
//    HTTP like any issuer's jwks_uri;
//  - the echo API: answers every request with JSON naming the method, target and headers it
//    received, so the identity headers the gateway injects can be seen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "metrics/metrics.h"
#include "net/handler.h"
#include "net/settings.h"
#include "net/worker.h"

namespace portcullis::cli::demo {

class DevIssuerHandler final : public net::RequestHandler {
 public:
  explicit DevIssuerHandler(std::string jwks_json) : jwks_json_(std::move(jwks_json)) {}
  net::Cancelable* decide(const net::RequestView& request, net::Decision& decision,
                          net::DecisionReceiver& receiver) override;

 private:
  std::string jwks_json_;
};

class EchoHandler final : public net::RequestHandler {
 public:
  net::Cancelable* decide(const net::RequestView& request, net::Decision& decision,
                          net::DecisionReceiver& receiver) override;
};

// The echo's answer, pretty-printed: {"method": ..., "path": the request-target as received,
// "headers": {name: value, ...}} with the headers in the order received (a repeated name is
// joined with ", " under its first spelling). A request body is not read.
std::string echo_json(const net::RequestView& request);

// One handler on its own loop thread, listening on 127.0.0.1 (port 0: the OS picks). Its
// requests are counted in a registry of its own, never in the gateway's /metrics. Stopped
// and joined when destroyed. Call net::Server::block_signals() before the first start().
class LocalService {
 public:
  static Result<std::unique_ptr<LocalService>> start(std::unique_ptr<net::RequestHandler> handler);
  ~LocalService();
  LocalService(const LocalService&) = delete;
  LocalService& operator=(const LocalService&) = delete;

  uint16_t port() const { return port_; }

 private:
  LocalService() = default;

  net::NetSettings settings_;
  net::SharedState shared_;
  metrics::Metrics metrics_;
  std::unique_ptr<net::Worker> worker_;  // last: it refers to the three above
  uint16_t port_ = 0;
};

}  // namespace portcullis::cli::demo
