#include "net/downstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include "http/path.h"
#include "log/log.h"
#include "net/timeval.h"
#include "net/tls.h"
#include "net/websocket.h"
#include "net/worker.h"

namespace portcullis::net {
namespace {

constexpr size_t kHighWater = 256 * 1024;      // stop reading the source above this much unsent
constexpr size_t kLowWater = 64 * 1024;        // resume below this
constexpr size_t kMaxResponseHead = 64 * 1024; // upstream response heads
constexpr Millis kLingerTime{2000};            // reading (and discarding) after our last answer

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string_view error_code_for(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 405: return "method_not_allowed";
    case 408: return "request_timeout";
    case 413: return "body_too_large";
    case 417: return "expectation_failed";
    case 431: return "header_too_large";
    case 501: return "not_implemented";
    case 505: return "version_not_supported";
    default: return "bad_request";
  }
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// Moves `n` bytes from `in` to `out` as one chunk of the chunked coding (no copy of the data).
void move_as_chunk(evbuffer* in, evbuffer* out, size_t n) {
  char line[24];
  auto [end, ec] = std::to_chars(line, line + sizeof line - 2, n, 16);
  (void)ec;
  *end++ = '\r';
  *end++ = '\n';
  evbuffer_add(out, line, static_cast<size_t>(end - line));
  evbuffer_remove_buffer(in, out, n);
  evbuffer_add(out, "\r\n", 2);
}

// The contiguous bytes at the front of an evbuffer, without copying.
std::string_view first_segment(evbuffer* in) {
  evbuffer_iovec vec;
  if (evbuffer_peek(in, -1, nullptr, &vec, 1) < 1) return {};
  return {static_cast<const char*>(vec.iov_base), vec.iov_len};
}

// What the chunked decoder should look at: the first segment, or more when a framing line
// straddles segments.
std::string_view chunk_view(evbuffer* in, bool need_more) {
  std::string_view v = first_segment(in);
  size_t total = evbuffer_get_length(in);
  if (need_more && total > v.size()) {
    size_t n = std::min<size_t>(total, http::kMaxChunkSizeLine + http::kMaxTrailerBytes + 8);
    const unsigned char* p = evbuffer_pullup(in, static_cast<ev_ssize_t>(n));
    return {reinterpret_cast<const char*>(p), n};
  }
  return v;
}

// Per-worker (per-thread) free list of exchanges, so that requests reuse their buffers and
// idle keep-alive connections stay small.
template <class T>
std::vector<std::unique_ptr<T>>& exchange_pool() {
  thread_local std::vector<std::unique_ptr<T>> pool;
  return pool;
}
}  // namespace

DownstreamConnection::DownstreamConnection(Worker& worker, evutil_socket_t fd, const sockaddr* addr, int)
    : worker_(worker) {
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, client_ip_, sizeof client_ip_);
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, client_ip_, sizeof client_ip_);
  }
  client_ip_len_ = std::strlen(client_ip_);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (ssl_ctx_st* tls = worker.listener_tls()) {
    tls_ = true;
    SSL* ssl = SSL_new(tls);
    if (ssl == nullptr) {
      ::close(fd);  // start() sees no bufferevent and closes the connection
    } else {
      // Deferred callbacks: OpenSSL bufferevents write (and may call back) from inside
      // evbuffer_add; the state machine expects its callbacks from the loop only.
      bev_.reset(bufferevent_openssl_socket_new(worker.base(), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS));
      if (!bev_) {
        SSL_free(ssl);
        ::close(fd);
      }
    }
  } else {
    bev_.reset(bufferevent_socket_new(worker.base(), fd, BEV_OPT_CLOSE_ON_FREE));
  }
  timer_.reset(evtimer_new(worker.base(), on_timer, this));
}

DownstreamConnection::~DownstreamConnection() = default;

void DownstreamConnection::start() {
  if (!bev_ || !timer_) {
    close_now();
    return;
  }
  if (!reader_.attach(bev_.get(), !tls_, on_read, on_write, on_event, this)) {
    close_now();
    return;
  }
  reader_.set_high_water(std::max<size_t>(kHighWater, worker_.settings().max_header_bytes + 1024));
  bufferevent_setwatermark(bev_.get(), EV_WRITE, kLowWater, 0);
  // New bufferevents have EV_WRITE enabled; ours only while output is pending (write_now).
  // A TLS bufferevent keeps it: it encrypts and writes as soon as output is added.
  if (!tls_) bufferevent_disable(bev_.get(), EV_WRITE);
  reader_.enable();
  // Also bounds the TLS handshake: no request head in time, no connection.
  arm_timer(worker_.settings().client_timeout);
}

void DownstreamConnection::flush_output() {
  if (!tls_) {
    write_now(bev_.get());
  } else if (evbuffer_get_length(output()) > 0) {
    bufferevent_enable(bev_.get(), EV_WRITE);
  }
}

