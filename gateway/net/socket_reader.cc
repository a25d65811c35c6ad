#include "net/socket_reader.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace portcullis::net {

SocketReader::~SocketReader() { detach(); }

bool SocketReader::attach(bufferevent* bev, bool own, bufferevent_data_cb on_data, bufferevent_data_cb on_write,
                          bufferevent_event_cb on_event, void* arg) {
  detach();
  bev_ = bev;
  own_ = own;
  on_data_ = on_data;
  on_write_ = on_write;
  on_event_ = on_event;
  arg_ = arg;
  if (!own_) {
    // The bufferevent reads and calls back; we step in after each read for the watermark.
    bufferevent_setcb(bev, delegated_read, delegated_write, delegated_event, this);
    return true;
  }
  bufferevent_setcb(bev, nullptr, on_write, on_event, arg);  // its reading stays disabled
  ev_.reset(event_new(bufferevent_get_base(bev), bufferevent_getfd(bev), EV_READ | EV_PERSIST, on_ready, this));
  return ev_ != nullptr;
}

void SocketReader::detach() {
  if (bev_ != nullptr && drain_watch_ != nullptr) evbuffer_remove_cb_entry(bufferevent_get_input(bev_), drain_watch_);
  drain_watch_ = nullptr;
  ev_.reset();
  bev_ = nullptr;
  wanted_ = suspended_ = armed_ = false;
}

void SocketReader::enable() {
  if (bev_ == nullptr) return;
  wanted_ = true;
  if (!suspended_) start_reading();
}

void SocketReader::disable() {
  if (bev_ == nullptr) return;
  wanted_ = false;
  stop_reading();
}

void SocketReader::start_reading() {
  if (!own_) {
    bufferevent_enable(bev_, EV_READ);
  } else if (!armed_) {
    // Already reading: nothing to do. (bufferevent_enable would restart the read timeout
    // here; ours counts from the last read, or from set_timeouts, which restarts it.)
    arm();
  }
}

void SocketReader::stop_reading() {
  if (!own_) {
    bufferevent_disable(bev_, EV_READ);
    return;
  }
  if (armed_) event_del(ev_.get());
  armed_ = false;
}

void SocketReader::set_timeouts(const timeval* read, const timeval* write) {
  if (bev_ == nullptr) return;
  if (!own_) {
    bufferevent_set_timeouts(bev_, read, write);
    return;
  }
  bufferevent_set_timeouts(bev_, nullptr, write);
  has_timeout_ = read != nullptr;
  if (has_timeout_) timeout_ = *read;
  if (!armed_) {
    // libevent keeps a persistent event's timeout through event_del and re-arms it after the
    // next read even when event_add is given none; only assigning the (not pending) event
    // anew forgets it.
    if (!has_timeout_) {
      event_assign(ev_.get(), event_get_base(ev_.get()), event_get_fd(ev_.get()), EV_READ | EV_PERSIST, on_ready, this);
    }
    return;
  }
  if (has_timeout_) {
    arm();
  } else {
    event_remove_timer(ev_.get());  // event_add(ev, nullptr) would keep the old timeout
  }
}

void SocketReader::set_high_water(size_t high) {
  if (bev_ == nullptr) return;
  if (high > 0 && drain_watch_ == nullptr) {
    evbuffer* in = bufferevent_get_input(bev_);
    drain_watch_ = evbuffer_add_cb(in, on_input_changed, this);
    if (drain_watch_ == nullptr) return;  // out of memory: no mark rather than one never lifted
    evbuffer_cb_clear_flags(in, drain_watch_, EVBUFFER_CB_ENABLED);
  }
  high_ = high;
}

void SocketReader::arm() {
  event_add(ev_.get(), has_timeout_ ? &timeout_ : nullptr);
  armed_ = true;
}

bool SocketReader::at_high_water() const {
  return high_ > 0 && evbuffer_get_length(bufferevent_get_input(bev_)) >= high_;
}

