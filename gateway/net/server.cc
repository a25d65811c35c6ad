#include "net/server.h"

#include <signal.h>

#include <chrono>
#include <thread>

#include "log/log.h"

namespace portcullis::net {

Server::Server(NetSettings settings, metrics::Metrics& metrics)
    : settings_(std::move(settings)), admin_settings_(settings_), metrics_(metrics) {
  admin_settings_.upstreams.clear();
  admin_settings_.tls.reset();  // the admin port stays plain HTTP on its own address
  admin_settings_.access_log = false;
  admin_settings_.max_body_bytes = 0;
  admin_settings_.max_connections = 256;  // probes and scrapes; never counted against clients
}

Server::~Server() { shutdown(); }

void Server::block_signals() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::optional<Error> Server::start(const ListenAddress& listen, const ListenAddress& admin, unsigned workers,
                                   const HandlerFactory& proxy_handlers, const HandlerFactory& admin_handler) {
  SslContext listener_tls;
  if (auto err = load_tls(listener_tls)) return err;
  uint16_t port = listen.port;
  for (unsigned i = 0; i < workers; ++i) {
    auto w = std::make_unique<Worker>(static_cast<int>(i), settings_, shared_, metrics_);
    Result<uint16_t> bound = w->listen(listen.host, port);
    if (!bound) return bound.error();
    port = *bound;  // port 0: the first worker's pick is shared by the others
    w->set_listener_tls(listener_tls);
    w->set_handler(proxy_handlers(*w));
    workers_.push_back(std::move(w));
  }
  port_ = port;
  admin_ = std::make_unique<Worker>(-1, admin_settings_, admin_shared_, metrics_);
  Result<uint16_t> admin_bound = admin_->listen(admin.host, admin.port);
  if (!admin_bound) return admin_bound.error();
  admin_port_ = *admin_bound;
  admin_->set_handler(admin_handler(*admin_));
  if (tls_reloader_) admin_->add_tick([this] { check_listener_certificate(); });
  for (auto& w : workers_) w->start();
  admin_->start();
  return std::nullopt;
}

std::optional<Error> Server::load_tls(SslContext& listener_tls) {
  if (settings_.tls) {
    tls_reloader_ = std::make_unique<ListenerTlsReloader>(*settings_.tls);
    Result<SslContext> ctx = tls_reloader_->load();
    if (!ctx) return Error{"listen.tls: " + ctx.error().message};
    listener_tls = std::move(ctx.value());
  }
  // Before any worker exists: the pools keep references to these targets.
  for (UpstreamTarget& t : settings_.upstreams) {
    if (!t.tls || t.tls_context) continue;
    Result<SslContext> ctx = make_upstream_tls(t.ca_file);
    if (!ctx) return Error{"upstream " + t.name + ": " + ctx.error().message};
    t.tls_context = std::move(ctx.value());
  }
  return std::nullopt;
}

// On the admin loop, every tenth tick (about once a second).
void Server::check_listener_certificate() {
  if (++tls_ticks_ % 10 != 0) return;
  SslContext fresh = tls_reloader_->poll();
  if (!fresh) return;
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->post([worker, fresh] { worker->set_listener_tls(fresh); });
  }
}

void Server::run_until_signal(const std::function<void()>& on_reload) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log::info("reload requested", {log::str("signal", "SIGHUP")});
      if (on_reload) on_reload();
      continue;
    }
    log::info("draining", {log::str("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
                           log::num("drain_timeout_ms", static_cast<int64_t>(settings_.drain_timeout.count()))});
    break;
  }
  shared_.draining.store(true);
  for (auto& w : workers_) w->begin_drain();
  auto deadline = std::chrono::steady_clock::now() + settings_.drain_timeout;
  for (;;) {
    bool all_stopped = true;
    for (auto& w : workers_) all_stopped = all_stopped && w->stopped();
    if (all_stopped || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  shutdown();
  log::info("stopped");
}

void Server::shutdown() {
  // The admin loop first: it is the control loop, which posts to the workers.
  if (admin_) {
    admin_->stop();
    admin_->join();
    admin_.reset();
  }
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  workers_.clear();
}

}  // namespace portcullis::net