void DownstreamConnection::half_close() {
  evutil_socket_t fd = bufferevent_getfd(bev_.get());
  if (tls_) {
    // close_notify first, so that the client can tell our end of the stream from a cut.
    if (SSL* ssl = bufferevent_openssl_get_ssl(bev_.get()); ssl != nullptr && SSL_is_init_finished(ssl)) {
      SSL_shutdown(ssl);
    }
    ERR_clear_error();
  }
  shutdown(fd, SHUT_WR);
}

// A client that speaks plain HTTP to the TLS port gets a plain-HTTP 400 saying so (as nginx
// does), instead of a handshake failure it cannot read.
void DownstreamConnection::refuse_plain_http() {
  evutil_socket_t fd = bufferevent_getfd(bev_.get());
  if (fd < 0) return;
  char discard[4096];
  // Read what the client sent, so that closing does not reset the connection under our answer.
  for (int i = 0; i < 16 && ::recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0; ++i) {
  }
  char id[32];
  worker_.new_request_id(id);
  std::string body = "{\"error\":\"tls_required\",\"request_id\":\"" + std::string(id, sizeof id) + "\"}\n";
  std::string& s = worker_.scratch();
  s.clear();
  s.append("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ");
  append_uint(s, body.size());
  s.append("\r\nX-Request-Id: ");
  s.append(id, sizeof id);
  s.append("\r\nConnection: close\r\n\r\n");
  s.append(body);
  [[maybe_unused]] ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  shutdown(fd, SHUT_WR);
}

void DownstreamConnection::drain() {
  draining_ = true;
  if (state_ == State::WaitingHead && !head_started_) {
    close_now();
    return;
  }
  if (state_ == State::Tunnel) {  // not a request in flight: end it, flushing what is buffered
    end_tunnel(false);
    return;
  }
  if (ex_) ex_->close_after = true;
}

// ---- libevent trampolines ---------------------------------------------------------------

void DownstreamConnection::on_read(bufferevent*, void* arg) noexcept {
  auto* self = static_cast<DownstreamConnection*>(arg);
  try {
    if (self->state_ == State::Closing) {
      evbuffer_drain(self->input(), evbuffer_get_length(self->input()));  // lingering close
      return;
    }
    self->handle_readable();
  } catch (...) {
    log::error("exception in client read callback");
    self->close_now();
  }
}

void DownstreamConnection::on_write(bufferevent* bev, void* arg) noexcept {
  auto* self = static_cast<DownstreamConnection*>(arg);
  try {
    if (!self->tls_ && evbuffer_get_length(bufferevent_get_output(bev)) == 0) bufferevent_disable(bev, EV_WRITE);
    if (self->state_ == State::Closing) {
      if (evbuffer_get_length(self->output()) == 0) {
        // Everything is out: half-close and read what the client still sends for a moment,
        // so that our answer is not destroyed by a reset.
        self->half_close();
        self->arm_timer(kLingerTime);
      }
      return;
    }
    if (self->state_ == State::Proxying && self->ex_ && self->ex_->response_started && self->ex_->upstream) {
      self->ex_->upstream->resume_reading();
      self->pump_response_body();
    } else if (self->state_ == State::Tunnel) {
      self->relay_tunnel();
    }
  } catch (...) {
    log::error("exception in client write callback");
    self->close_now();
  }
}

void DownstreamConnection::on_event(bufferevent*, short what, void* arg) noexcept {
  auto* self = static_cast<DownstreamConnection*>(arg);
  try {
    if (what & BEV_EVENT_CONNECTED) return;  // TLS handshake done
    if (self->state_ == State::Tunnel) {
      // The client is gone: pass on what it sent last, then end both sides.
      self->relay_tunnel();
      self->close_now();
      return;
    }
    if (self->tls_ && (what & BEV_EVENT_ERROR) && self->state_ == State::WaitingHead && !self->head_started_ &&
        failed_on_plain_http(self->bev_.get())) {
      self->refuse_plain_http();
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
      // A client that half-closes after a complete request still gets its answer.
      if ((self->state_ == State::Proxying || self->state_ == State::Deciding) && self->ex_ &&
          self->ex_->request_done) {
        self->ex_->close_after = true;
        self->reader_.disable();
        return;
      }
    }
    self->close_now();
  } catch (...) {
    log::error("exception in client event callback");
    self->close_now();
  }
}

void DownstreamConnection::on_timer(evutil_socket_t, short, void* arg) noexcept {
  auto* self = static_cast<DownstreamConnection*>(arg);
  try {
    switch (self->state_) {
      case State::WaitingHead:
        if (self->head_started_) {
          self->answer(408, "request_timeout", true);
        } else {
          self->close_now();
        }
        break;
      case State::Proxying:
        if (self->ex_ && !self->ex_->request_done) {
          // The client stopped sending its body.
          if (self->ex_->upstream) {
            self->ex_->upstream->close();
            self->ex_->upstream = nullptr;
          }
          if (!self->ex_->response_started) {
            self->answer(408, "request_timeout", true);
          } else {
            self->close_now();
          }
        }
        break;
      case State::Closing:
        self->close_now();
        break;
      case State::Tunnel:
        self->close_now();  // idle for tunnel_idle_timeout
        break;
      default:
        break;
    }
  } catch (...) {
    log::error("exception in client timer callback");
    self->close_now();
  }
}

