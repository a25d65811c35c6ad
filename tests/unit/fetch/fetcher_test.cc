// Fetcher against a tiny HTTP/1.1 server running on a background thread of this process
// (127.0.0.1, port chosen by the OS). Every loop run is bounded, so a bug fails a check
// instead of hanging the suite.
#include "fetch/fetcher.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using portcullis::fetch::Fetcher;
using portcullis::fetch::FetchError;
using portcullis::fetch::FetchHandle;
using portcullis::fetch::FetchRequest;
using portcullis::fetch::FetchResult;
using Clock = std::chrono::steady_clock;

constexpr size_t kBig = 5 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// Test server. One thread accepts; one thread per connection answers by path, then closes.
// Every wait polls in short slices and checks stop_, so the destructor returns promptly.
class TestServer {
 public:
  TestServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listen_fd_ >= 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 128) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    stop_ = true;
    acceptor_.join();
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& w : workers) w.join();
    ::close(listen_fd_);
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  uint16_t port() const { return port_; }
  int hits(const std::string& path) {
    std::lock_guard lock(mu_);
    return hits_[path];
  }

 private:
  struct Request {
    std::string method, path, query, body;
    std::map<std::string, std::string> headers;  // lower-case names
  };

  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  // Waits up to `limit` for fd to be readable; false on stop or timeout.
  bool wait_readable(int fd, std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    while (!stop_ && Clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  // Stalls until the client goes away, the test ends, or `limit` passes.
  void stall(int fd, std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    char buf[512];
    while (Clock::now() < end) {
      if (!wait_readable(fd, 20ms)) {
        if (stop_) return;
        continue;
      }
      if (::recv(fd, buf, sizeof buf, 0) <= 0) return;  // peer closed
    }
  }

  bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      pollfd p{fd, POLLOUT, 0};
      if (stop_) return false;
      if (::poll(&p, 1, 20) <= 0) continue;
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one request; false for a TLS ClientHello, garbage or a vanished client.
  bool read_request(int fd, Request& req, bool& tls) {
    std::string in;
    char buf[4096];
    size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
      if (!wait_readable(fd, 3000ms)) return false;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
      if (in[0] == '\x16') {
        tls = true;
        return false;
      }
      head_end = in.find("\r\n\r\n");
      if (in.size() > 65536) return false;
    }
    std::string_view head(in.data(), head_end);
    size_t line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return false;
    req.method = line.substr(0, sp1);
    std::string target(line.substr(sp1 + 1, sp2 - sp1 - 1));
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string_view::npos) e = head.size();
      std::string_view h = head.substr(pos, e - pos);
      size_t colon = h.find(':');
      if (colon != std::string_view::npos) {
        std::string name(h.substr(0, colon));
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = h.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        req.headers[name] = std::string(value);
      }
      pos = e + 2;
    }
    req.body = in.substr(head_end + 4);
    size_t want = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      want = std::stoul(it->second);
    }
    while (req.body.size() < want) {
      if (!wait_readable(fd, 3000ms)) return false;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      req.body.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  static std::string response(std::string_view status, std::string_view body,
                              std::string_view extra = {}) {
    std::string r = "HTTP/1.1 " + std::string(status) + "\r\nConnection: close\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    r += extra;
    r += "\r\n";
    r += body;
    return r;
  }

  void serve(int fd) {
    Request req;
    bool tls = false;
    if (!read_request(fd, req, tls)) {
      if (tls) send_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    {
      std::lock_guard lock(mu_);
      ++hits_[req.path];
    }
    const std::string& p = req.path;
    if (p == "/ok") {
      send_all(fd, response("200 OK", R"({"ok":true,"q":")" + req.query + "\"}",
                            "Content-Type: application/json\r\n"));
    } else if (p == "/404") {
      send_all(fd, response("404 Not Found", "not found", "Content-Type: text/plain\r\n"));
    } else if (p == "/redirect") {
      send_all(fd, response("302 Found", "moved", "Location: /ok?redirected\r\n"));
    } else if (p == "/slow") {
      stall(fd, 10s);
      send_all(fd, response("200 OK", "late"));
    } else if (p == "/hang") {
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
      stall(fd, 10s);
    } else if (p == "/sized" || p == "/sized-close" || p == "/big-cl" || p == "/big-close") {
      const size_t n = p.rfind("/big", 0) == 0 ? kBig : std::stoul(req.query);
      const bool with_length = p == "/sized" || p == "/big-cl";
      std::string head = "HTTP/1.1 200 OK\r\nConnection: close\r\n";
      if (with_length) head += "Content-Length: " + std::to_string(n) + "\r\n";
      head += "\r\n";
      if (!send_all(fd, head)) return;
      const std::string chunk(64 * 1024, 'a');
      for (size_t sent = 0; sent < n;) {
        const size_t k = std::min(chunk.size(), n - sent);
        if (!send_all(fd, std::string_view(chunk).substr(0, k))) return;
        sent += k;
      }
    } else if (p == "/many-headers") {
      const size_t count = std::stoul(req.query);
      std::string head = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n";
      for (size_t i = 0; i < count; ++i)
        head += "X-Pad-" + std::to_string(i) + ": " + std::string(1000, 'p') + "\r\n";
      send_all(fd, head + "\r\nok");
    } else if (p == "/big-chunked") {
      if (!send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
      const std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";
      for (size_t sent = 0; sent < kBig; sent += 0x10000) {
        if (!send_all(fd, chunk)) return;
      }
      send_all(fd, "0\r\n\r\n");
    } else if (p == "/garbage") {
      send_all(fd, std::string_view("\x00\x01\x02garbage, not HTTP at all\r\n\r\n", 32));
    } else if (p == "/empty") {
      // Close without a byte of answer.
    } else if (p == "/echo") {
      auto h = [&](const char* name) {
        auto it = req.headers.find(name);
        return it == req.headers.end() ? std::string("<none>") : it->second;
      };
      std::string out = "method=" + req.method + "\nauth=" + h("authorization") +
                        "\nexpect=" + h("expect") + "\nua=" + h("user-agent") +
                        "\ncontent-type=" + h("content-type") + "\nx-trace=" + h("x-trace") +
                        "\nx-empty=" + h("x-empty") + "\nbody=" + req.body;
      send_all(fd, response("200 OK", out, "Content-Type: text/plain\r\n"));
    } else {
      send_all(fd, response("500 Internal Server Error", "unknown test path"));
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::map<std::string, int> hits_;
};

// A loopback port with nothing listening.
uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// ---------------------------------------------------------------------------------------
// Event loop driver.
class Loop {
 public:
  Loop() : base_(event_base_new()) { REQUIRE(base_ != nullptr); }
  ~Loop() { event_base_free(base_); }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  event_base* base() const { return base_; }

  // Runs the loop until done() or the limit; a short wake-up timer bounds every pass.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
    event* wake = evtimer_new(
        base_, [](evutil_socket_t, short, void*) {}, nullptr);
    const auto end = Clock::now() + limit;
    while (!done() && Clock::now() < end) {
      timeval tv{0, 10'000};
      evtimer_add(wake, &tv);
      event_base_loop(base_, EVLOOP_ONCE);
    }
    event_free(wake);
    return done();
  }
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }

 private:
  event_base* base_;
};

struct Outcome {
  std::optional<FetchResult> result;
  int calls = 0;
};

portcullis::fetch::FetchCallback record(Outcome& out) {
  return [&out](FetchResult&& r) {
    ++out.calls;
    out.result = std::move(r);
  };
}

FetchRequest get(std::string url) {
  FetchRequest r;
  r.url = std::move(url);
  return r;
}

// One fetch, run to completion.
FetchResult fetch_once(Loop& loop, Fetcher& fetcher, FetchRequest req) {
  Outcome out;
  fetcher.fetch(std::move(req), record(out));
  CHECK(out.calls == 0);  // never synchronous
  REQUIRE(loop.run_until([&] { return out.calls > 0; }));
  loop.run_for(20ms);  // a second call would show up here
  CHECK(out.calls == 1);
  CHECK(fetcher.in_flight() == 0);
  return std::move(*out.result);
}

}  // namespace

TEST_CASE("to_string names every FetchError") {
  struct Row {
    FetchError error;
    std::string_view name;
  };
  const Row rows[] = {
      {FetchError::None, "none"},
      {FetchError::Timeout, "timeout"},
      {FetchError::TooLarge, "too_large"},
      {FetchError::ConnectFailed, "connect_failed"},
      {FetchError::TlsFailed, "tls_failed"},
      {FetchError::BadUrl, "bad_url"},
      {FetchError::Canceled, "canceled"},
      {FetchError::Other, "other"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name.data()) { CHECK(portcullis::fetch::to_string(row.error) == row.name); }
  }
}

TEST_CASE("create rejects a null event_base") { CHECK(Fetcher::create(nullptr) == nullptr); }

TEST_CASE("fetch outcome for each server behaviour") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);
  const std::string https_plain = "https://127.0.0.1:" + std::to_string(server.port()) + "/ok";

  struct Row {
    const char* name;
    std::string url;
    FetchError error;
    int status;
    std::string body;  // exact expected body when error == None (empty: not checked)
    size_t max_bytes = 1 << 20;
    std::chrono::milliseconds timeout = 10s;  // generous: load must not flip a row
    std::string ca_file = {};
  };
  const Row rows[] = {
      {"200 with body", server.url("/ok?x=1"), FetchError::None, 200, R"({"ok":true,"q":"x=1"})"},
      {"404 is not an error here", server.url("/404"), FetchError::None, 404, "not found"},
      {"302 is returned, not followed", server.url("/redirect"), FetchError::None, 302, "moved"},
      {"slow server times out", server.url("/slow"), FetchError::Timeout, 0, "", 1 << 20, 300ms},
      {"hang after headers times out", server.url("/hang"), FetchError::Timeout, 0, "", 1 << 20,
       300ms},
      {"5 MB with Content-Length", server.url("/big-cl"), FetchError::TooLarge, 0, ""},
      {"5 MB close-delimited", server.url("/big-close"), FetchError::TooLarge, 0, ""},
      {"5 MB chunked", server.url("/big-chunked"), FetchError::TooLarge, 0, ""},
      {"body exactly at the bound", server.url("/sized?1000"), FetchError::None, 200,
       std::string(1000, 'a'), 1000},
      {"declared one byte over the bound", server.url("/sized?1001"), FetchError::TooLarge, 0, "",
       1000},
      {"undeclared body exactly at the bound", server.url("/sized-close?1000"), FetchError::None,
       200, std::string(1000, 'a'), 1000},
      {"undeclared one byte over the bound", server.url("/sized-close?1001"), FetchError::TooLarge,
       0, "", 1000},
      {"max_bytes 0 and a body", server.url("/sized-close?1"), FetchError::TooLarge, 0, "", 0},
      {"max_bytes 0 and an empty body", server.url("/sized?0"), FetchError::None, 200, "", 0},
      {"a few KB of headers", server.url("/many-headers?8"), FetchError::None, 200, "ok"},
      {"headers over 64 KiB", server.url("/many-headers?80"), FetchError::TooLarge, 0, ""},
      {"garbage instead of HTTP", server.url("/garbage"), FetchError::Other, 0, ""},
      {"connection closed without answer", server.url("/empty"), FetchError::Other, 0, ""},
      {"connection refused", "http://127.0.0.1:" + std::to_string(closed_port()) + "/ok",
       FetchError::ConnectFailed, 0, ""},
      {"https to a plain-HTTP server", https_plain, FetchError::TlsFailed, 0, ""},
      {"unreadable CA file", https_plain, FetchError::TlsFailed, 0, "", 1 << 20, 10s,
       "/nonexistent/ca.pem"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      FetchRequest req = get(row.url);
      req.max_bytes = row.max_bytes;
      req.timeout = row.timeout;
      req.ca_file = row.ca_file;
      const auto started = Clock::now();
      FetchResult r = fetch_once(loop, *fetcher, std::move(req));
      const auto took = Clock::now() - started;
      INFO("detail: " << r.detail);
      CHECK(portcullis::fetch::to_string(r.error) == portcullis::fetch::to_string(row.error));
      CHECK(r.status == row.status);
      if (row.error == FetchError::None) {
        CHECK(r.body == row.body);
        CHECK(r.detail.empty());
      } else {
        CHECK(r.body.empty());  // a partial document is never handed out
        CHECK_FALSE(r.detail.empty());
      }
      if (row.error == FetchError::Timeout) {
        CHECK(took >= row.timeout);
        CHECK(took < row.timeout + 1500ms);
      }
      if (row.error == FetchError::TooLarge) {
        CHECK(took < 5s);  // aborted early, not after draining 5 MB
      }
    }
  }
}

