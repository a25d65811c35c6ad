// The process: N proxy workers sharing one port (SO_REUSEPORT), one admin worker on the
// admin port, and the main thread waiting for signals (SIGTERM/SIGINT drain, SIGHUP reload).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "metrics/metrics.h"
#include "net/settings.h"
#include "net/tls.h"
#include "net/worker.h"

namespace portcullis::net {

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

class Server {
 public:
  Server(NetSettings settings, metrics::Metrics& metrics);
  ~Server();

  // Loads the TLS certificates (listener and https upstreams) and binds every socket, so that
  // errors surface before anything serves, then starts the loops. With a TLS listener the
  // admin (control) loop re-reads the certificate and key when they change (about every
  // second) and hands a new context to the workers for the connections they accept next.
  std::optional<Error> start(const ListenAddress& listen, const ListenAddress& admin, unsigned workers,
                             const HandlerFactory& proxy_handlers, const HandlerFactory& admin_handler);
  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  SharedState& shared() { return shared_; }
  std::vector<std::unique_ptr<Worker>>& workers() { return workers_; }

  // Blocks the calling (main) thread until SIGTERM or SIGINT, calling on_reload for SIGHUP,
  // then drains: stop accepting, finish in-flight requests within drain_timeout, stop.
  void run_until_signal(const std::function<void()>& on_reload);
  void shutdown();

  // Call before any thread starts: blocks the signals the main thread waits for.
  static void block_signals();

 private:
  NetSettings settings_;
  NetSettings admin_settings_;
  metrics::Metrics& metrics_;
  SharedState shared_;
  SharedState admin_shared_;  // the admin port has its own connection budget
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Worker> admin_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::unique_ptr<ListenerTlsReloader> tls_reloader_;
  unsigned tls_ticks_ = 0;

  std::optional<Error> load_tls(SslContext& listener_tls);
  void check_listener_certificate();
};

}  // namespace portcullis::net