void SocketReader::suspend() {
  suspended_ = true;
  stop_reading();
  evbuffer_cb_set_flags(bufferevent_get_input(bev_), drain_watch_, EVBUFFER_CB_ENABLED);
}

void SocketReader::fail(short what) {
  disable();
  on_event_(bev_, static_cast<short>(BEV_EVENT_READING | what), arg_);
}

void SocketReader::on_input_changed(evbuffer* buf, const evbuffer_cb_info*, void* arg) noexcept {
  auto* self = static_cast<SocketReader*>(arg);
  if (!self->suspended_ || evbuffer_get_length(buf) >= self->high_) return;
  self->suspended_ = false;
  evbuffer_cb_clear_flags(buf, self->drain_watch_, EVBUFFER_CB_ENABLED);
  if (self->wanted_) self->start_reading();
}

void SocketReader::delegated_read(bufferevent* bev, void* arg) noexcept {
  auto* self = static_cast<SocketReader*>(arg);
  self->on_data_(bev, self->arg_);
  // The callback may have closed the connection (detached us); the object itself lives on
  // until the loop's deferred delete.
  if (self->bev_ != nullptr && self->wanted_ && !self->suspended_ && self->at_high_water()) self->suspend();
}

void SocketReader::delegated_write(bufferevent* bev, void* arg) noexcept {
  auto* self = static_cast<SocketReader*>(arg);
  if (self->on_write_ != nullptr) self->on_write_(bev, self->arg_);
}

void SocketReader::delegated_event(bufferevent* bev, short what, void* arg) noexcept {
  auto* self = static_cast<SocketReader*>(arg);
  self->on_event_(bev, what, self->arg_);
}

void SocketReader::on_ready(evutil_socket_t fd, short what, void* arg) noexcept {
  auto* self = static_cast<SocketReader*>(arg);
  if (what & EV_TIMEOUT) {
    self->fail(BEV_EVENT_TIMEOUT);
    return;
  }
  evbuffer* in = bufferevent_get_input(self->bev_);
  size_t room = self->step_;
  if (self->high_ > 0) {
    size_t len = evbuffer_get_length(in);
    if (len >= self->high_) {
      self->suspend();
      return;
    }
    room = std::min(room, self->high_ - len);
  }
  // A socket bufferevent freezes its input's end so that only its own read adds to it;
  // thaw it for this read, exactly as that read does.
  evbuffer_unfreeze(in, 0);
  evbuffer_iovec vec[2];
  int n = evbuffer_reserve_space(in, static_cast<ev_ssize_t>(room), vec, 2);
  // The reservation may be larger than asked (a chain's whole free space): read no more.
  if (n >= 1 && vec[0].iov_len >= room) {
    vec[0].iov_len = room;
    n = 1;
  } else if (n == 2) {
    vec[1].iov_len = std::min(vec[1].iov_len, room - vec[0].iov_len);
  }
  ssize_t got = -1;
  int err = ENOMEM;
  if (n == 1) {
    got = ::recv(fd, vec[0].iov_base, vec[0].iov_len, 0);
    err = errno;
  } else if (n == 2) {
    iovec iov[2] = {{vec[0].iov_base, vec[0].iov_len}, {vec[1].iov_base, vec[1].iov_len}};
    got = ::readv(fd, iov, 2);
    err = errno;
  }
  if (got > 0) {
    if (room == self->step_) self->step_ = next_read_step(room, static_cast<size_t>(got));
    size_t left = static_cast<size_t>(got);
    int used = 0;
    for (; used < n && left > 0; ++used) {
      vec[used].iov_len = std::min(left, vec[used].iov_len);
      left -= vec[used].iov_len;
    }
    evbuffer_commit_space(in, vec, used);
  }
  evbuffer_freeze(in, 0);
  if (got > 0) {
    if (self->at_high_water()) self->suspend();
    self->on_data_(self->bev_, self->arg_);  // last: the callback may close the connection
    return;
  }
  if (got < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)) return;
  errno = err;
  self->fail(got == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR);
}

}  // namespace portcullis::net