// ---- Reading requests -------------------------------------------------------------------

void DownstreamConnection::handle_readable() {
  if (state_ == State::Tunnel) {
    relay_tunnel();
    return;
  }
  // Pipelined requests answered locally are handled in this loop, not by recursion.
  while (state_ == State::WaitingHead && evbuffer_get_length(input()) > 0) {
    State before = state_;
    size_t len_before = evbuffer_get_length(input());
    try_read_head();
    if (state_ == before && evbuffer_get_length(input()) == len_before) break;  // incomplete head
  }
  if (state_ == State::Proxying && ex_ && !ex_->request_done) pump_request_body();
}

void DownstreamConnection::try_read_head() {
  evbuffer* in = input();
  size_t len = evbuffer_get_length(in);
  if (len == 0) return;
  if (!head_started_) {
    head_started_ = true;
    arm_timer(worker_.settings().client_timeout);  // the whole head must arrive in time
  }
  const size_t max = worker_.settings().max_header_bytes;
  size_t n = std::min(len, max + 1);
  const char* p = reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ev_ssize_t>(n)));
  http::RequestHead& parsed = worker_.scratch_head();
  http::HeadStatus status = http::parse_request_head(std::string_view(p, n), max, parsed, scan_from_);
  if (status == http::HeadStatus::Incomplete) return;
  if (status == http::HeadStatus::Error) {
    int code = http::http_status_for(parsed.error);
    if (!ex_) begin_exchange();
    ex_->decision.outcome = "invalid";
    answer(code, error_code_for(code), true);
    return;
  }
  process_head(parsed, p);
}

void DownstreamConnection::process_head(const http::RequestHead& parsed, const char* base) {
  begin_exchange();
  Exchange& ex = *ex_;

  // Own the head bytes: copy them once and point the views at the copy.
  ex.head_buf.assign(base, parsed.head_bytes);
  const char* copy = ex.head_buf.data();
  auto rebase = [&](std::string_view v) {
    return v.empty() ? std::string_view() : std::string_view(copy + (v.data() - base), v.size());
  };
  ex.head.method = rebase(parsed.method);
  ex.head.target = rebase(parsed.target);
  ex.head.version_minor = parsed.version_minor;
  ex.head.header_count = parsed.header_count;
  ex.head.head_bytes = parsed.head_bytes;
  ex.head.error = parsed.error;
  for (size_t i = 0; i < parsed.header_count; ++i) {
    ex.head.headers[i].name = rebase(parsed.headers[i].name);
    ex.head.headers[i].value = rebase(parsed.headers[i].value);
  }
  evbuffer_drain(input(), parsed.head_bytes);
  scan_from_ = 0;
  head_started_ = false;
  disarm_timer();

  ex.decision.outcome = "invalid";
  http::Verdict verdict = http::analyze_request(ex.head, ex.info);
  if (!verdict.ok()) {
    if (verdict.status == 405) {
      ex.decision.headers.push_back({"Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"});
    }
    answer(verdict.status, error_code_for(verdict.status), true);
    return;
  }
  ex.request_done = ex.info.body == http::BodyKind::None;
  if (ex.info.path == "*" || ex.info.path.empty()) {
    answer(400, "bad_request", true);  // asterisk-form (OPTIONS *) has no route to match
    return;
  }
  if (http::path_needs_normalization(ex.info.path)) {
    if (http::normalize_path(ex.info.path, ex.path_buf) != http::PathError::None) {
      answer(400, "bad_request", true);
      return;
    }
    ex.path = ex.path_buf;
  } else {
    ex.path = ex.info.path;
  }
  if (ex.info.has_query && !http::query_is_valid(ex.info.query)) {
    answer(400, "bad_request", true);
    return;
  }
  if (ex.info.body == http::BodyKind::ContentLength && ex.info.content_length > worker_.settings().max_body_bytes) {
    answer(413, "body_too_large", true);
    return;
  }

  state_ = State::Deciding;
  ex.decision.reset();
  RequestView view{ex.head, ex.info, ex.path, std::string_view(client_ip_, client_ip_len_),
                   std::string_view(ex.request_id, sizeof ex.request_id), tls_};
  Cancelable* pending = worker_.handler().decide(view, ex.decision, *this);
  if (pending != nullptr) {
    ex.pending = pending;
    return;
  }
  apply_decision();
}

void DownstreamConnection::onDecision() {
  if (!ex_ || state_ != State::Deciding) return;
  ex_->pending = nullptr;
  apply_decision();
}