TEST_CASE("response metadata") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);

  SUBCASE("content type is reported") {
    FetchResult r = fetch_once(loop, *fetcher, get(server.url("/ok")));
    CHECK(r.error == FetchError::None);
    CHECK(r.content_type == "application/json");
  }
  SUBCASE("a redirect target is never requested") {
    FetchResult r = fetch_once(loop, *fetcher, get(server.url("/redirect")));
    CHECK(r.status == 302);
    loop.run_for(50ms);
    CHECK(server.hits("/redirect") == 1);
    CHECK(server.hits("/ok") == 0);
  }
}

TEST_CASE("POST sends form body, Basic credentials and headers") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);

  FetchRequest req = get(server.url("/echo"));
  req.method = "POST";
  req.basic_user = "client%3Aid";
  req.basic_password = "s3cr%2Bt";
  req.headers = {{"X-Trace", "abc"}, {"X-Empty", ""}};

  SUBCASE("short form body") {
    req.body = "token=abc.def.ghi&token_type_hint=access_token";
    FetchResult r = fetch_once(loop, *fetcher, req);
    REQUIRE(r.error == FetchError::None);
    CHECK(r.status == 200);
    CHECK(r.body ==
          "method=POST\nauth=Basic Y2xpZW50JTNBaWQ6czNjciUyQnQ=\nexpect=<none>\n"
          "ua=portcullis/0.1\ncontent-type=application/x-www-form-urlencoded\nx-trace=abc\n"
          "x-empty=\nbody=token=abc.def.ghi&token_type_hint=access_token");
  }
  SUBCASE("large body is sent at once, without Expect: 100-continue") {
    req.body = "token=" + std::string(1536 * 1024, 'x');  // curl's Expect threshold is 1 MiB
    req.max_bytes = 4 << 20;                              // the echo carries the body back
    FetchResult r = fetch_once(loop, *fetcher, req);
    REQUIRE(r.error == FetchError::None);
    CHECK(r.body.find("\nexpect=<none>\n") != std::string::npos);  // else a 1 s stall
    CHECK(r.body.find("\nbody=" + req.body) != std::string::npos);
  }
  SUBCASE("no credentials, no Authorization header") {
    req.basic_user.clear();
    req.basic_password.clear();
    FetchResult r = fetch_once(loop, *fetcher, req);
    CHECK(r.body.find("\nauth=<none>\n") != std::string::npos);
  }
  SUBCASE("GET sends no body") {
    req.method = "GET";
    req.body = "ignored";
    FetchResult r = fetch_once(loop, *fetcher, req);
    CHECK(r.body.find("method=GET\n") == 0);
    CHECK(r.body.find("\nbody=") == r.body.size() - 6);
  }
}

