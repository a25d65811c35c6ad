// RAII owners for libevent handles (one owner per handle; see STYLE.md §4).
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <memory>

namespace portcullis::net {

struct EventBaseFree {
  void operator()(event_base* b) const { event_base_free(b); }
};
struct EventFree {
  void operator()(event* e) const { event_free(e); }
};
struct BufferEventFree {
  void operator()(bufferevent* b) const { bufferevent_free(b); }
};
struct ListenerFree {
  void operator()(evconnlistener* l) const { evconnlistener_free(l); }
};

using EventBasePtr = std::unique_ptr<event_base, EventBaseFree>;
using EventPtr = std::unique_ptr<event, EventFree>;
using BufferEventPtr = std::unique_ptr<bufferevent, BufferEventFree>;
using ListenerPtr = std::unique_ptr<evconnlistener, ListenerFree>;

// bufferevent writes only from its write event, a loop iteration (and two epoll_ctl calls)
// after the data was queued. On the hot path we write at once instead and hand libevent
// only what the socket did not take: EV_WRITE stays disabled while the output is empty.
inline void write_now(bufferevent* bev) {
  evbuffer* out = bufferevent_get_output(bev);
  if (evbuffer_get_length(out) == 0) return;
  // A socket bufferevent keeps the front of its output frozen so that only its own write
  // callback drains it; thaw it for this write, exactly as that callback does.
  evbuffer_unfreeze(out, 1);
  evbuffer_write(out, bufferevent_getfd(bev));
  evbuffer_freeze(out, 1);
  // Whatever is left (or an error, which the write event will report) goes to libevent.
  if (evbuffer_get_length(out) > 0) bufferevent_enable(bev, EV_WRITE);
}

}  // namespace portcullis::net