void DownstreamConnection::apply_decision() {
  if (ex_->decision.kind == Decision::Kind::Respond) {
    answer_decision();
    return;
  }
  start_forward(false);
}

// ---- Forwarding -------------------------------------------------------------------------

void DownstreamConnection::start_forward(bool fresh_only) {
  Exchange& ex = *ex_;
  const Decision& d = ex.decision;
  if (d.upstream >= worker_.pool_count()) {
    fail_upstream(502, "connect_failed");
    return;
  }
  UpstreamPool& pool = worker_.pool(d.upstream);
  UpstreamConnection* up = pool.acquire(this, fresh_only);
  if (up == nullptr) {
    fail_upstream(502, "connect_failed");
    return;
  }
  ex.upstream = up;
  if (ex.upstream_head.empty()) {
    if (!ex.info.upgrade.empty()) ex.websocket_key = websocket::upgrade_key(ex.head, ex.info);
    http::ForwardRequest fr;
    fr.path = ex.path;
    fr.query = ex.info.query;
    fr.has_query = ex.info.has_query;
    fr.host = ex.info.host.empty() ? std::string_view(pool.target().authority) : ex.info.host;
    fr.client_ip = std::string_view(client_ip_, client_ip_len_);
    fr.proto = tls_ ? "https" : "http";
    fr.request_id = std::string_view(ex.request_id, sizeof ex.request_id);
    fr.strip_loose = d.strip_loose;
    fr.strip_authorization = d.strip_authorization;
    fr.inject = d.inject;
    fr.body = ex.info.body;
    fr.content_length = ex.info.content_length;
    http::build_upstream_request(ex.head, fr, ex.upstream_head);
    if (!ex.websocket_key.empty()) websocket::add_upgrade_headers(ex.upstream_head);
  }
  evbuffer_add(up->output(), ex.upstream_head.data(), ex.upstream_head.size());
  ex.forwarded_at = std::chrono::steady_clock::now();
  state_ = State::Proxying;
  if (!ex.request_done) {
    if (ex.info.expect_continue) {
      evbuffer_add(output(), "HTTP/1.1 100 Continue\r\n\r\n", 25);
      flush_output();
    }
    ex.body_remaining = ex.info.content_length;
    ex.request_chunks.reset();
    arm_timer(worker_.settings().client_timeout);
    pump_request_body();
  } else {
    up->write_now();
    up->await_response();
  }
}

void DownstreamConnection::pump_request_body() {
  Exchange& ex = *ex_;
  if (ex.upstream == nullptr) return;
  evbuffer* in = input();
  evbuffer* out = ex.upstream->output();
  bool progress = false;
  while (!ex.request_done) {
    if (evbuffer_get_length(out) >= kHighWater) {
      // Pause only for what the socket will not take now: a write that empties the output
      // here is one libevent never reports, so nothing would resume us.
      ex.upstream->write_now();
      if (evbuffer_get_length(out) >= kHighWater) {
        reader_.disable();  // the upstream's write callback resumes us
        break;
      }
    }
    size_t avail = evbuffer_get_length(in);
    if (avail == 0) break;
    if (ex.info.body == http::BodyKind::ContentLength) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(avail, ex.body_remaining));
      evbuffer_remove_buffer(in, out, n);
      ex.body_remaining -= n;
      progress = true;
      if (ex.body_remaining == 0) ex.request_done = true;
      continue;
    }
    http::ChunkedDecoder::Step step = ex.request_chunks.next(chunk_view(in, false));
    if (step.kind == http::ChunkedDecoder::Step::NeedMore && avail > first_segment(in).size()) {
      step = ex.request_chunks.next(chunk_view(in, true));
    }
    if (step.kind == http::ChunkedDecoder::Step::NeedMore) break;
    if (step.kind == http::ChunkedDecoder::Step::Error) {
      abort_exchange();
      if (state_ != State::Closed) answer(400, "bad_request", true);
      return;
    }
    if (ex.request_chunks.announced_bytes() > worker_.settings().max_body_bytes) {
      abort_exchange();
      if (state_ != State::Closed) answer(413, "body_too_large", true);
      return;
    }
    progress = true;
    switch (step.kind) {
      case http::ChunkedDecoder::Step::Framing:
        evbuffer_drain(in, step.bytes);
        break;
      case http::ChunkedDecoder::Step::Data: {
        move_as_chunk(in, out, step.bytes);
        break;
      }
      case http::ChunkedDecoder::Step::Done:
        evbuffer_drain(in, step.bytes);
        evbuffer_add(out, "0\r\n\r\n", 5);
        ex.request_done = true;
        break;
      default:
        break;
    }
  }
  if (ex.upstream) ex.upstream->write_now();
  if (ex.request_done) {
    disarm_timer();
    if (ex.upstream) ex.upstream->await_response();
  } else if (progress) {
    arm_timer(worker_.settings().client_timeout);
  }
}