TEST_CASE("environment proxies are ignored") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);
  const std::string dead = "http://127.0.0.1:" + std::to_string(closed_port());
  ::setenv("http_proxy", dead.c_str(), 1);
  ::setenv("HTTPS_PROXY", dead.c_str(), 1);
  ::setenv("ALL_PROXY", dead.c_str(), 1);
  FetchResult r = fetch_once(loop, *fetcher, get(server.url("/ok")));
  ::unsetenv("http_proxy");
  ::unsetenv("HTTPS_PROXY");
  ::unsetenv("ALL_PROXY");
  CHECK(r.error == FetchError::None);
  CHECK(r.status == 200);
  CHECK(server.hits("/ok") == 1);
}

TEST_CASE("invalid requests fail through the callback, never reaching the network") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);

  struct Row {
    const char* name;
    std::function<void(FetchRequest&)> edit;
    FetchError error;
  };
  const Row rows[] = {
      {"empty URL", [](FetchRequest& r) { r.url = ""; }, FetchError::BadUrl},
      {"not a URL", [](FetchRequest& r) { r.url = "not a url"; }, FetchError::BadUrl},
      {"relative URL", [](FetchRequest& r) { r.url = "/ok"; }, FetchError::BadUrl},
      {"no scheme", [](FetchRequest& r) { r.url = "127.0.0.1/ok"; }, FetchError::BadUrl},
      {"file scheme", [](FetchRequest& r) { r.url = "file:///etc/passwd"; }, FetchError::BadUrl},
      {"ftp scheme", [](FetchRequest& r) { r.url = "ftp://127.0.0.1/x"; }, FetchError::BadUrl},
      {"gopher scheme", [](FetchRequest& r) { r.url = "gopher://127.0.0.1/x"; },
       FetchError::BadUrl},
      {"dict scheme", [](FetchRequest& r) { r.url = "dict://127.0.0.1:11211/stats"; },
       FetchError::BadUrl},
      {"no host", [](FetchRequest& r) { r.url = "http://"; }, FetchError::BadUrl},
      {"bad port", [](FetchRequest& r) { r.url = "http://127.0.0.1:99999/"; }, FetchError::BadUrl},
      {"space in URL", [](FetchRequest& r) { r.url = "http://127.0.0.1/a b"; }, FetchError::BadUrl},
      {"CRLF in URL", [](FetchRequest& r) { r.url += "\r\nX-Evil: 1"; }, FetchError::BadUrl},
      {"NUL in URL", [](FetchRequest& r) { r.url = std::string("http://127.0.0.1/\0x", 19); },
       FetchError::BadUrl},
      {"PUT", [](FetchRequest& r) { r.method = "PUT"; }, FetchError::Other},
      {"lower-case get", [](FetchRequest& r) { r.method = "get"; }, FetchError::Other},
      {"empty method", [](FetchRequest& r) { r.method = ""; }, FetchError::Other},
      {"zero timeout", [](FetchRequest& r) { r.timeout = 0ms; }, FetchError::Other},
      {"negative timeout", [](FetchRequest& r) { r.timeout = -5ms; }, FetchError::Other},
      {"CRLF in header value",
       [](FetchRequest& r) {
         r.headers = {{"X-A", "1\r\nX-Evil: 1"}};
       },
       FetchError::Other},
      {"LF in header value",
       [](FetchRequest& r) {
         r.headers = {{"X-A", "1\nX-Evil: 1"}};
       },
       FetchError::Other},
      {"NUL in header value",
       [](FetchRequest& r) {
         r.headers = {{"X-A", std::string("a\0b", 3)}};
       },
       FetchError::Other},
      {"colon in header name",
       [](FetchRequest& r) {
         r.headers = {{"X-A: b", "1"}};
       },
       FetchError::Other},
      {"space in header name",
       [](FetchRequest& r) {
         r.headers = {{"X A", "1"}};
       },
       FetchError::Other},
      {"empty header name",
       [](FetchRequest& r) {
         r.headers = {{"", "1"}};
       },
       FetchError::Other},
      {"colon in Basic user", [](FetchRequest& r) { r.basic_user = "a:b"; }, FetchError::Other},
      {"CR in Basic password",
       [](FetchRequest& r) {
         r.basic_user = "a";
         r.basic_password = "p\r";
       },
       FetchError::Other},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      FetchRequest req = get(server.url("/ok"));
      row.edit(req);
      FetchResult r = fetch_once(loop, *fetcher, std::move(req));
      INFO("detail: " << r.detail);
      CHECK(portcullis::fetch::to_string(r.error) == portcullis::fetch::to_string(row.error));
      CHECK(r.status == 0);
      CHECK_FALSE(r.detail.empty());
      CHECK(server.hits("/ok") == 0);
    }
  }
}

