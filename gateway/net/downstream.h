// One client connection: reads request heads with the strict parser, asks the handler for a
// decision, then either answers locally or streams the request to an upstream and the
// response back, with backpressure both ways. Requests on a connection are handled one at a
// time, in order (pipelined bytes wait in the input buffer).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>

#include "http/chunked.h"
#include "http/forward.h"
#include "http/framing.h"
#include "http/request_head.h"
#include "http/response_head.h"
#include "net/handler.h"
#include "net/libevent_ptr.h"
#include "net/socket_reader.h"
#include "net/upstream.h"

namespace portcullis::net {

class Worker;

class DownstreamConnection final : public DecisionReceiver, public UpstreamOwner {
 public:
  DownstreamConnection(Worker& worker, evutil_socket_t fd, const sockaddr* addr, int addr_len);
  ~DownstreamConnection() override;

  void start();
  void drain();  // the worker is shutting down
  void close() { close_now(); }  // end it now (drain timeout, shutdown)
  bool idle() const { return state_ == State::WaitingHead && !head_started_; }

  void onDecision() override;
  void upstream_readable() override;
  void upstream_drained() override;
  void upstream_failed(UpstreamFailure failure) override;

  DownstreamConnection* prev_ = nullptr;  // worker's intrusive list
  DownstreamConnection* next_ = nullptr;

 private:
  // Tunnel: a WebSocket upgrade went through; bytes move both ways unparsed.
  enum class State { WaitingHead, Deciding, Proxying, Tunnel, Closing, Closed };

  // Per-request state; exists only while a request is in progress (idle connections stay small).
  struct Exchange {
    std::string head_buf;  // the request head bytes; every view below points into it
    http::RequestHead head;
    http::RequestInfo info;
    std::string path_buf;
    std::string_view path;
    char request_id[32];
    Decision decision;
    Cancelable* pending = nullptr;
    std::chrono::steady_clock::time_point start;
    std::chrono::steady_clock::time_point forwarded_at;
    double upstream_seconds = -1;
    int status = 0;
    bool close_after = false;
    // Request body
    uint64_t body_remaining = 0;
    http::ChunkedDecoder request_chunks;
    bool request_done = true;
    // Upstream and response
    UpstreamConnection* upstream = nullptr;
    std::string upstream_head;  // kept for one retry on a stale pooled connection
    std::string_view websocket_key;  // into head_buf: the request is a WebSocket upgrade we forward
    bool retried = false;
    http::ResponseHead response;
    size_t response_scan = 0;
    http::ResponseInfo response_info;
    http::ClientFraming client_framing = http::ClientFraming::None;
    bool response_started = false;
    uint64_t response_remaining = 0;
    http::ChunkedDecoder response_chunks;

    // Back to the state of a new exchange, keeping buffer capacity.
    void reset() {
      head_buf.clear();
      head.header_count = 0;
      head.method = head.target = {};
      info = http::RequestInfo{};
      path_buf.clear();
      path = {};
      decision.reset();
      pending = nullptr;
      upstream_seconds = -1;
      status = 0;
      close_after = false;
      body_remaining = 0;
      request_chunks.reset();
      request_done = true;
      upstream = nullptr;
      upstream_head.clear();
      websocket_key = {};
      retried = false;
      response_scan = 0;
      response_info = http::ResponseInfo{};
      client_framing = http::ClientFraming::None;
      response_started = false;
      response_remaining = 0;
      response_chunks.reset();
    }
  };

  static void on_read(bufferevent* bev, void* arg) noexcept;
  static void on_write(bufferevent* bev, void* arg) noexcept;
  static void on_event(bufferevent* bev, short what, void* arg) noexcept;
  static void on_timer(evutil_socket_t fd, short what, void* arg) noexcept;

  evbuffer* input() { return bufferevent_get_input(bev_.get()); }
  evbuffer* output() { return bufferevent_get_output(bev_.get()); }

  void begin_exchange();
  void end_exchange();
  void handle_readable();
  void try_read_head();
  void process_head(const http::RequestHead& parsed, const char* base);
  void apply_decision();
  void start_forward(bool fresh_only);
  void pump_request_body();
  void read_response();
  bool parse_response_head();
  void pump_response_body();
  void relay_response_body();
  void finish_exchange();
  void answer(int status, std::string_view error_code, bool close);
  void answer_decision();
  void fail_upstream(int status, std::string_view kind, bool close = false);
  void open_tunnel();
  void relay_tunnel();
  void end_tunnel(bool upstream_closed);
  void log_and_count();
  void arm_timer(Millis after);
  void disarm_timer();
  void begin_close();
  void close_now();
  void abort_exchange();
  void flush_output();       // plain: write now (net::write_now); TLS: OpenSSL writes as output is added
  void half_close();         // after our last byte (TLS: close_notify first)
  void refuse_plain_http();  // plain HTTP on a TLS listener

  Worker& worker_;
  BufferEventPtr bev_;
  SocketReader reader_;  // after bev_: stops reading before the bufferevent closes the fd
  EventPtr timer_;
  State state_ = State::WaitingHead;
  bool head_started_ = false;   // bytes of a new head have arrived
  bool draining_ = false;
  bool tls_ = false;            // accepted on a TLS listener
  size_t scan_from_ = 0;
  char client_ip_[64] = {0};
  size_t client_ip_len_ = 0;
  std::unique_ptr<Exchange> ex_;
  UpstreamConnection* tunnel_ = nullptr;  // the upstream side of a WebSocket tunnel
};

}  // namespace portcullis::net
