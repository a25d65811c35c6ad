// The read side of a connection's bufferevent, with two fixes over libevent 2.1's own:
//  - A plain TCP socket is read here, not by the bufferevent. libevent's socket bufferevent
//    asks the kernel how much is readable (ioctl FIONREAD) before every read: a third
//    syscall beside the two reads of a proxied request, about 4 % of the gateway's CPU time
//    per request. Here a read goes straight into space reserved in the bufferevent's input.
//    TLS connections keep the bufferevent's reading (OpenSSL reads through it).
//  - The high watermark pauses reading instead of spinning. From 2.1.9 on, libevent calls
//    the read callback again on every loop iteration while the input stays at or above its
//    read high watermark and reading is enabled: a connection that is not consuming (its
//    request waits for a decision, say) burns a whole core until it does. Here, for both
//    kinds of connection, reading pauses at the mark and resumes once the input drains below.
//
// The contract is otherwise the bufferevent's, so the connection's callbacks do not change:
//  - the data callback runs after every read that added bytes;
//  - the event callback runs with BEV_EVENT_READING and EOF, ERROR or TIMEOUT, and reading
//    is disabled first;
//  - the read timeout counts from the last read or from set_timeouts, while reading is
//    enabled (enabling a reader that is already reading does not restart it).
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstddef>

#include "net/libevent_ptr.h"

namespace portcullis::net {

// How much a read asks for. libevent sizes a new buffer block to what is asked: a request
// head or a small response fits one 1 KiB block, which malloc serves from its per-thread
// cache (a 16 KiB ask would cost a 32 KiB block per read). A read that fills what it asked
// doubles the next ask, up to blocks of 16 KiB for bodies; one that used a quarter halves it.
constexpr size_t kReadBlockOverhead = 128;  // at least libevent's chain header
constexpr size_t kMinReadStep = 1024 - kReadBlockOverhead;
constexpr size_t kMaxReadStep = 16 * 1024 - kReadBlockOverhead;
constexpr size_t next_read_step(size_t step, size_t got) {
  if (got >= step) return step * 2 + kReadBlockOverhead < kMaxReadStep ? step * 2 + kReadBlockOverhead : kMaxReadStep;
  if (got <= step / 4 && step > kMinReadStep) {
    size_t half = (step + kReadBlockOverhead) / 2 - kReadBlockOverhead;
    return half > kMinReadStep ? half : kMinReadStep;
  }
  return step;
}

class SocketReader {
 public:
  SocketReader() = default;
  ~SocketReader();
  SocketReader(const SocketReader&) = delete;
  SocketReader& operator=(const SocketReader&) = delete;

  // Takes over `bev`'s callbacks (whose fd must be set) and its reading. own = false (TLS):
  // the bufferevent reads. False if libevent could not make the read event.
  bool attach(bufferevent* bev, bool own, bufferevent_data_cb on_data, bufferevent_data_cb on_write,
              bufferevent_event_cb on_event, void* arg);
  // Stops reading for good; call before the bufferevent (and with it the fd) is freed.
  void detach();

  void enable();
  void disable();
  // Read and write timeouts of the connection (nullptr: none), as bufferevent_set_timeouts.
  void set_timeouts(const timeval* read, const timeval* write);
  // Reading pauses once the input holds this much (0: never). A TLS read may overshoot it by
  // one read (a few records) before the pause.
  void set_high_water(size_t high);

 private:
  static void on_ready(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_input_changed(evbuffer* buf, const evbuffer_cb_info* info, void* arg) noexcept;
  static void delegated_read(bufferevent* bev, void* arg) noexcept;
  static void delegated_write(bufferevent* bev, void* arg) noexcept;
  static void delegated_event(bufferevent* bev, short what, void* arg) noexcept;
  void arm();
  void start_reading();
  void stop_reading();
  bool at_high_water() const;
  void suspend();
  void fail(short what);

  bufferevent* bev_ = nullptr;
  bool own_ = false;
  EventPtr ev_;
  bufferevent_data_cb on_data_ = nullptr;
  bufferevent_data_cb on_write_ = nullptr;
  bufferevent_event_cb on_event_ = nullptr;
  void* arg_ = nullptr;
  evbuffer_cb_entry* drain_watch_ = nullptr;  // enabled only while suspended
  size_t high_ = 0;
  size_t step_ = kMinReadStep;  // what the next read asks for (next_read_step)
  timeval timeout_{};
  bool has_timeout_ = false;
  bool wanted_ = false;     // enabled by the connection
  bool suspended_ = false;  // paused by the high watermark
  bool armed_ = false;      // own: the read event is added
};

}  // namespace portcullis::net