TEST_CASE("upper-case scheme is accepted") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);
  FetchResult r =
      fetch_once(loop, *fetcher, get("HTTP://127.0.0.1:" + std::to_string(server.port()) + "/ok"));
  CHECK(r.error == FetchError::None);
  CHECK(r.status == 200);
}

TEST_CASE("cancel") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);
  Outcome canceled, witness;

  SUBCASE("before the transfer completes: no callback") {
    auto h = fetcher->fetch(get(server.url("/ok")), record(canceled));
    fetcher->fetch(get(server.url("/ok?witness")), record(witness));
    CHECK(h->pending());
    h->cancel();
    CHECK_FALSE(h->pending());
    CHECK(fetcher->in_flight() == 1);
    REQUIRE(loop.run_until([&] { return witness.calls > 0; }));
    loop.run_for(100ms);
    CHECK(canceled.calls == 0);
    CHECK(fetcher->in_flight() == 0);
  }
  SUBCASE("while the transfer is on the wire: no callback") {
    auto h = fetcher->fetch(get(server.url("/slow")), record(canceled));
    REQUIRE(loop.run_until([&] { return server.hits("/slow") == 1; }));
    h->cancel();
    CHECK(fetcher->in_flight() == 0);
    fetcher->fetch(get(server.url("/ok")), record(witness));
    REQUIRE(loop.run_until([&] { return witness.calls > 0; }));
    CHECK(canceled.calls == 0);
  }
  SUBCASE("after it ended but before delivery: no callback") {
    auto h = fetcher->fetch(get("ftp://x/"), record(canceled));  // ends at once, delivers later
    h->cancel();
    fetcher->fetch(get("ftp://y/"), record(witness));
    REQUIRE(loop.run_until([&] { return witness.calls > 0; }));
    loop.run_for(20ms);
    CHECK(canceled.calls == 0);
  }
  SUBCASE("is idempotent and a no-op after completion") {
    auto h = fetcher->fetch(get(server.url("/ok")), record(witness));
    REQUIRE(loop.run_until([&] { return witness.calls > 0; }));
    CHECK_FALSE(h->pending());
    h->cancel();
    h->cancel();
    CHECK(witness.calls == 1);
    auto h2 = fetcher->fetch(get(server.url("/ok")), record(canceled));
    h2->cancel();
    h2->cancel();
    loop.run_for(100ms);
    CHECK(canceled.calls == 0);
    CHECK(fetcher->in_flight() == 0);
  }
  SUBCASE("after the Fetcher is gone is safe") {
    auto h = fetcher->fetch(get(server.url("/slow")), record(canceled));
    fetcher.reset();
    CHECK_FALSE(h->pending());
    h->cancel();
    loop.run_for(50ms);
    CHECK(canceled.calls == 0);
  }
  SUBCASE("a default-constructed handle") {
    FetchHandle h;
    CHECK_FALSE(h.pending());
    h.cancel();
  }
}

