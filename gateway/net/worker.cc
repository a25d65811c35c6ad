#include "net/worker.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "log/log.h"
#include "net/downstream.h"
#include "net/upstream.h"

namespace portcullis::net {
namespace {

constexpr int kTickMillis = 100;
constexpr unsigned kTicksPerMetricsFlush = 10;

}  // namespace

Worker::Worker(int id, const NetSettings& settings, SharedState& shared, metrics::Metrics& metrics)
    : id_(id), settings_(settings), shared_(shared), metrics_(metrics) {
  event_config* cfg = event_config_new();
  // One thread per base and no cross-thread calls into it: no locking needed.
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_.reset(event_base_new_with_config(cfg));
  event_config_free(cfg);
  control_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  control_event_.reset(event_new(base_.get(), control_fd_, EV_READ | EV_PERSIST, on_control, this));
  event_add(control_event_.get(), nullptr);
  tick_event_.reset(event_new(base_.get(), -1, EV_PERSIST, on_tick, this));
  timeval tick{0, kTickMillis * 1000};
  event_add(tick_event_.get(), &tick);
  reap_event_.reset(event_new(base_.get(), -1, 0, on_reap, this));
  for (const UpstreamTarget& t : settings_.upstreams) pools_.push_back(std::make_unique<UpstreamPool>(*this, t));
  std::random_device rd;
  request_id_prefix_ = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ (static_cast<uint64_t>(id) << 56);
}

Worker::~Worker() {
  join();
  run_on_stop();  // when the loop never ran
  // Close what is left (connections cut by a drain timeout), then free deferred objects.
  while (connections_ != nullptr) connections_->close();
  for (auto& pool : pools_) pool->close_idle();
  reap();
  handler_.reset();
  listener_.reset();
  control_event_.reset();
  tick_event_.reset();
  reap_event_.reset();
  if (control_fd_ >= 0) ::close(control_fd_);
  flush_logs();
  stats_.flush(metrics_);
}

Result<uint16_t> Worker::listen(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
    return Error{"cannot resolve listen address " + host + ": " + gai_strerror(rc)};
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, freeaddrinfo);
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 4096) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return Error{"cannot listen on " + host + ":" + port_text + ": " + err};
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t bound_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                    : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listener_.reset(evconnlistener_new(base_.get(), on_accept, this, LEV_OPT_CLOSE_ON_FREE, -1, fd));
  if (!listener_) {
    ::close(fd);
    return Error{"cannot register listener"};
  }
  return bound_port;
}

void Worker::start() {
  thread_ = std::thread([this] {
    event_base_dispatch(base_.get());
    run_on_stop();
    flush_logs();
    stats_.flush(metrics_);
    stopped_.store(true);
  });
}

void Worker::begin_drain() {
  drain_requested_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(control_fd_, &one, sizeof one);
}

void Worker::post(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    posted_.push_back(std::move(f));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(control_fd_, &one, sizeof one);
}

void Worker::stop() {
  stop_requested_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(control_fd_, &one, sizeof one);
}

void Worker::run_on_stop() {
  std::vector<std::function<void()>> hooks;
  hooks.swap(on_stop_);
  for (auto& f : hooks) f();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::new_request_id(char (&out)[32]) {
  static const char* kHex = "0123456789abcdef";
  uint64_t parts[2] = {request_id_prefix_, ++request_counter_};
  for (int p = 0; p < 2; ++p) {
    for (int i = 0; i < 16; ++i) out[p * 16 + i] = kHex[(parts[p] >> (60 - 4 * i)) & 0xF];
  }
}

void Worker::defer_delete(DownstreamConnection* c) {
  dead_downstream_.push_back(c);
  event_active(reap_event_.get(), 0, 0);
}

void Worker::defer_delete(UpstreamConnection* c) {
  dead_upstream_.push_back(c);
  if (reap_event_) event_active(reap_event_.get(), 0, 0);
}

void Worker::connection_closed(DownstreamConnection* c) {
  if (c->prev_ != nullptr) c->prev_->next_ = c->next_;
  if (c->next_ != nullptr) c->next_->prev_ = c->prev_;
  if (connections_ == c) connections_ = c->next_;
  c->prev_ = c->next_ = nullptr;
  --connection_count_;
  shared_.connections.fetch_sub(1, std::memory_order_relaxed);
  stats_.connection_closed();
  defer_delete(c);
  if (draining_) maybe_finish_drain();
}

void Worker::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  try {
    self->accept_connection(fd, addr, len);
  } catch (...) {
    ::close(fd);
    log::error("exception while accepting a connection");
  }
}

void Worker::accept_connection(evutil_socket_t fd, sockaddr* addr, int len) {
  // shared_.draining is set by the main thread before the workers hear of the drain: from
  // that moment no new connection is served.
  if (draining_ || shared_.draining.load(std::memory_order_relaxed) ||
      shared_.connections.load(std::memory_order_relaxed) >= static_cast<int64_t>(settings_.max_connections)) {
    ::close(fd);
    stats_.connection_rejected();
    return;
  }
  shared_.connections.fetch_add(1, std::memory_order_relaxed);
  ++connection_count_;
  stats_.connection_opened();
  evutil_make_socket_nonblocking(fd);
  auto* c = new DownstreamConnection(*this, fd, addr, len);
  c->next_ = connections_;
  if (connections_ != nullptr) connections_->prev_ = c;
  connections_ = c;
  c->start();
}

void Worker::on_control(evutil_socket_t fd, short, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  uint64_t value;
  [[maybe_unused]] ssize_t n = ::read(fd, &value, sizeof value);
  try {
    self->handle_control();
  } catch (...) {
    log::error("exception in worker control callback");
  }
}

void Worker::handle_control() {
  if (stop_requested_.load()) {
    event_base_loopbreak(base_.get());
    return;
  }
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    posted.swap(posted_);
  }
  for (auto& f : posted) f();
  if (drain_requested_.load() && !draining_) drain_now();
}

void Worker::drain_now() {
  draining_ = true;
  listener_.reset();  // stop accepting; the kernel refuses new connections once no socket listens
  for (auto& pool : pools_) pool->close_idle();
  // drain() may close the connection and unlink it: walk with a saved next pointer.
  for (DownstreamConnection* c = connections_; c != nullptr;) {
    DownstreamConnection* next = c->next_;
    c->drain();
    c = next;
  }
  maybe_finish_drain();
}

void Worker::maybe_finish_drain() {
  if (draining_ && connection_count_ == 0) event_base_loopexit(base_.get(), nullptr);
}

void Worker::on_tick(evutil_socket_t, short, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  try {
    self->flush_logs();
    if (++self->tick_count_ % kTicksPerMetricsFlush == 0) self->stats_.flush(self->metrics_);
    for (auto& f : self->ticks_) f();
  } catch (...) {
    log::error("exception in worker tick");
  }
}

void Worker::on_reap(evutil_socket_t, short, void* arg) noexcept {
  static_cast<Worker*>(arg)->reap();
}

void Worker::reap() {
  // Deleting may close more connections (and queue them): loop until nothing is left.
  while (!dead_downstream_.empty() || !dead_upstream_.empty()) {
    std::vector<DownstreamConnection*> down;
    down.swap(dead_downstream_);
    for (DownstreamConnection* c : down) delete c;
    std::vector<UpstreamConnection*> up;
    up.swap(dead_upstream_);
    for (UpstreamConnection* c : up) delete c;
  }
}

void Worker::flush_logs() {
  if (!access_log_.empty()) log::flush_to_fd(access_log_, STDOUT_FILENO);
}

}  // namespace portcullis::net