void DownstreamConnection::upstream_drained() {
  if (state_ == State::Tunnel) {
    relay_tunnel();
    return;
  }
  if (state_ != State::Proxying || !ex_ || ex_->request_done) return;
  reader_.enable();
  pump_request_body();
}

void DownstreamConnection::upstream_readable() {
  if (state_ == State::Tunnel) {
    relay_tunnel();
    return;
  }
  if (state_ != State::Proxying || !ex_ || ex_->upstream == nullptr) return;
  read_response();
}

void DownstreamConnection::read_response() {
  if (!ex_->response_started && !parse_response_head()) return;
  pump_response_body();
}

bool DownstreamConnection::parse_response_head() {
  Exchange& ex = *ex_;
  for (;;) {
    evbuffer* in = ex.upstream->input();
    size_t len = evbuffer_get_length(in);
    if (len == 0) return false;
    size_t n = std::min(len, kMaxResponseHead + 1);
    const char* p = reinterpret_cast<const char*>(evbuffer_pullup(in, static_cast<ev_ssize_t>(n)));
    http::HeadStatus st =
        http::parse_response_head(std::string_view(p, n), kMaxResponseHead, ex.response, ex.response_scan);
    if (st == http::HeadStatus::Incomplete) return false;
    if (st == http::HeadStatus::Error) {
      fail_upstream(502, "malformed");
      return false;
    }
    if (ex.response.status >= 100 && ex.response.status < 200) {
      if (ex.response.status == 101) {
        if (ex.websocket_key.empty()) {  // we did not ask for an upgrade
          fail_upstream(502, "malformed");
        } else if (!websocket::valid_switch(ex.response, ex.websocket_key)) {
          fail_upstream(502, "malformed", /*close=*/true);  // the client may already be sending frames
        } else {
          open_tunnel();
        }
        return false;
      }
      evbuffer_drain(in, ex.response.head_bytes);  // interim answers are ours to give, not relayed
      ex.response_scan = 0;
      continue;
    }
    if (!http::analyze_response(ex.response, ex.head.method, ex.response_info)) {
      fail_upstream(502, "malformed");
      return false;
    }
    ex.upstream_seconds = seconds_since(ex.forwarded_at);
    worker_.stats().upstream_time(ex.upstream_seconds);

    const bool client_1_1 = ex.head.version_minor >= 1;
    switch (ex.response_info.body) {
      case http::ResponseBodyKind::None: ex.client_framing = http::ClientFraming::None; break;
      case http::ResponseBodyKind::ContentLength: ex.client_framing = http::ClientFraming::ContentLength; break;
      case http::ResponseBodyKind::Chunked:
      case http::ResponseBodyKind::UntilClose:
        ex.client_framing = client_1_1 ? http::ClientFraming::Chunked : http::ClientFraming::UntilClose;
        break;
    }
    ex.close_after = ex.close_after || !ex.info.keep_alive || draining_ || worker_.draining() ||
                     ex.client_framing == http::ClientFraming::UntilClose || !ex.request_done;
    http::RelayResponse relay;
    relay.framing = ex.client_framing;
    relay.content_length = ex.response_info.content_length;
    relay.request_id = std::string_view(ex.request_id, sizeof ex.request_id);
    relay.close = ex.close_after;
    relay.keep_alive_1_0 = !client_1_1 && !ex.close_after;
    std::string& s = worker_.scratch();
    s.clear();
    http::build_client_response(ex.response, relay, s);
    evbuffer_drain(in, ex.response.head_bytes);
    evbuffer_add(output(), s.data(), s.size());
    ex.status = ex.response.status;
    ex.decision.outcome = "allow";
    ex.response_started = true;
    ex.response_remaining = ex.response_info.content_length;
    ex.response_chunks.reset();
    return true;
  }
}

void DownstreamConnection::pump_response_body() {
  relay_response_body();
  if (bev_) flush_output();
}