TEST_CASE("dropping the handle does not cancel") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);
  Outcome out;
  fetcher->fetch(get(server.url("/ok")), record(out)).reset();
  REQUIRE(loop.run_until([&] { return out.calls > 0; }));
  CHECK(out.result->status == 200);
}

TEST_CASE("callbacks may re-enter the Fetcher") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);

  SUBCASE("fetch again from a callback") {
    std::vector<int> statuses;
    std::function<void(FetchResult &&)> next = [&](FetchResult&& r) {
      statuses.push_back(r.status);
      if (statuses.size() < 3) fetcher->fetch(get(server.url("/ok")), next);
    };
    fetcher->fetch(get(server.url("/ok")), next);
    REQUIRE(loop.run_until([&] { return statuses.size() == 3; }));
    CHECK(statuses == std::vector<int>{200, 200, 200});
    loop.run_for(20ms);
    CHECK(fetcher->in_flight() == 0);
  }
  SUBCASE("release its own handle from the callback") {
    Outcome out;
    std::shared_ptr<FetchHandle> h;
    h = fetcher->fetch(get(server.url("/ok")), [&](FetchResult&& r) {
      h->cancel();  // no-op: already delivering
      h.reset();
      record(out)(std::move(r));
    });
    REQUIRE(loop.run_until([&] { return out.calls > 0; }));
    CHECK(h == nullptr);
    CHECK(out.result->status == 200);
  }
  SUBCASE("cancel a sibling due in the same pass") {
    Outcome second;
    std::shared_ptr<FetchHandle> h2;
    int first_calls = 0;
    fetcher->fetch(get("ftp://a/"), [&](FetchResult&&) {
      ++first_calls;
      h2->cancel();
    });
    h2 = fetcher->fetch(get("ftp://b/"), record(second));
    REQUIRE(loop.run_until([&] { return first_calls > 0; }));
    loop.run_for(20ms);
    CHECK(first_calls == 1);
    CHECK(second.calls == 0);
    CHECK(fetcher->in_flight() == 0);
  }
  SUBCASE("destroy the Fetcher from a callback") {
    Outcome second, third;
    int first_calls = 0;
    fetcher->fetch(get("ftp://a/"), [&](FetchResult&&) {
      ++first_calls;
      fetcher.reset();
    });
    auto h2 = fetcher->fetch(get("ftp://b/"), record(second));
    auto h3 = fetcher->fetch(get(server.url("/slow")), record(third));
    REQUIRE(loop.run_until([&] { return first_calls > 0; }));
    loop.run_for(50ms);
    CHECK(fetcher == nullptr);
    CHECK(second.calls == 0);
    CHECK(third.calls == 0);
    CHECK_FALSE(h2->pending());
    h3->cancel();
  }
  SUBCASE("a throwing callback does not break the loop") {
    int threw = 0;
    fetcher->fetch(get(server.url("/ok")), [&](FetchResult&&) {
      ++threw;
      throw std::runtime_error("callback bug");
    });
    REQUIRE(loop.run_until([&] { return threw > 0; }));
    FetchResult r = fetch_once(loop, *fetcher, get(server.url("/ok")));
    CHECK(r.status == 200);
  }
}

