#include "http/framing.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace portcullis::http {
namespace {

// Keeps the buffer alive next to the head that points into it.
struct Request {
  std::string buf;
  std::unique_ptr<RequestHead> head = std::make_unique<RequestHead>();
  RequestInfo info;
  Verdict verdict;
};

std::unique_ptr<Request> analyze(std::string buf) {
  auto r = std::make_unique<Request>();
  r->buf = std::move(buf);
  size_t scan_from = 0;
  const HeadStatus s = parse_request_head(r->buf, 16384, *r->head, scan_from);
  REQUIRE_MESSAGE(s == HeadStatus::Complete, to_string(r->head->error));
  r->verdict = analyze_request(*r->head, r->info);
  return r;
}

std::string req(std::string_view line, std::string_view headers) {
  return std::string(line) + "\r\n" + std::string(headers) + "\r\n";
}

struct Row {
  const char* name;
  std::string request;
  int status;
  const char* reason;
};

void run_rows(const Row* rows, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const Row& r = rows[i];
    SUBCASE(r.name) {
      auto a = analyze(r.request);
      CHECK(a->verdict.status == r.status);
      CHECK(a->verdict.reason == r.reason);
      CHECK(a->verdict.ok() == (r.status == 0));
    }
  }
}

TEST_CASE("framing: body kinds of acceptable requests") {
  struct OkRow {
    const char* name;
    std::string request;
    BodyKind body;
    uint64_t length;
  };
  const OkRow rows[] = {
      {"no body", req("GET / HTTP/1.1", "Host: h\r\n"), BodyKind::None, 0},
      {"content-length", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 42\r\n"), BodyKind::ContentLength, 42},
      {"content-length zero is no body", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 0\r\n"), BodyKind::None, 0},
      {"content-length with OWS", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: \t5 \r\n"), BodyKind::ContentLength, 5},
      {"leading zeros", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 007\r\n"), BodyKind::ContentLength, 7},
      {"18 digits", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 999999999999999999\r\n"), BodyKind::ContentLength, 999999999999999999ull},
      {"identical duplicate headers", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5\r\ncontent-length: 5\r\n"), BodyKind::ContentLength, 5},
      {"identical comma list", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5, 5,5\r\n"), BodyKind::ContentLength, 5},
      {"chunked", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked\r\n"), BodyKind::Chunked, 0},
      {"chunked any case", req("POST / HTTP/1.1", "Host: h\r\ntransfer-encoding: ChUnKeD\r\n"), BodyKind::Chunked, 0},
      {"HTTP/1.0 content-length", req("POST / HTTP/1.0", "Content-Length: 3\r\n"), BodyKind::ContentLength, 3},
  };
  for (const OkRow& r : rows) {
    SUBCASE(r.name) {
      auto a = analyze(r.request);
      REQUIRE(a->verdict.status == 0);
      CHECK(a->info.body == r.body);
      CHECK(a->info.content_length == r.length);
    }
  }
}

TEST_CASE("framing: smuggling-prone framing is refused") {
  const Row rows[] = {
      {"CL and TE", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400, "content_length_with_transfer_encoding"},
      {"TE and CL", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400, "content_length_with_transfer_encoding"},
      {"CL and unsupported TE", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n"), 400, "content_length_with_transfer_encoding"},
      {"CL plus sign", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: +5\r\n"), 400, "bad_content_length"},
      {"CL minus sign", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: -5\r\n"), 400, "bad_content_length"},
      {"CL space inside", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5 5\r\n"), 400, "bad_content_length"},
      {"CL empty", req("POST / HTTP/1.1", "Host: h\r\nContent-Length:\r\n"), 400, "bad_content_length"},
      {"CL hex", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 0x5\r\n"), 400, "bad_content_length"},
      {"CL decimal point", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5.0\r\n"), 400, "bad_content_length"},
      {"CL 19 digits", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 1000000000000000000\r\n"), 400, "bad_content_length"},
      {"CL overflow", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 18446744073709551621\r\n"), 400, "bad_content_length"},
      {"CL empty list element", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5,,5\r\n"), 400, "bad_content_length"},
      {"CL trailing comma", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5,\r\n"), 400, "bad_content_length"},
      {"CL obs-text", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5\xc2\xa0\r\n"), 400, "bad_content_length"},
      {"CL list that differs", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5, 6\r\n"), 400, "conflicting_content_length"},
      {"two CL headers that differ", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n"), 400, "conflicting_content_length"},
      {"CL zero then nonzero", req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 0\r\nContent-Length: 6\r\n"), 400, "conflicting_content_length"},
      {"two TE headers", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400, "duplicate_transfer_encoding"},
      {"TE quoted", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: \"chunked\"\r\n"), 400, "bad_transfer_encoding"},
      {"TE with parameter", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked;x\r\n"), 400, "bad_transfer_encoding"},
      {"TE with parameter value", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked; q=1\r\n"), 400, "bad_transfer_encoding"},
      {"TE empty", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding:\r\n"), 400, "bad_transfer_encoding"},
      {"TE empty element", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: , chunked\r\n"), 400, "bad_transfer_encoding"},
      {"TE trailing comma", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked,\r\n"), 400, "bad_transfer_encoding"},
      {"TE space inside token", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chun ked\r\n"), 400, "bad_transfer_encoding"},
      {"TE with obs-text", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked\xff\r\n"), 400, "bad_transfer_encoding"},
      {"TE on HTTP/1.0", req("POST / HTTP/1.0", "Transfer-Encoding: chunked\r\n"), 400, "transfer_encoding_http10"},
      {"TE xchunked", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: xchunked\r\n"), 501, "unsupported_transfer_encoding"},
      {"TE gzip, chunked", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: gzip, chunked\r\n"), 501, "unsupported_transfer_encoding"},
      {"TE chunked, chunked", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked, chunked\r\n"), 501, "unsupported_transfer_encoding"},
      {"TE identity", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: identity\r\n"), 501, "unsupported_transfer_encoding"},
      {"TE chunked, identity", req("POST / HTTP/1.1", "Host: h\r\nTransfer-Encoding: chunked, identity\r\n"), 501, "unsupported_transfer_encoding"},
  };
  run_rows(rows, std::size(rows));
}

TEST_CASE("framing: Host, Authorization and target checks") {
  const Row rows[] = {
      {"missing Host on 1.1", req("GET / HTTP/1.1", ""), 400, "missing_host"},
      {"two Host headers", req("GET / HTTP/1.1", "Host: a\r\nhost: a\r\n"), 400, "duplicate_host"},
      {"empty Host", req("GET / HTTP/1.1", "Host:\r\n"), 400, "bad_host"},
      {"Host with space", req("GET / HTTP/1.1", "Host: a b\r\n"), 400, "bad_host"},
      {"Host with comma", req("GET / HTTP/1.1", "Host: a,b\r\n"), 400, "bad_host"},
      {"Host with userinfo", req("GET / HTTP/1.1", "Host: u@h\r\n"), 400, "bad_host"},
      {"Host with path", req("GET / HTTP/1.1", "Host: h/x\r\n"), 400, "bad_host"},
      {"Host with empty port", req("GET / HTTP/1.1", "Host: h:\r\n"), 400, "bad_host"},
      {"Host with letters in port", req("GET / HTTP/1.1", "Host: h:8o\r\n"), 400, "bad_host"},
      {"Host port too big", req("GET / HTTP/1.1", "Host: h:65536\r\n"), 400, "bad_host"},
      {"Host port too long", req("GET / HTTP/1.1", "Host: h:000080\r\n"), 400, "bad_host"},
      {"Host two colons", req("GET / HTTP/1.1", "Host: h:1:2\r\n"), 400, "bad_host"},
      {"Host unclosed bracket", req("GET / HTTP/1.1", "Host: [::1\r\n"), 400, "bad_host"},
      {"Host bracket junk", req("GET / HTTP/1.1", "Host: [::1]x\r\n"), 400, "bad_host"},
      {"Host bracket not v6", req("GET / HTTP/1.1", "Host: [example]\r\n"), 400, "bad_host"},
      {"Host percent", req("GET / HTTP/1.1", "Host: ex%41mple\r\n"), 400, "bad_host"},
      {"Host obs-text", req("GET / HTTP/1.1", "Host: b\xc3\xbc" "cher.de\r\n"), 400, "bad_host"},
      {"two Authorization headers", req("GET / HTTP/1.1", "Host: h\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n"), 400, "duplicate_authorization"},
      {"absolute-form host mismatch", req("GET http://evil/ HTTP/1.1", "Host: good\r\n"), 400, "host_mismatch"},
      {"absolute-form port mismatch", req("GET http://good:8080/ HTTP/1.1", "Host: good\r\n"), 400, "host_mismatch"},
      {"absolute-form userinfo", req("GET http://u@good/ HTTP/1.1", "Host: good\r\n"), 400, "bad_target"},
      {"absolute-form empty authority", req("GET http:///x HTTP/1.1", "Host: good\r\n"), 400, "bad_target"},
      {"absolute-form fragment", req("GET http://good#x HTTP/1.1", "Host: good\r\n"), 400, "bad_target"},
      {"absolute-form other scheme", req("GET ftp://good/ HTTP/1.1", "Host: good\r\n"), 400, "bad_target"},
      {"absolute-form missing slashes", req("GET http:good/ HTTP/1.1", "Host: good\r\n"), 400, "bad_target"},
      {"authority-form without CONNECT", req("GET good:443 HTTP/1.1", "Host: good:443\r\n"), 400, "bad_target"},
      {"relative target", req("GET orders HTTP/1.1", "Host: h\r\n"), 400, "bad_target"},
      {"asterisk with GET", req("GET * HTTP/1.1", "Host: h\r\n"), 400, "bad_asterisk_form"},
      {"CONNECT", req("CONNECT good:443 HTTP/1.1", "Host: good:443\r\n"), 405, "connect_not_allowed"},
      {"CONNECT without Host", req("CONNECT good:443 HTTP/1.1", ""), 405, "connect_not_allowed"},
      {"TRACE", req("TRACE / HTTP/1.1", "Host: h\r\n"), 405, "trace_not_allowed"},
      {"TRACE is checked after framing", req("TRACE / HTTP/1.1", "Host: h\r\nContent-Length: +1\r\n"), 400, "bad_content_length"},
      {"Expect other", req("POST / HTTP/1.1", "Host: h\r\nExpect: 200-ok\r\n"), 417, "unsupported_expect"},
      {"Expect list", req("POST / HTTP/1.1", "Host: h\r\nExpect: 100-continue, x\r\n"), 417, "unsupported_expect"},
      {"Expect empty", req("POST / HTTP/1.1", "Host: h\r\nExpect:\r\n"), 417, "unsupported_expect"},
  };
  run_rows(rows, std::size(rows));
}

TEST_CASE("framing: accepted hosts") {
  const char* hosts[] = {"api.example.com", "API.Example.COM", "h:8080", "127.0.0.1", "127.0.0.1:1",
                         "[::1]", "[::1]:443", "[2001:db8::7]", "[::ffff:1.2.3.4]:80", "a_b-c~d",
                         "h:65535", "h:0"};
  for (const char* host : hosts) {
    SUBCASE(host) {
      auto a = analyze(req("GET / HTTP/1.1", std::string("Host: ") + host + "\r\n"));
      CHECK(a->verdict.status == 0);
      CHECK(a->info.host == host);
    }
  }
}

TEST_CASE("framing: target forms split into path and query") {
  struct TRow {
    const char* name;
    std::string request;
    const char* host;
    const char* path;
    bool has_query;
    const char* query;
    bool absolute;
  };
  const TRow rows[] = {
      {"origin-form", req("GET /a/b HTTP/1.1", "Host: h\r\n"), "h", "/a/b", false, "", false},
      {"origin-form with query", req("GET /a?x=/public&y HTTP/1.1", "Host: h\r\n"), "h", "/a", true, "x=/public&y", false},
      {"origin-form empty query", req("GET /a? HTTP/1.1", "Host: h\r\n"), "h", "/a", true, "", false},
      {"query with second ?", req("GET /a?b?c HTTP/1.1", "Host: h\r\n"), "h", "/a", true, "b?c", false},
      {"absolute-form", req("GET http://h/p/q?z HTTP/1.1", "Host: h\r\n"), "h", "/p/q", true, "z", true},
      {"absolute-form https caps", req("GET HTTPS://H:8443/p HTTP/1.1", "Host: h:8443\r\n"), "h:8443", "/p", false, "", true},
      {"absolute-form empty path", req("GET http://h HTTP/1.1", "Host: h\r\n"), "h", "/", false, "", true},
      {"absolute-form query only", req("GET http://h?x HTTP/1.1", "Host: h\r\n"), "h", "/", true, "x", true},
      {"absolute-form HTTP/1.0 without Host", req("GET http://h:81/p HTTP/1.0", ""), "h:81", "/p", false, "", true},
      {"absolute-form IPv6", req("GET http://[::1]:8080/p HTTP/1.1", "Host: [::1]:8080\r\n"), "[::1]:8080", "/p", false, "", true},
      {"OPTIONS *", req("OPTIONS * HTTP/1.1", "Host: h\r\n"), "h", "*", false, "", false},
      {"HTTP/1.0 without Host", req("GET /x HTTP/1.0", ""), "", "/x", false, "", false},
  };
  for (const TRow& r : rows) {
    SUBCASE(r.name) {
      auto a = analyze(r.request);
      REQUIRE(a->verdict.status == 0);
      CHECK(a->info.host == r.host);
      CHECK(a->info.path == r.path);
      CHECK(a->info.has_query == r.has_query);
      CHECK(a->info.query == r.query);
      CHECK(a->info.absolute_form == r.absolute);
    }
  }
}

TEST_CASE("framing: keep-alive") {
  struct KRow {
    const char* name;
    std::string request;
    bool keep_alive;
  };
  const KRow rows[] = {
      {"1.1 default", req("GET / HTTP/1.1", "Host: h\r\n"), true},
      {"1.1 close", req("GET / HTTP/1.1", "Host: h\r\nConnection: close\r\n"), false},
      {"1.1 Close in a list", req("GET / HTTP/1.1", "Host: h\r\nConnection: X-Foo, CLOSE\r\n"), false},
      {"1.1 close in second header", req("GET / HTTP/1.1", "Host: h\r\nConnection: upgrade\r\nConnection: close\r\n"), false},
      {"1.1 closed is not close", req("GET / HTTP/1.1", "Host: h\r\nConnection: closed\r\n"), true},
      {"1.0 default", req("GET / HTTP/1.0", ""), false},
      {"1.0 keep-alive", req("GET / HTTP/1.0", "Connection: Keep-Alive\r\n"), true},
      {"1.0 keep-alive and close", req("GET / HTTP/1.0", "Connection: keep-alive, close\r\n"), false},
      {"1.2 treated as 1.1", req("GET / HTTP/1.2", "Host: h\r\n"), true},
  };
  for (const KRow& r : rows) {
    SUBCASE(r.name) {
      auto a = analyze(r.request);
      REQUIRE(a->verdict.status == 0);
      CHECK(a->info.keep_alive == r.keep_alive);
    }
  }
}

TEST_CASE("framing: Expect, Authorization and Upgrade are reported") {
  SUBCASE("100-continue any case") {
    auto a = analyze(req("POST / HTTP/1.1", "Host: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n"));
    REQUIRE(a->verdict.status == 0);
    CHECK(a->info.expect_continue);
  }
  SUBCASE("100-continue ignored on HTTP/1.0") {
    auto a = analyze(req("POST / HTTP/1.0", "Expect: 100-continue\r\nContent-Length: 3\r\n"));
    REQUIRE(a->verdict.status == 0);
    CHECK_FALSE(a->info.expect_continue);
  }
  SUBCASE("no Expect") {
    auto a = analyze(req("POST / HTTP/1.1", "Host: h\r\nContent-Length: 3\r\n"));
    CHECK_FALSE(a->info.expect_continue);
  }
  SUBCASE("authorization points at the header") {
    auto a = analyze(req("GET / HTTP/1.1", "Host: h\r\nAUTHORIZATION: Bearer t\r\n"));
    REQUIRE(a->verdict.status == 0);
    REQUIRE(a->info.authorization != nullptr);
    CHECK(a->info.authorization == &a->head->headers[1]);
    CHECK(a->info.authorization->value == "Bearer t");
  }
  SUBCASE("no authorization") {
    auto a = analyze(req("GET / HTTP/1.1", "Host: h\r\n"));
    CHECK(a->info.authorization == nullptr);
    CHECK(a->info.upgrade.empty());
  }
  SUBCASE("upgrade") {
    auto a = analyze(req("GET / HTTP/1.1", "Host: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"));
    REQUIRE(a->verdict.status == 0);
    CHECK(a->info.upgrade == "h2c");
  }
}

// ---- responses ----

struct Response {
  std::string buf;
  std::unique_ptr<ResponseHead> head = std::make_unique<ResponseHead>();
  ResponseInfo info;
  bool ok = false;
};

std::unique_ptr<Response> analyze_resp(std::string buf, std::string_view method = "GET") {
  auto r = std::make_unique<Response>();
  r->buf = std::move(buf);
  size_t scan_from = 0;
  const HeadStatus s = parse_response_head(r->buf, 16384, *r->head, scan_from);
  REQUIRE_MESSAGE(s == HeadStatus::Complete, to_string(r->head->error));
  r->ok = analyze_response(*r->head, method, r->info);
  return r;
}

TEST_CASE("framing: response body kinds") {
  struct RRow {
    const char* name;
    std::string response;
    const char* method;
    ResponseBodyKind body;
    uint64_t length;
    bool keep_alive;
  };
  const RRow rows[] = {
      {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", "GET", ResponseBodyKind::ContentLength, 12, true},
      {"content-length zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", ResponseBodyKind::None, 0, true},
      {"identical duplicate CL", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", "GET", ResponseBodyKind::ContentLength, 3, true},
      {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", "GET", ResponseBodyKind::Chunked, 0, true},
      {"until close", "HTTP/1.1 200 OK\r\n\r\n", "GET", ResponseBodyKind::UntilClose, 0, false},
      {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", "HEAD", ResponseBodyKind::None, 0, true},
      {"HEAD with chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD", ResponseBodyKind::None, 0, true},
      {"HEAD without length", "HTTP/1.1 200 OK\r\n\r\n", "HEAD", ResponseBodyKind::None, 0, true},
      {"204", "HTTP/1.1 204 No Content\r\n\r\n", "GET", ResponseBodyKind::None, 0, true},
      {"204 with CL 0", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", "DELETE", ResponseBodyKind::None, 0, true},
      {"304 with CL", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", "GET", ResponseBodyKind::None, 0, true},
      {"100 continue", "HTTP/1.1 100 Continue\r\n\r\n", "POST", ResponseBodyKind::None, 0, true},
      {"101", "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", "GET", ResponseBodyKind::None, 0, true},
      {"Connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", "GET", ResponseBodyKind::ContentLength, 1, false},
      {"1.0 default close", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "GET", ResponseBodyKind::ContentLength, 1, false},
      {"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", "GET", ResponseBodyKind::ContentLength, 1, true},
      {"1.0 until close", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", "GET", ResponseBodyKind::UntilClose, 0, false},
  };
  for (const RRow& r : rows) {
    SUBCASE(r.name) {
      auto a = analyze_resp(r.response, r.method);
      REQUIRE(a->ok);
      CHECK(a->info.body == r.body);
      if (r.body == ResponseBodyKind::ContentLength) CHECK(a->info.content_length == r.length);
      CHECK(a->info.keep_alive == r.keep_alive);
    }
  }
}

TEST_CASE("framing: malformed responses are refused (502)") {
  struct MRow {
    const char* name;
    std::string response;
  };
  const MRow rows[] = {
      {"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"},
      {"CL and TE on HEAD too", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"},
      {"TE gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {"TE gzip, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"},
      {"TE chunked, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"},
      {"two TE headers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"},
      {"TE malformed", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x\r\n\r\n"},
      {"TE on HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
      {"TE on 204", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"},
      {"CL differs", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"},
      {"CL list differs", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n"},
      {"CL plus", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"},
      {"CL empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"},
      {"CL negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"},
  };
  for (const MRow& r : rows) {
    SUBCASE(r.name) {
      auto a = analyze_resp(r.response);
      CHECK_FALSE(a->ok);
    }
  }
}

TEST_CASE("framing: parse_content_length and is_valid_authority directly") {
  uint64_t v = 0;
  CHECK(parse_content_length("0", v));
  CHECK(v == 0);
  CHECK(parse_content_length("123456789012345678", v));
  CHECK(v == 123456789012345678ull);
  CHECK_FALSE(parse_content_length("", v));
  CHECK_FALSE(parse_content_length(" ", v));
  CHECK_FALSE(parse_content_length("1 2", v));
  CHECK_FALSE(parse_content_length("1,2", v));
  CHECK(is_valid_authority("h"));
  CHECK_FALSE(is_valid_authority(""));
  CHECK_FALSE(is_valid_authority(":80"));
  CHECK_FALSE(is_valid_authority("[]"));
}

}  // namespace
}  // namespace portcullis::http
