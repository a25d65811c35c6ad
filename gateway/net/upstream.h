// Connections to an upstream and the per-worker keep-alive pool that recycles them.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "net/libevent_ptr.h"
#include "net/settings.h"
#include "net/socket_reader.h"

namespace portcullis::net {

class Worker;
class UpstreamPool;

enum class UpstreamFailure { ConnectFailed, Reset, Closed, Timeout };

// The party an upstream connection currently works for (a client connection).
class UpstreamOwner {
 public:
  virtual ~UpstreamOwner() = default;
  virtual void upstream_readable() = 0;
  virtual void upstream_drained() = 0;  // output fell below the low watermark
  virtual void upstream_failed(UpstreamFailure failure) = 0;
};

class UpstreamConnection {
 public:
  explicit UpstreamConnection(UpstreamPool& pool);
  ~UpstreamConnection();

  bool connect();
  void attach(UpstreamOwner* owner);
  evbuffer* input() { return bufferevent_get_input(bev_.get()); }
  evbuffer* output() { return bufferevent_get_output(bev_.get()); }
  bool reused() const { return requests_served_ > 0; }
  bool connected() const { return connected_; }
  // Reading with the upstream's response timeout (waiting for / reading a response).
  void await_response();
  // Writes queued output now when connected (see net::write_now); while connecting,
  // libevent writes once the connection is up.
  void write_now();
  void pause_reading();
  void resume_reading();
  // The connection now carries a WebSocket tunnel: no response timeouts (the client side
  // times the tunnel out when idle), never back to the pool.
  void enter_tunnel();
  // Done with a request: back to the pool if reusable, else closed.
  void finish(bool reusable);
  // Closed for good (also from the pool). Deletion is deferred to the loop.
  void close();
  UpstreamPool& pool() { return pool_; }

  UpstreamConnection* next_idle_ = nullptr;  // pool's free list

 private:
  friend class UpstreamPool;
  static void on_read(bufferevent* bev, void* arg) noexcept;
  static void on_write(bufferevent* bev, void* arg) noexcept;
  static void on_event(bufferevent* bev, short what, void* arg) noexcept;
  void become_idle();
  void log_handshake_failure();

  UpstreamPool& pool_;
  BufferEventPtr bev_;
  SocketReader reader_;  // after bev_: stops reading before the bufferevent closes the fd
  UpstreamOwner* owner_ = nullptr;
  bool tls_ = false;
  bool connected_ = false;  // TCP connected, and for TLS the handshake (certificate check included) done
  bool response_awaited_ = false;  // await_response() ran before connected_: arm its timeout then
  bool closed_ = false;
  bool idle_ = false;
  size_t requests_served_ = 0;
};

class UpstreamPool {
 public:
  UpstreamPool(Worker& worker, const UpstreamTarget& target);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // An idle connection (most recently used first) or a new one that is connecting.
  // nullptr if a socket could not even be created.
  UpstreamConnection* acquire(UpstreamOwner* owner, bool fresh_only = false);
  void close_idle();
  const UpstreamTarget& target() const { return target_; }
  Worker& worker() { return worker_; }

 private:
  friend class UpstreamConnection;
  void put_idle(UpstreamConnection* c);
  void remove_idle(UpstreamConnection* c);

  Worker& worker_;
  const UpstreamTarget& target_;
  std::vector<UpstreamConnection*> idle_;
  std::chrono::steady_clock::time_point last_tls_log_{};
  bool tls_logged_ = false;
};

}  // namespace portcullis::net
