// One event loop on one thread: its own listening socket (SO_REUSEPORT), its own client
// connections and upstream pools, its own stats. Nothing on the request path is shared
// with other workers; the main thread talks to a worker only through an eventfd.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "http/request_head.h"
#include "metrics/metrics.h"
#include "net/handler.h"
#include "net/libevent_ptr.h"
#include "net/settings.h"

namespace portcullis::net {

class DownstreamConnection;
class UpstreamConnection;
class UpstreamPool;
class Worker;

using HandlerFactory = std::function<std::unique_ptr<RequestHandler>(Worker&)>;

// Shared across workers; only touched per connection, never per request.
struct SharedState {
  std::atomic<int64_t> connections{0};
  std::atomic<bool> draining{false};
};

class Worker {
 public:
  Worker(int id, const NetSettings& settings, SharedState& shared, metrics::Metrics& metrics);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds a listening socket with SO_REUSEPORT. Port 0 picks one; the bound port is returned.
  Result<uint16_t> listen(const std::string& host, uint16_t port);
  void set_handler(std::unique_ptr<RequestHandler> handler) { handler_ = std::move(handler); }
  void start();
  void begin_drain();  // thread-safe
  // Runs f on this worker's loop thread soon (thread-safe; e.g. "keys changed", "reload").
  void post(std::function<void()> f);
  void stop();         // thread-safe: leave the loop now
  void join();
  bool stopped() const { return stopped_.load(); }

  // Loop-thread API for connections and handlers.
  int id() const { return id_; }
  event_base* base() const { return base_.get(); }
  const NetSettings& settings() const { return settings_; }
  RequestHandler& handler() { return *handler_; }
  UpstreamPool& pool(size_t index) { return *pools_[index]; }
  size_t pool_count() const { return pools_.size(); }
  metrics::WorkerStats& stats() { return stats_; }
  std::string& access_log() { return access_log_; }
  bool draining() const { return draining_; }
  http::RequestHead& scratch_head() { return scratch_head_; }
  std::string& scratch() { return scratch_; }  // for heads being written; never held across calls
  void new_request_id(char (&out)[32]);
  void defer_delete(DownstreamConnection* c);
  void defer_delete(UpstreamConnection* c);
  void connection_closed(DownstreamConnection* c);
  // Called periodically on the loop thread (about every 100 ms), e.g. for handler upkeep.
  void add_tick(std::function<void()> f) { ticks_.push_back(std::move(f)); }
  // TLS on this worker's listener: connections accepted from now on use this context (null:
  // plain HTTP). Loop thread, or before start(); a certificate reload posts the new one.
  void set_listener_tls(std::shared_ptr<ssl_ctx_st> ctx) { listener_tls_ = std::move(ctx); }
  ssl_ctx_st* listener_tls() const { return listener_tls_.get(); }
  // Called once when the loop has ended, while the event base still exists (e.g. to free
  // what was registered on it).
  void add_on_stop(std::function<void()> f) { on_stop_.push_back(std::move(f)); }

 private:
  static void on_accept(evconnlistener* l, evutil_socket_t fd, sockaddr* addr, int len, void* arg) noexcept;
  static void on_control(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_tick(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_reap(evutil_socket_t fd, short what, void* arg) noexcept;
  void accept_connection(evutil_socket_t fd, sockaddr* addr, int len);
  void handle_control();
  void drain_now();
  void reap();
  void flush_logs();
  void maybe_finish_drain();

  const int id_;
  const NetSettings& settings_;
  SharedState& shared_;
  metrics::Metrics& metrics_;
  EventBasePtr base_;
  ListenerPtr listener_;
  EventPtr control_event_;
  EventPtr tick_event_;
  EventPtr reap_event_;
  int control_fd_ = -1;
  std::atomic<bool> drain_requested_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stopped_{false};
  bool draining_ = false;
  std::unique_ptr<RequestHandler> handler_;
  std::shared_ptr<ssl_ctx_st> listener_tls_;
  std::vector<std::unique_ptr<UpstreamPool>> pools_;
  metrics::WorkerStats stats_;
  std::string access_log_;
  unsigned tick_count_ = 0;
  std::vector<std::function<void()>> ticks_;
  std::vector<std::function<void()>> on_stop_;
  void run_on_stop();
  http::RequestHead scratch_head_;
  std::string scratch_;
  uint64_t request_id_prefix_ = 0;
  uint64_t request_counter_ = 0;
  DownstreamConnection* connections_ = nullptr;  // intrusive list head
  size_t connection_count_ = 0;
  std::vector<DownstreamConnection*> dead_downstream_;
  std::vector<UpstreamConnection*> dead_upstream_;
  std::mutex posted_mutex_;  // guards posted_: taken per post, never per request
  std::vector<std::function<void()>> posted_;
  std::thread thread_;
};

}  // namespace portcullis::net