TEST_CASE("destroying the Fetcher with fetches in flight calls nothing back") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);
  int calls = 0;
  std::vector<std::shared_ptr<FetchHandle>> handles;
  for (const char* path : {"/slow", "/hang", "/big-close", "/ok", "/echo"}) {
    handles.push_back(fetcher->fetch(get(server.url(path)), [&](FetchResult&&) { ++calls; }));
  }
  handles.push_back(fetcher->fetch(get("ftp://queued/"), [&](FetchResult&&) { ++calls; }));
  loop.run_for(5ms);  // some transfers are connected, some may be done and queued
  calls = 0;          // only callbacks after destruction matter
  fetcher.reset();
  loop.run_for(100ms);
  CHECK(calls == 0);
  for (auto& h : handles) {
    CHECK_FALSE(h->pending());
    h->cancel();
  }
}

TEST_CASE("destroying the Fetcher right after fetch() calls nothing back") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);
  int calls = 0;
  fetcher->fetch(get(server.url("/ok")), [&](FetchResult&&) { ++calls; });
  fetcher->fetch(get("ftp://queued/"), [&](FetchResult&&) { ++calls; });
  CHECK(fetcher->in_flight() == 2);
  fetcher.reset();
  loop.run_for(100ms);
  CHECK(calls == 0);
}

TEST_CASE("50 concurrent fetches all complete") {
  TestServer server;
  Loop loop;
  auto fetcher = Fetcher::create(loop.base());
  REQUIRE(fetcher);
  constexpr int kN = 50;
  std::vector<Outcome> outs(kN);
  for (int i = 0; i < kN; ++i) {
    fetcher->fetch(get(server.url("/ok?n=" + std::to_string(i))), record(outs[i]));
  }
  CHECK(fetcher->in_flight() == kN);
  REQUIRE(loop.run_until(
      [&] {
        for (const auto& o : outs) {
          if (o.calls == 0) return false;
        }
        return true;
      },
      10s));
  for (int i = 0; i < kN; ++i) {
    CAPTURE(i);
    CHECK(outs[i].calls == 1);
    CHECK(outs[i].result->error == FetchError::None);
    CHECK(outs[i].result->body == R"({"ok":true,"q":"n=)" + std::to_string(i) + "\"}");
  }
  CHECK(fetcher->in_flight() == 0);
  CHECK(server.hits("/ok") == kN);
}
