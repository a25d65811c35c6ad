// portcullis demo: the embedded default. One process with nothing to configure: a dev ES256
// key made at start, its JWKS served from memory by a local dev issuer, a built-in echo API,
// and the gateway (served by main.cc like `run`) with the example policy. Once the gateway is
// ready it prints curl commands with freshly minted tokens and the answer each one gets.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cli/command_io.h"
#include "cli/demo_plan.h"
#include "cli/demo_services.h"
#include "config/gateway_config.h"
#include "policy/model.h"

namespace portcullis::cli {

extern const std::string_view kDemoUsage;

class Demo {
 public:
  // `args` are the arguments after "demo". Parses the flags, makes the key and tokens,
  // starts the dev issuer and the echo API, and builds the gateway's config and policy.
  // Null when there is nothing to serve: `exit_code` is then 0 (--help), 1 (a failure,
  // reported on io.err) or 2 (a usage error). Blocks the signals the gateway waits for
  // (net::Server::block_signals) before it starts any thread.
  static std::unique_ptr<Demo> create(std::span<const std::string_view> args, const Io& io, int& exit_code);
  ~Demo();

  const config::LoadResult& config() const { return config_; }
  std::shared_ptr<const policy::PolicySet> policies() const { return policies_; }
  // Called once the gateway is ready (keys loaded, policy live: /readyz answers 200) with
  // its bound ports: prints the commands on io.out.
  void on_ready(uint16_t port, uint16_t admin_port) const;

 private:
  Demo() = default;

  Io io_;
  std::string listen_host_, admin_host_;
  std::unique_ptr<demo::LocalService> issuer_, echo_;
  config::LoadResult config_;
  std::shared_ptr<const policy::PolicySet> policies_;
  demo::Tokens tokens_;
  int64_t tokens_expire_ = 0;  // unix seconds
};

}  // namespace portcullis::cli
