#include "net/upstream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>

#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

#include "log/log.h"
#include "net/timeval.h"
#include "net/tls.h"
#include "net/worker.h"

namespace portcullis::net {
namespace {

// Pooled connections are dropped after this much idleness (upstreams close theirs too).
constexpr Millis kIdleTimeout{30000};
constexpr size_t kOutputLowWater = 64 * 1024;

}  // namespace

UpstreamConnection::UpstreamConnection(UpstreamPool& pool) : pool_(pool) {}

UpstreamConnection::~UpstreamConnection() = default;

bool UpstreamConnection::connect() {
  Worker& w = pool_.worker();
  const UpstreamTarget& t = pool_.target();
  if (t.tls) {
    if (!t.tls_context) return false;  // the creator of the workers did not load it (Server::start does)
    SSL* ssl = new_upstream_ssl(t.tls_context.get(), t.server_name);
    if (ssl == nullptr) return false;
    // Deferred callbacks: OpenSSL bufferevents may call back from inside evbuffer_add.
    bev_.reset(bufferevent_openssl_socket_new(w.base(), -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                              BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS));
    if (!bev_) {
      SSL_free(ssl);
      return false;
    }
    tls_ = true;
  } else {
    bev_.reset(bufferevent_socket_new(w.base(), -1, BEV_OPT_CLOSE_ON_FREE));
    if (!bev_) return false;
  }
  bufferevent_setcb(bev_.get(), on_read, on_write, on_event, this);
  bufferevent_setwatermark(bev_.get(), EV_WRITE, kOutputLowWater, 0);
  timeval connect_tv = to_timeval(t.connect_timeout);
  // The TLS handshake waits on reads as well as writes: connect_timeout bounds both.
  bufferevent_set_timeouts(bev_.get(), tls_ ? &connect_tv : nullptr, &connect_tv);
  bufferevent_enable(bev_.get(), tls_ ? EV_READ | EV_WRITE : EV_WRITE);
  if (bufferevent_socket_connect(bev_.get(), reinterpret_cast<const sockaddr*>(&t.address),
                                 static_cast<int>(t.address_len)) != 0) {
    return false;
  }
  // A plain socket's fd exists only now. Reading right away notices a refused or reset connection.
  if (!reader_.attach(bev_.get(), !tls_, on_read, on_write, on_event, this)) return false;
  reader_.enable();
  return true;
}

void UpstreamConnection::attach(UpstreamOwner* owner) {
  owner_ = owner;
  idle_ = false;
}

void UpstreamConnection::await_response() {
  timeval tv = to_timeval(pool_.target().timeout);
  if (connected_) {
    reader_.set_timeouts(&tv, &tv);
  } else {
    response_awaited_ = true;  // a request without a body, written on a new connection
  }
  reader_.enable();
}

void UpstreamConnection::write_now() {
  if (!connected_ || !bev_) return;
  if (!tls_) {
    net::write_now(bev_.get());
  } else if (evbuffer_get_length(output()) > 0) {
    bufferevent_enable(bev_.get(), EV_WRITE);  // OpenSSL writes from the output's callback
  }
}

void UpstreamConnection::enter_tunnel() {
  reader_.set_timeouts(nullptr, nullptr);
  reader_.enable();
}

void UpstreamConnection::pause_reading() { reader_.disable(); }
void UpstreamConnection::resume_reading() { reader_.enable(); }

void UpstreamConnection::finish(bool reusable) {
  owner_ = nullptr;
  ++requests_served_;
  if (!reusable || closed_ || pool_.worker().draining()) {
    close();
    return;
  }
  become_idle();
}

void UpstreamConnection::become_idle() {
  idle_ = true;
  timeval idle_tv = to_timeval(kIdleTimeout);
  reader_.set_timeouts(&idle_tv, nullptr);
  reader_.enable();
  pool_.put_idle(this);
}

void UpstreamConnection::close() {
  if (closed_) return;
  closed_ = true;
  if (idle_) pool_.remove_idle(this);
  idle_ = false;
  owner_ = nullptr;
  reader_.detach();  // before the bufferevent closes the fd
  bev_.reset();
  pool_.worker().defer_delete(this);
}

void UpstreamConnection::on_read(bufferevent*, void* arg) noexcept {
  auto* self = static_cast<UpstreamConnection*>(arg);
  try {
    if (self->owner_ != nullptr) {
      self->owner_->upstream_readable();
    } else {
      // Bytes on an idle connection: nothing is asked, so the upstream is confused. Drop it.
      self->close();
    }
  } catch (...) {
    log::error("exception in upstream read callback");
    self->close();
  }
}

void UpstreamConnection::on_write(bufferevent* bev, void* arg) noexcept {
  auto* self = static_cast<UpstreamConnection*>(arg);
  try {
    if (!self->tls_ && evbuffer_get_length(bufferevent_get_output(bev)) == 0) bufferevent_disable(bev, EV_WRITE);
    if (self->owner_ != nullptr) self->owner_->upstream_drained();
  } catch (...) {
    log::error("exception in upstream write callback");
    self->close();
  }
}

void UpstreamConnection::on_event(bufferevent*, short what, void* arg) noexcept {
  auto* self = static_cast<UpstreamConnection*>(arg);
  try {
    if (what & BEV_EVENT_CONNECTED) {
      self->connected_ = true;
      evutil_socket_t fd = bufferevent_getfd(self->bev_.get());
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      // From now on the connect timeout no longer applies; the owner sets response timeouts.
      timeval tv = to_timeval(self->pool_.target().timeout);
      self->reader_.set_timeouts(self->response_awaited_ ? &tv : nullptr, &tv);
      if (!self->tls_ && evbuffer_get_length(self->output()) == 0) bufferevent_disable(self->bev_.get(), EV_WRITE);
      if (self->owner_ != nullptr) self->owner_->upstream_drained();
      return;
    }
    if (self->tls_ && !self->connected_ && (what & BEV_EVENT_ERROR)) self->log_handshake_failure();
    UpstreamOwner* owner = self->owner_;
    UpstreamFailure failure = UpstreamFailure::Reset;
    if (!self->connected_) {
      failure = (what & BEV_EVENT_TIMEOUT) ? UpstreamFailure::Timeout : UpstreamFailure::ConnectFailed;
    } else if (what & BEV_EVENT_TIMEOUT) {
      failure = UpstreamFailure::Timeout;
    } else if (what & BEV_EVENT_EOF) {
      failure = UpstreamFailure::Closed;
    }
    if (owner != nullptr) {
      // The owner decides what the failure means (a close-delimited body ends with EOF).
      owner->upstream_failed(failure);
    } else {
      self->close();
    }
  } catch (...) {
    log::error("exception in upstream event callback");
    self->close();
  }
}

// A failed TLS handshake is a configuration problem (untrusted CA, wrong name) more often than
// a network one: say why, at most every few seconds per pool so that a storm stays readable.
void UpstreamConnection::log_handshake_failure() {
  std::string why = handshake_failure(bev_.get());
  auto now = std::chrono::steady_clock::now();
  if (now - pool_.last_tls_log_ < std::chrono::seconds(5) && pool_.tls_logged_) return;
  pool_.tls_logged_ = true;
  pool_.last_tls_log_ = now;
  const UpstreamTarget& t = pool_.target();
  log::warn("upstream TLS handshake failed",
            {log::str("upstream", t.name), log::str("server_name", t.server_name), log::str("error", why)});
}

UpstreamPool::UpstreamPool(Worker& worker, const UpstreamTarget& target) : worker_(worker), target_(target) {}

UpstreamPool::~UpstreamPool() = default;

UpstreamConnection* UpstreamPool::acquire(UpstreamOwner* owner, bool fresh_only) {
  if (!fresh_only && !idle_.empty()) {
    UpstreamConnection* c = idle_.back();
    idle_.pop_back();
    c->attach(owner);
    return c;
  }
  auto* c = new UpstreamConnection(*this);
  c->attach(owner);
  if (!c->connect()) {
    c->close();
    return nullptr;
  }
  return c;
}

void UpstreamPool::put_idle(UpstreamConnection* c) {
  if (idle_.size() >= target_.max_idle_connections) {
    c->idle_ = false;
    c->close();
    return;
  }
  idle_.push_back(c);
}

void UpstreamPool::remove_idle(UpstreamConnection* c) {
  auto it = std::find(idle_.begin(), idle_.end(), c);
  if (it != idle_.end()) idle_.erase(it);
}

void UpstreamPool::close_idle() {
  std::vector<UpstreamConnection*> idle;
  idle.swap(idle_);
  for (UpstreamConnection* c : idle) {
    c->idle_ = false;
    c->close();
  }
}

}  // namespace portcullis::net
