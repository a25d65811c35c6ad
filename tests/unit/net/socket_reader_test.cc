#include "net/socket_reader.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace portcullis::net {
namespace {

// A socket pair on an event loop: the reader reads `bev`'s side; the test writes `peer`.
struct Rig {
  EventBasePtr base{event_base_new()};
  BufferEventPtr bev;
  int peer = -1;
  SocketReader reader;
  int reads = 0;
  size_t longest_input = 0;
  short events = 0;
  int event_calls = 0;

  explicit Rig(bool own = true) {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    REQUIRE(evutil_make_socket_nonblocking(fds[0]) == 0);
    peer = fds[1];
    bev.reset(bufferevent_socket_new(base.get(), fds[0], BEV_OPT_CLOSE_ON_FREE));
    REQUIRE(bev);
    REQUIRE(reader.attach(bev.get(), own, on_data, nullptr, on_event, this));
  }
  ~Rig() {
    reader.detach();
    bev.reset();
    if (peer >= 0) ::close(peer);
  }
  evbuffer* input() { return bufferevent_get_input(bev.get()); }
  size_t buffered() { return evbuffer_get_length(input()); }
  void send(const std::string& s) { REQUIRE(::write(peer, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
  // Runs the loop for `ms` milliseconds.
  void run(int ms) {
    timeval tv{0, ms * 1000};
    event_base_loopexit(base.get(), &tv);
    event_base_dispatch(base.get());
  }
  static void on_data(bufferevent*, void* arg) {
    auto* r = static_cast<Rig*>(arg);
    ++r->reads;
    r->longest_input = std::max(r->longest_input, r->buffered());
  }
  static void on_event(bufferevent*, short what, void* arg) {
    auto* r = static_cast<Rig*>(arg);
    r->events = what;
    ++r->event_calls;
  }
};

TEST_CASE("read steps: small stays small, a full read doubles up to 16 KiB blocks, a mostly empty one halves") {
  CHECK(next_read_step(kMinReadStep, 700) == kMinReadStep);
  size_t step = kMinReadStep;
  std::vector<size_t> grown;
  for (int i = 0; i < 8; ++i) {
    step = next_read_step(step, step);
    grown.push_back(step);
  }
  CHECK(grown == std::vector<size_t>{1920, 3968, 8064, kMaxReadStep, kMaxReadStep, kMaxReadStep, kMaxReadStep,
                                     kMaxReadStep});
  for (size_t s : grown) CHECK(((s + kReadBlockOverhead) & (s + kReadBlockOverhead - 1)) == 0);  // whole blocks
  CHECK(next_read_step(kMaxReadStep, 9000) == kMaxReadStep);  // more than a quarter: kept
  CHECK(next_read_step(kMaxReadStep, 300) == 8064);
  CHECK(next_read_step(1920, 100) == kMinReadStep);
  CHECK(next_read_step(kMinReadStep, 0) == kMinReadStep);
}

TEST_CASE("a large transfer arrives whole, in growing reads") {
  Rig r;
  r.reader.enable();
  std::string big(300000, 'z');
  std::thread writer([&] { REQUIRE(::write(r.peer, big.data(), big.size()) == static_cast<ssize_t>(big.size())); });
  for (int i = 0; i < 100 && r.buffered() < big.size(); ++i) r.run(10);
  writer.join();
  CHECK(r.buffered() == big.size());
  CHECK(r.reads < 300000 / 4096);  // far fewer reads than 4 KiB steps would take
}

TEST_CASE("the reader reads only while enabled, into the bufferevent's input") {
  for (bool own : {true, false}) {
    CAPTURE(own);
    Rig r(own);
    r.send("GET / HTTP/1.1\r\n\r\n");
    r.run(20);
    CHECK(r.reads == 0);  // not enabled yet
    r.reader.enable();
    r.run(20);
    CHECK(r.reads >= 1);
    CHECK(r.buffered() == 18);
    r.reader.disable();
    r.send("more");
    r.run(20);
    CHECK(r.buffered() == 18);
    r.reader.enable();
    r.reader.enable();  // twice is once
    r.run(20);
    CHECK(r.buffered() == 22);
    CHECK(r.event_calls == 0);
  }
}

TEST_CASE("end of stream is reported once, with reading, and reading stops") {
  for (bool own : {true, false}) {
    CAPTURE(own);
    Rig r(own);
    r.reader.enable();
    r.send("last words");
    ::shutdown(r.peer, SHUT_WR);
    r.run(30);
    CHECK(r.buffered() == 10);
    CHECK(r.event_calls == 1);
    CHECK(r.events == (BEV_EVENT_READING | BEV_EVENT_EOF));
  }
}

TEST_CASE("a reset is an error with reading") {
  Rig r;
  r.reader.enable();
  // An AF_UNIX peer that closes with bytes it never read resets the stream.
  std::string unread = "unread";
  REQUIRE(::write(bufferevent_getfd(r.bev.get()), unread.data(), unread.size()) == 6);
  ::close(r.peer);
  r.peer = -1;
  r.run(30);
  CHECK(r.event_calls == 1);
  CHECK(r.events == (BEV_EVENT_READING | BEV_EVENT_ERROR));
}

// libevent (2.1.9 and later) calls the read callback again on every loop iteration while the
// input stays at its high watermark: hundreds of thousands of calls in 30 ms, a core spinning.
TEST_CASE("above the high watermark reading pauses, without spinning, until the input drains below it") {
  for (bool own : {true, false}) {
    CAPTURE(own);
    Rig r(own);
    r.reader.set_high_water(1000);
    r.reader.enable();
    r.send(std::string(20000, 'a'));
    r.run(30);
    size_t held = r.buffered();
    CHECK(held >= 1000);
    if (own) CHECK(held == 1000);  // reads stop exactly at the mark; a TLS read may overshoot
    int reads = r.reads;
    r.run(30);
    CHECK(r.reads == reads);  // paused, not called again and again
    CHECK(r.buffered() == held);
    evbuffer_drain(r.input(), held - 999);  // below the mark: reading resumes
    r.run(20);
    CHECK(r.reads > reads);
    size_t consumed = held - 999;
    for (int i = 0; i < 50 && consumed + r.buffered() < 20000; ++i) {
      consumed += r.buffered();
      evbuffer_drain(r.input(), r.buffered());
      r.run(10);
    }
    CHECK(consumed + r.buffered() == 20000);
    if (own) CHECK(r.longest_input <= 1000);
    CHECK(r.event_calls == 0);
  }
}

TEST_CASE("a paused reader stays paused when disabled, and enabling it before the drain waits for the drain") {
  Rig r;
  r.reader.set_high_water(100);
  r.reader.enable();
  r.send(std::string(300, 'b'));
  r.run(20);
  CHECK(r.buffered() == 100);
  r.reader.disable();
  evbuffer_drain(r.input(), 100);  // drained while disabled: stays off
  r.run(20);
  CHECK(r.buffered() == 0);
  r.reader.enable();
  r.run(20);
  CHECK(r.buffered() == 100);
  r.reader.enable();  // still at the mark: enabling does not read past it
  r.run(20);
  CHECK(r.buffered() == 100);
}

TEST_CASE("the read timeout fires after silence, counts from the last read, and stops reading") {
  for (bool own : {true, false}) {
    CAPTURE(own);
    Rig r(own);
    timeval tv{0, 80 * 1000};
    r.reader.set_timeouts(&tv, nullptr);
    r.reader.enable();
    r.run(50);
    r.send("keep");  // a read restarts the timer
    r.run(50);
    CHECK(r.event_calls == 0);
    r.run(80);
    CHECK(r.event_calls == 1);
    CHECK(r.events == (BEV_EVENT_READING | BEV_EVENT_TIMEOUT));
    r.send("late");
    r.run(20);
    CHECK(r.buffered() == 4);  // reading stopped with the timeout
  }
}

TEST_CASE("clearing the read timeout while reading keeps reading without one") {
  Rig r;
  timeval tv{0, 40 * 1000};
  r.reader.set_timeouts(&tv, nullptr);
  r.reader.enable();
  r.reader.set_timeouts(nullptr, nullptr);
  r.run(80);
  CHECK(r.event_calls == 0);
  r.send("still here");
  r.run(20);
  CHECK(r.buffered() == 10);
}

TEST_CASE("a read timeout cleared while not reading stays cleared") {
  Rig r;
  timeval tv{0, 40 * 1000};
  r.reader.set_timeouts(&tv, nullptr);
  r.reader.enable();
  r.reader.disable();
  r.reader.set_timeouts(nullptr, nullptr);  // libevent would keep the old one through the next read
  r.reader.enable();
  r.send("x");
  r.run(100);
  CHECK(r.buffered() == 1);
  CHECK(r.event_calls == 0);
}

TEST_CASE("a detached reader calls nothing") {
  Rig r;
  r.reader.enable();
  r.reader.detach();
  r.send("ignored");
  ::shutdown(r.peer, SHUT_WR);
  r.run(20);
  CHECK(r.reads == 0);
  CHECK(r.event_calls == 0);
}

}  // namespace
}  // namespace portcullis::net