void DownstreamConnection::relay_response_body() {
  Exchange& ex = *ex_;
  UpstreamConnection* up = ex.upstream;
  if (up == nullptr) return;
  evbuffer* in = up->input();
  evbuffer* out = output();
  bool complete = false;
  while (!complete) {
    if (evbuffer_get_length(out) >= kHighWater) {
      if (bev_) flush_output();  // as for request bodies: pause only for what the socket will not take
      if (evbuffer_get_length(out) >= kHighWater) {
        up->pause_reading();  // our write callback resumes it
        return;
      }
    }
    size_t avail = evbuffer_get_length(in);
    switch (ex.response_info.body) {
      case http::ResponseBodyKind::None:
        complete = true;
        break;
      case http::ResponseBodyKind::ContentLength: {
        if (avail == 0) return;
        size_t n = static_cast<size_t>(std::min<uint64_t>(avail, ex.response_remaining));
        evbuffer_remove_buffer(in, out, n);
        ex.response_remaining -= n;
        complete = ex.response_remaining == 0;
        break;
      }
      case http::ResponseBodyKind::UntilClose: {
        if (avail == 0) return;  // completes when the upstream closes
        if (ex.client_framing == http::ClientFraming::Chunked) {
          move_as_chunk(in, out, avail);
        } else {
          evbuffer_remove_buffer(in, out, avail);
        }
        break;
      }
      case http::ResponseBodyKind::Chunked: {
        if (avail == 0) return;
        http::ChunkedDecoder::Step step = ex.response_chunks.next(chunk_view(in, false));
        if (step.kind == http::ChunkedDecoder::Step::NeedMore && avail > first_segment(in).size()) {
          step = ex.response_chunks.next(chunk_view(in, true));
        }
        switch (step.kind) {
          case http::ChunkedDecoder::Step::NeedMore:
            return;
          case http::ChunkedDecoder::Step::Error:
            // Headers are out: all we can do is end the connection (the client sees truncation).
            worker_.stats().upstream_error(up->pool().target().name, "malformed");
            up->close();
            ex.upstream = nullptr;
            close_now();
            return;
          case http::ChunkedDecoder::Step::Framing:
            evbuffer_drain(in, step.bytes);
            break;
          case http::ChunkedDecoder::Step::Data:
            if (ex.client_framing == http::ClientFraming::Chunked) {
              move_as_chunk(in, out, step.bytes);
            } else {
              evbuffer_remove_buffer(in, out, step.bytes);
            }
            break;
          case http::ChunkedDecoder::Step::Done:
            evbuffer_drain(in, step.bytes);
            if (ex.client_framing == http::ClientFraming::Chunked) evbuffer_add(out, "0\r\n\r\n", 5);
            complete = true;
            break;
        }
        break;
      }
    }
  }
  finish_exchange();
}

void DownstreamConnection::upstream_failed(UpstreamFailure failure) {
  if (state_ == State::Tunnel) {
    end_tunnel(true);  // the upstream closed (or failed): the client gets what arrived, then EOF
    return;
  }
  if (!ex_ || ex_->upstream == nullptr) return;
  Exchange& ex = *ex_;
  UpstreamConnection* up = ex.upstream;
  const std::string& name = up->pool().target().name;
  if (ex.response_started) {
    if (failure == UpstreamFailure::Closed && ex.response_info.body == http::ResponseBodyKind::UntilClose) {
      pump_response_body();  // move what is left
      if (!ex_ || ex_->upstream == nullptr) return;
      if (ex.client_framing == http::ClientFraming::Chunked) evbuffer_add(output(), "0\r\n\r\n", 5);
      flush_output();
      finish_exchange();
      return;
    }
    if (failure == UpstreamFailure::Closed) {
      // Whatever complete response is buffered still goes out before we notice the end.
      pump_response_body();
      if (!ex_ || ex_->upstream != up) return;
    }
    worker_.stats().upstream_error(name, failure == UpstreamFailure::Timeout ? "timeout" : "reset");
    up->close();
    ex.upstream = nullptr;
    close_now();
    return;
  }
  if (failure == UpstreamFailure::Closed && evbuffer_get_length(up->input()) > 0) {
    // A response that ends with the connection may be complete now; try once more.
    read_response();
    if (state_ == State::Tunnel) {  // a 101 (and maybe some bytes), then the upstream closed
      end_tunnel(true);
      return;
    }
    if (!ex_ || ex_->response_started || ex_->upstream == nullptr) {
      if (ex_ && ex_->upstream == up && ex_->response_started) upstream_failed(failure);
      return;
    }
  }
  const bool stale_pooled = up->reused() && failure != UpstreamFailure::Timeout &&
                            evbuffer_get_length(up->input()) == 0 && ex.request_done && !ex.retried;
  up->close();
  ex.upstream = nullptr;
  if (stale_pooled) {
    // The upstream closed an idle pooled connection as we reused it: nothing was processed,
    // so the request is sent once more on a new connection.
    ex.retried = true;
    start_forward(true);
    return;
  }
  switch (failure) {
    case UpstreamFailure::Timeout: fail_upstream(504, "timeout"); break;
    case UpstreamFailure::ConnectFailed: fail_upstream(502, "connect_failed"); break;
    default: fail_upstream(502, "reset"); break;
  }
}

void DownstreamConnection::fail_upstream(int status, std::string_view kind, bool close) {
  Exchange& ex = *ex_;
  if (ex.upstream != nullptr) {
    worker_.stats().upstream_error(ex.upstream->pool().target().name, kind);
    ex.upstream->close();
    ex.upstream = nullptr;
  } else if (ex.decision.upstream < worker_.pool_count()) {
    worker_.stats().upstream_error(worker_.pool(ex.decision.upstream).target().name, kind);
  }
  ex.decision.outcome = "error";
  ex.decision.headers.clear();
  answer(status, "upstream_unavailable", close || !ex.request_done || !ex.info.keep_alive);
}

