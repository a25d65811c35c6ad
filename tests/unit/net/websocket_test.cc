#include "net/websocket.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace portcullis::net::websocket {
namespace {

// RFC 6455 §1.3's example.
constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct Request {
  std::string buf;
  std::unique_ptr<http::RequestHead> head = std::make_unique<http::RequestHead>();
  http::RequestInfo info;
};

std::unique_ptr<Request> request(std::string text) {
  auto r = std::make_unique<Request>();
  r->buf = std::move(text);
  size_t scan = 0;
  REQUIRE(http::parse_request_head(r->buf, 16384, *r->head, scan) == http::HeadStatus::Complete);
  REQUIRE(http::analyze_request(*r->head, r->info).ok());
  return r;
}

struct Response {
  std::string buf;
  std::unique_ptr<http::ResponseHead> head = std::make_unique<http::ResponseHead>();
};

std::unique_ptr<Response> response(std::string text) {
  auto r = std::make_unique<Response>();
  r->buf = std::move(text);
  size_t scan = 0;
  REQUIRE(http::parse_response_head(r->buf, 16384, *r->head, scan) == http::HeadStatus::Complete);
  return r;
}

constexpr const char* kUpgradeHeaders =
    "Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

TEST_CASE("accept value: the RFC 6455 example") { CHECK(accept_for(kKey) == kAccept); }

TEST_CASE("which requests are WebSocket upgrades") {
  struct Row {
    const char* name;
    std::string head;
    bool upgrade;
  } rows[] = {
      {"valid", std::string("GET /chat HTTP/1.1\r\n") + kUpgradeHeaders + "\r\n", true},
      {"tokens in any case", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", true},
      {"not GET", std::string("POST / HTTP/1.1\r\n") + kUpgradeHeaders + "\r\n", false},
      {"HTTP/1.0", std::string("GET / HTTP/1.0\r\n") + kUpgradeHeaders + "\r\n", false},
      {"with a body", std::string("GET / HTTP/1.1\r\n") + kUpgradeHeaders + "Content-Length: 3\r\n\r\n", false},
      {"h2c", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
              "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", false},
      {"Connection lacks upgrade", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       false},
      {"version 8", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", false},
      {"no key", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n", false},
      {"two keys", std::string("GET / HTTP/1.1\r\n") + kUpgradeHeaders +
                       "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n", false},
      {"key not 16 bytes", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", false},
      {"key not canonical", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\nSec-WebSocket-Version: 13\r\n\r\n", false},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      auto r = request(row.head);
      std::string_view key = upgrade_key(*r->head, r->info);
      CHECK(!key.empty() == row.upgrade);
      if (row.upgrade) CHECK(key == kKey);
    }
  }
}

TEST_CASE("which 101 answers complete the handshake") {
  struct Row {
    const char* name;
    std::string head;
    bool valid;
  } rows[] = {
      {"valid", std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: ") + kAccept + "\r\n\r\n", true},
      {"wrong accept", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n", false},
      {"no accept", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", false},
      {"two accepts", std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Accept: ") + kAccept + "\r\nSec-WebSocket-Accept: " + kAccept +
                          "\r\n\r\n", false},
      {"other protocol", std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Accept: ") + kAccept + "\r\n\r\n", false},
      {"no Connection", std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                    "Sec-WebSocket-Accept: ") + kAccept + "\r\n\r\n", false},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      auto r = response(row.head);
      CHECK(valid_switch(*r->head, kKey) == row.valid);
    }
  }
}

TEST_CASE("heads written for the upgrade") {
  SUBCASE("upstream request gets the upgrade headers before its empty line") {
    std::string head = "GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\n\r\n";
    add_upgrade_headers(head);
    CHECK(head == "GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  }
  SUBCASE("client 101 keeps end-to-end headers and drops hop-by-hop ones") {
    auto r = response(std::string("HTTP/1.1 101 Whatever\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Secret\r\n"
                                  "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nX-Request-Id: theirs\r\n"
                                  "Sec-WebSocket-Accept: ") + kAccept +
                      "\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
    std::string out;
    build_switch_response(*r->head, "0123456789abcdef0123456789abcdef", out);
    CHECK(out == std::string("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: ") + kAccept +
                     "\r\nSec-WebSocket-Protocol: chat\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                     "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n\r\n");
  }
}

}  // namespace
}  // namespace portcullis::net::websocket