void DownstreamConnection::abort_exchange() {
  if (!ex_) return;
  if (ex_->pending != nullptr) {
    ex_->pending->cancel();
    ex_->pending = nullptr;
  }
  if (ex_->upstream != nullptr) {
    ex_->upstream->close();
    ex_->upstream = nullptr;
  }
}

void DownstreamConnection::finish_exchange() {
  Exchange& ex = *ex_;
  if (ex.upstream != nullptr) {
    // A declined upgrade's connection saw "Connection: Upgrade": not worth keeping.
    bool reusable = ex.response_info.keep_alive && ex.request_done && ex.websocket_key.empty() &&
                    ex.response_info.body != http::ResponseBodyKind::UntilClose &&
                    evbuffer_get_length(ex.upstream->input()) == 0;
    ex.upstream->finish(reusable);
    ex.upstream = nullptr;
  }
  log_and_count();
  bool close = ex.close_after || draining_;
  end_exchange();
  if (close) {
    begin_close();
    return;
  }
  state_ = State::WaitingHead;
  reader_.enable();
  arm_timer(worker_.settings().client_timeout);
  handle_readable();
}

// ---- WebSocket tunnel -------------------------------------------------------------------

// The upstream accepted the upgrade with a valid 101: answer the client, log the exchange, and
// from now on move bytes both ways until either side closes or nothing moves for
// tunnel_idle_timeout. Bytes that followed either head are relayed at once.
void DownstreamConnection::open_tunnel() {
  Exchange& ex = *ex_;
  UpstreamConnection* up = ex.upstream;
  ex.upstream_seconds = seconds_since(ex.forwarded_at);
  worker_.stats().upstream_time(ex.upstream_seconds);
  std::string& s = worker_.scratch();
  s.clear();
  websocket::build_switch_response(ex.response, std::string_view(ex.request_id, sizeof ex.request_id), s);
  evbuffer_drain(up->input(), ex.response.head_bytes);
  evbuffer_add(output(), s.data(), s.size());
  ex.status = 101;
  ex.decision.outcome = "allow";
  log_and_count();
  ex.upstream = nullptr;
  end_exchange();
  tunnel_ = up;
  state_ = State::Tunnel;
  up->enter_tunnel();
  reader_.enable();
  relay_tunnel();
  flush_output();
  arm_timer(worker_.settings().tunnel_idle_timeout);
}

void DownstreamConnection::relay_tunnel() {
  if (state_ != State::Tunnel || tunnel_ == nullptr || !bev_) return;
  bool moved = false;
  evbuffer* from_client = input();
  evbuffer* to_upstream = tunnel_->output();
  if (evbuffer_get_length(from_client) > 0 && evbuffer_get_length(to_upstream) < kHighWater) {
    evbuffer_add_buffer(to_upstream, from_client);
    tunnel_->write_now();
    moved = true;
  }
  // Backpressure: stop reading the side whose bytes cannot be passed on; the other side's
  // write callback calls us again.
  if (evbuffer_get_length(tunnel_->output()) >= kHighWater) {
    reader_.disable();
  } else {
    reader_.enable();
  }
  evbuffer* from_upstream = tunnel_->input();
  if (evbuffer_get_length(from_upstream) > 0 && evbuffer_get_length(output()) < kHighWater) {
    evbuffer_add_buffer(output(), from_upstream);
    flush_output();
    moved = true;
  }
  if (evbuffer_get_length(output()) >= kHighWater) {
    tunnel_->pause_reading();
  } else {
    tunnel_->resume_reading();
  }
  if (moved) arm_timer(worker_.settings().tunnel_idle_timeout);
}

// upstream_closed: pass on what the upstream sent before it closed. Either way the client
// connection ends with a lingering close, so that buffered bytes still reach it.
void DownstreamConnection::end_tunnel(bool upstream_closed) {
  if (tunnel_ == nullptr) return;
  if (upstream_closed) {
    evbuffer_add_buffer(output(), tunnel_->input());
  } else {
    tunnel_->write_now();
  }
  tunnel_->close();
  tunnel_ = nullptr;
  begin_close();
}

// ---- Local answers ----------------------------------------------------------------------

void DownstreamConnection::answer_decision() {
  Exchange& ex = *ex_;
  bool close = !ex.request_done || !ex.info.keep_alive;
  answer(ex.decision.status, ex.decision.error_code, close);
}

void DownstreamConnection::answer(int status, std::string_view error_code, bool close) {
  if (!ex_) begin_exchange();  // e.g. a head that timed out before it was complete
  Exchange& ex = *ex_;
  close = close || draining_ || worker_.draining();
  ex.close_after = close;
  ex.status = status;
  const Decision& d = ex.decision;
  std::string_view id(ex.request_id, sizeof ex.request_id);
  std::string& s = worker_.scratch();
  s.clear();
  s.append("HTTP/1.1 ");
  append_uint(s, static_cast<uint64_t>(status));
  s += ' ';
  s.append(http::reason_phrase(status));
  s.append("\r\n");
  std::string_view body = d.body;
  std::string json;
  if (body.empty() && !error_code.empty()) {
    json.reserve(64);
    json.append("{\"error\":\"");
    json.append(error_code);
    json.append("\",\"request_id\":\"");
    json.append(id);
    json.append("\"}\n");
    body = json;
  }
  s.append("Content-Type: ");
  s.append(d.content_type.empty() ? std::string_view("application/json") : std::string_view(d.content_type));
  s.append("\r\nContent-Length: ");
  append_uint(s, body.size());
  s.append("\r\nX-Request-Id: ");
  s.append(id);
  s.append("\r\n");
  for (const HeaderField& h : d.headers) {
    s.append(h.name);
    s.append(": ");
    s.append(h.value);
    s.append("\r\n");
  }
  if (close) {
    s.append("Connection: close\r\n");
  } else if (ex.head.version_minor == 0) {
    s.append("Connection: keep-alive\r\n");
  }
  s.append("\r\n");
  if (ex.head.method != "HEAD") s.append(body);
  evbuffer_add(output(), s.data(), s.size());
  flush_output();
  // A local answer ends the exchange here.
  if (ex.pending != nullptr) {
    ex.pending->cancel();
    ex.pending = nullptr;
  }
  state_ = State::Proxying;  // so that finish_exchange() treats it like any finished exchange
  finish_exchange();
}

// ---- Accounting and lifetime -------------------------------------------------------------

void DownstreamConnection::begin_exchange() {
  auto& pool = exchange_pool<Exchange>();
  if (!pool.empty()) {
    ex_ = std::move(pool.back());
    pool.pop_back();
  } else {
    ex_ = std::make_unique<Exchange>();
  }
  ex_->start = std::chrono::steady_clock::now();
  worker_.new_request_id(ex_->request_id);
}

void DownstreamConnection::end_exchange() {
  ex_->reset();
  auto& pool = exchange_pool<Exchange>();
  if (pool.size() < 256) pool.push_back(std::move(ex_));
  ex_.reset();
}

void DownstreamConnection::log_and_count() {
  Exchange& ex = *ex_;
  double seconds = seconds_since(ex.start);
  std::string_view route = ex.decision.route;
  worker_.stats().request(route, ex.decision.outcome, ex.status, seconds);
  if (!worker_.settings().access_log) return;
  log::AccessRecord r;
  r.unix_millis = log::unix_millis_now();
  r.request_id = std::string_view(ex.request_id, sizeof ex.request_id);
  r.client = std::string_view(client_ip_, client_ip_len_);
  r.method = ex.head.method;
  r.path = ex.path;
  r.route = route;
  r.decision = ex.decision.outcome;
  r.subject = ex.decision.subject;
  r.status = ex.status;
  r.upstream_ms = ex.upstream_seconds < 0 ? -1 : ex.upstream_seconds * 1000;
  r.total_ms = seconds * 1000;
  log::append_access_line(worker_.access_log(), r);
}

void DownstreamConnection::arm_timer(Millis after) {
  if (!timer_) return;
  timeval tv = to_timeval(after);
  evtimer_add(timer_.get(), &tv);
}

void DownstreamConnection::disarm_timer() {
  if (timer_) evtimer_del(timer_.get());
}

void DownstreamConnection::begin_close() {
  state_ = State::Closing;
  if (!bev_) return;
  bufferevent_setwatermark(bev_.get(), EV_WRITE, 0, 0);
  flush_output();
  if (evbuffer_get_length(output()) == 0) {
    half_close();
    arm_timer(kLingerTime);
  } else {
    arm_timer(worker_.settings().client_timeout);
  }
  // What the client sent is discarded from here on (on_read drains each read). Drain what is
  // already buffered too: at the read limit, reading would otherwise stay paused and the
  // client's unread bytes turn our close into a reset.
  evbuffer_drain(input(), evbuffer_get_length(input()));
  reader_.enable();
}

void DownstreamConnection::close_now() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  abort_exchange();
  if (tunnel_ != nullptr) {
    tunnel_->write_now();  // a last frame the client sent, if the socket takes it
    tunnel_->close();
    tunnel_ = nullptr;
  }
  if (ex_) {
    // Requests cut short are still logged and counted.
    if (ex_->status == 0 && ex_->head.header_count > 0) {
      ex_->status = 499;  // nginx's "client closed request"
      log_and_count();
    }
    end_exchange();
  }
  disarm_timer();
  reader_.detach();  // before the bufferevent closes the fd
  bev_.reset();
  timer_.reset();
  worker_.connection_closed(this);
}

}  // namespace portcullis::net
