#include "http/request_head.h"

#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <string>

namespace portcullis::http {
namespace {

using namespace std::string_literals;

constexpr size_t kMax = 16384;

struct Parsed {
  HeadStatus status;
  std::unique_ptr<RequestHead> head = std::make_unique<RequestHead>();
};

Parsed parse(std::string_view buf, size_t max = kMax) {
  Parsed p;
  size_t scan_from = 0;
  p.status = parse_request_head(buf, max, *p.head, scan_from);
  return p;
}

struct BadRow {
  const char* name;
  std::string input;
  HeadError error;
};

TEST_CASE("request head: a well-formed request parses into views") {
  const std::string buf =
      "GET /orders/7?x=1 HTTP/1.1\r\n"
      "Host: api.example.com\r\n"
      "Authorization:   Bearer abc \t\r\n"
      "X-Empty:\r\n"
      "\r\n"
      "BODY";
  Parsed p = parse(buf);
  REQUIRE(p.status == HeadStatus::Complete);
  const RequestHead& h = *p.head;
  CHECK(h.method == "GET");
  CHECK(h.target == "/orders/7?x=1");
  CHECK(h.version_minor == 1);
  CHECK(h.error == HeadError::None);
  REQUIRE(h.header_count == 3);
  CHECK(h.headers[0].name == "Host");
  CHECK(h.headers[0].value == "api.example.com");
  CHECK(h.headers[1].name == "Authorization");
  CHECK(h.headers[1].value == "Bearer abc");
  CHECK(h.headers[2].name == "X-Empty");
  CHECK(h.headers[2].value.empty());
  CHECK(h.head_bytes == buf.size() - 4);
  // Views point into the caller's buffer: nothing was copied.
  CHECK(h.method.data() == buf.data());
  CHECK(h.headers[0].value.data() == buf.data() + buf.find("api."));
}

TEST_CASE("request head: versions") {
  struct Row {
    const char* version;
    int minor;
  };
  const Row rows[] = {{"HTTP/1.0", 0}, {"HTTP/1.1", 1}, {"HTTP/1.2", 1}, {"HTTP/1.9", 1}};
  for (const Row& r : rows) {
    SUBCASE(r.version) {
      Parsed p = parse(std::string("GET / ") + r.version + "\r\nHost: h\r\n\r\n");
      REQUIRE(p.status == HeadStatus::Complete);
      CHECK(p.head->version_minor == r.minor);
    }
  }
}

TEST_CASE("request head: leading empty lines are skipped and counted") {
  const std::string buf = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  Parsed p = parse(buf);
  REQUIRE(p.status == HeadStatus::Complete);
  CHECK(p.head->method == "GET");
  CHECK(p.head->head_bytes == buf.size());
}

TEST_CASE("request head: obs-text in values is kept, tabs are allowed") {
  const std::string buf = "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\tb\x80\xff\r\n\r\n";
  Parsed p = parse(buf);
  REQUIRE(p.status == HeadStatus::Complete);
  CHECK(p.head->headers[1].value == "caf\xc3\xa9\tb\x80\xff");
}

TEST_CASE("request head: malformed heads are refused with a precise error") {
  const std::string ok_tail = " HTTP/1.1\r\nHost: h\r\n\r\n";
  const BadRow rows[] = {
      // request line
      {"empty method", " / HTTP/1.1\r\n\r\n", HeadError::BadRequestLine},
      {"two spaces after method", "GET  / HTTP/1.1\r\n\r\n", HeadError::BadRequestLine},
      {"two spaces before version", "GET /  HTTP/1.1\r\n\r\n", HeadError::BadRequestLine},
      {"trailing space after version", "GET / HTTP/1.1 \r\n\r\n", HeadError::BadRequestLine},
      {"http/0.9 style line", "GET /\r\n\r\n", HeadError::BadRequestLine},
      {"too many leading CRLFs", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", HeadError::BadRequestLine},
      {"method with slash", "GE/T /" + ok_tail, HeadError::BadMethod},
      {"method with tab", "GET\t/" + ok_tail, HeadError::BadMethod},
      {"method with NUL", "GE\0T /"s + ok_tail, HeadError::BadMethod},
      {"method with obs-text", "G\xc3\x89T /" + ok_tail, HeadError::BadMethod},
      {"target with tab", "GET /a\tb" + ok_tail, HeadError::BadTarget},
      {"target with NUL", "GET /a\0b"s + ok_tail, HeadError::BadTarget},
      {"target with DEL", "GET /a\x7f" + ok_tail, HeadError::BadTarget},
      {"target with obs-text", "GET /caf\xc3\xa9" + ok_tail, HeadError::BadTarget},
      {"target with vertical tab", "GET /a\x0b" + ok_tail, HeadError::BadTarget},
      // version
      {"lowercase version", "GET / http/1.1\r\n\r\n", HeadError::BadVersion},
      {"version without minor", "GET / HTTP/1\r\n\r\n", HeadError::BadVersion},
      {"two-digit minor", "GET / HTTP/1.10\r\n\r\n", HeadError::BadVersion},
      {"garbage version", "GET / HTTX/1.1\r\n\r\n", HeadError::BadVersion},
      {"version with letters", "GET / HTTP/1.a\r\n\r\n", HeadError::BadVersion},
      {"two-digit major", "GET / HTTP/11.1\r\n\r\n", HeadError::BadVersion},
      {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", HeadError::VersionNotSupported},
      {"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", HeadError::VersionNotSupported},
      {"HTTP/3", "GET / HTTP/3\r\n\r\n", HeadError::VersionNotSupported},
      {"HTTP/2", "GET / HTTP/2\r\n\r\n", HeadError::VersionNotSupported},
      // line endings
      {"bare LF after request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", HeadError::BadLineEnding},
      {"bare LF after header", "GET / HTTP/1.1\r\nHost: h\n\r\n", HeadError::BadLineEnding},
      {"bare LF terminator", "GET / HTTP/1.1\r\nHost: h\r\n\n", HeadError::BadLineEnding},
      {"bare CR in header value", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", HeadError::BadLineEnding},
      {"bare CR in request line", "GET /\r HTTP/1.1\r\n\r\n", HeadError::BadLineEnding},
      {"CR CR LF", "GET / HTTP/1.1\r\r\n\r\n", HeadError::BadLineEnding},
      {"leading bare LF", "\nGET / HTTP/1.1\r\n\r\n", HeadError::BadLineEnding},
      {"leading bare CR", "\rGET / HTTP/1.1\r\n\r\n", HeadError::BadLineEnding},
      // header names
      {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", HeadError::WhitespaceBeforeColon},
      {"tab before colon", "GET / HTTP/1.1\r\nContent-Length\t: 5\r\n\r\n", HeadError::WhitespaceBeforeColon},
      {"obs-fold with space", "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  continued\r\n\r\n", HeadError::ObsFold},
      {"obs-fold with tab", "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\tchunked\r\n\r\n", HeadError::ObsFold},
      {"first header line folded", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", HeadError::ObsFold},
      {"empty name", "GET / HTTP/1.1\r\n: v\r\n\r\n", HeadError::BadHeaderName},
      {"no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", HeadError::BadHeaderName},
      {"name with slash", "GET / HTTP/1.1\r\nX/Y: v\r\n\r\n", HeadError::BadHeaderName},
      {"name with NUL", "GET / HTTP/1.1\r\nX\0Y: v\r\n\r\n"s, HeadError::BadHeaderName},
      {"name with DEL", "GET / HTTP/1.1\r\nX\x7fY: v\r\n\r\n", HeadError::BadHeaderName},
      {"name with obs-text", "GET / HTTP/1.1\r\nX\xc3\xa9: v\r\n\r\n", HeadError::BadHeaderName},
      {"name with vertical tab", "GET / HTTP/1.1\r\nTransfer-Encoding\x0b: chunked\r\n\r\n", HeadError::BadHeaderName},
      {"name with quote", "GET / HTTP/1.1\r\n\"X\": v\r\n\r\n", HeadError::BadHeaderName},
      // header values
      {"value with NUL", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"s, HeadError::BadHeaderValue},
      {"value with DEL", "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", HeadError::BadHeaderValue},
      {"value with vertical tab", "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\x0b\r\n\r\n", HeadError::BadHeaderValue},
      {"value with form feed", "GET / HTTP/1.1\r\nX: \x0c" "a\r\n\r\n", HeadError::BadHeaderValue},
      {"value with ESC", "GET / HTTP/1.1\r\nX: a\x1b[31m\r\n\r\n", HeadError::BadHeaderValue},
      {"value with 0x01", "GET / HTTP/1.1\r\nContent-Length: \x01" "5\r\n\r\n", HeadError::BadHeaderValue},
  };
  for (const BadRow& r : rows) {
    SUBCASE(r.name) {
      Parsed p = parse(r.input);
      CHECK(p.status == HeadStatus::Error);
      CHECK(p.head->error == r.error);
    }
  }
}

TEST_CASE("request head: a bare LF fails at once, without waiting for more bytes") {
  Parsed p = parse("GET / HTTP/1.1\n");
  CHECK(p.status == HeadStatus::Error);
  CHECK(p.head->error == HeadError::BadLineEnding);
}

TEST_CASE("request head: header count limit") {
  std::string buf = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i < kMaxHeaders; ++i) buf += "X-" + std::to_string(i) + ": v\r\n";
  SUBCASE("exactly kMaxHeaders is fine") {
    Parsed p = parse(buf + "\r\n");
    REQUIRE(p.status == HeadStatus::Complete);
    CHECK(p.head->header_count == kMaxHeaders);
  }
  SUBCASE("one more is TooManyHeaders (431)") {
    Parsed p = parse(buf + "X-Last: v\r\n\r\n");
    CHECK(p.status == HeadStatus::Error);
    CHECK(p.head->error == HeadError::TooManyHeaders);
    CHECK(http_status_for(p.head->error) == 431);
  }
}

TEST_CASE("request head: size limit") {
  const std::string head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  SUBCASE("a head of exactly max bytes is complete") {
    Parsed p = parse(head, head.size());
    CHECK(p.status == HeadStatus::Complete);
  }
  SUBCASE("a head one byte over max is too large even when complete") {
    Parsed p = parse(head, head.size() - 1);
    CHECK(p.status == HeadStatus::Error);
    CHECK(p.head->error == HeadError::HeadTooLarge);
  }
  SUBCASE("an incomplete head up to max bytes is incomplete") {
    const std::string partial(64, 'a');
    Parsed p = parse("GET /" + partial, 69);
    CHECK(p.status == HeadStatus::Incomplete);
  }
  SUBCASE("an incomplete head over max bytes is too large") {
    const std::string partial(64, 'a');
    Parsed p = parse("GET /" + partial, 68);
    CHECK(p.status == HeadStatus::Error);
    CHECK(p.head->error == HeadError::HeadTooLarge);
    CHECK(http_status_for(p.head->error) == 431);
  }
}

TEST_CASE("request head: pipelined bytes after the head are left alone") {
  const std::string first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string buf = first + second;
  Parsed p = parse(buf);
  REQUIRE(p.status == HeadStatus::Complete);
  CHECK(p.head->head_bytes == first.size());
  CHECK(p.head->target == "/a");
  Parsed q = parse(std::string_view(buf).substr(p.head->head_bytes));
  REQUIRE(q.status == HeadStatus::Complete);
  CHECK(q.head->target == "/b");
}

TEST_CASE("request head: resumable, byte by byte, with scan_from") {
  const std::string buf =
      "\r\nPOST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-V: a b\r\n\r\nabc";
  const size_t head_end = buf.size() - 3;
  RequestHead head;
  size_t scan_from = 0;
  for (size_t n = 0; n <= buf.size(); ++n) {
    const HeadStatus s = parse_request_head(std::string_view(buf).substr(0, n), kMax, head, scan_from);
    if (n < head_end) {
      REQUIRE_MESSAGE(s == HeadStatus::Incomplete, "at byte " << n);
      CHECK(scan_from <= n);
    } else {
      REQUIRE_MESSAGE(s == HeadStatus::Complete, "at byte " << n);
      CHECK(head.head_bytes == head_end);
      CHECK(head.method == "POST");
      REQUIRE(head.header_count == 3);
      CHECK(head.headers[2].value == "a b");
    }
  }
}

TEST_CASE("request head: resumed scan still catches a CR split from a bad next byte") {
  RequestHead head;
  size_t scan_from = 0;
  const std::string buf = "GET / HTTP/1.1\r\nHost: h\rX";
  CHECK(parse_request_head(std::string_view(buf).substr(0, buf.size() - 1), kMax, head, scan_from) ==
        HeadStatus::Incomplete);
  CHECK(parse_request_head(buf, kMax, head, scan_from) == HeadStatus::Error);
  CHECK(head.error == HeadError::BadLineEnding);
}

TEST_CASE("request head: random mutations never escape the buffer and parse the same resumed") {
  const std::string seed =
      "POST /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\nX-A:  v \t\r\n\r\nhello";
  const char interesting[] = {'\r', '\n', ' ', '\t', ':', '\0', '\x7f', '\x80', 'a', '/', '\x0b'};
  std::mt19937 rng(777);
  size_t complete = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string buf = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % buf.size();
      const char c = interesting[rng() % sizeof(interesting)];
      switch (rng() % 3) {
        case 0: buf[at] = c; break;
        case 1: buf.insert(buf.begin() + static_cast<long>(at), c); break;
        default: buf.erase(at, 1); break;
      }
    }
    RequestHead whole;
    size_t scan_whole = 0;
    const HeadStatus sw = parse_request_head(buf, 256, whole, scan_whole);
    if (sw == HeadStatus::Complete) {
      ++complete;
      REQUIRE(whole.head_bytes <= buf.size());
      for (size_t i = 0; i < whole.header_count; ++i) {
        const Header& h = whole.headers[i];
        REQUIRE(h.name.data() >= buf.data());
        REQUIRE(h.value.data() + h.value.size() <= buf.data() + whole.head_bytes);
      }
    }
    // Fed in two random pieces, the outcome is the same.
    const size_t cut = rng() % (buf.size() + 1);
    RequestHead split;
    size_t scan_split = 0;
    HeadStatus ss = parse_request_head(std::string_view(buf).substr(0, cut), 256, split, scan_split);
    if (ss == HeadStatus::Incomplete) ss = parse_request_head(buf, 256, split, scan_split);
    REQUIRE_MESSAGE(ss == sw, buf);
    CHECK(split.error == whole.error);
    CHECK(split.head_bytes == whole.head_bytes);
  }
  CHECK(complete > 100);
}

TEST_CASE("head errors: status codes and names") {
  struct Row {
    HeadError e;
    int status;
    const char* name;
  };
  const Row rows[] = {
      {HeadError::BadRequestLine, 400, "bad_request_line"},
      {HeadError::BadMethod, 400, "bad_method"},
      {HeadError::BadTarget, 400, "bad_target"},
      {HeadError::BadVersion, 400, "bad_version"},
      {HeadError::VersionNotSupported, 505, "version_not_supported"},
      {HeadError::HeadTooLarge, 431, "head_too_large"},
      {HeadError::TooManyHeaders, 431, "too_many_headers"},
      {HeadError::BadHeaderName, 400, "bad_header_name"},
      {HeadError::BadHeaderValue, 400, "bad_header_value"},
      {HeadError::ObsFold, 400, "obs_fold"},
      {HeadError::WhitespaceBeforeColon, 400, "whitespace_before_colon"},
      {HeadError::BadLineEnding, 400, "bad_line_ending"},
      {HeadError::BadStatusLine, 400, "bad_status_line"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      CHECK(http_status_for(r.e) == r.status);
      CHECK(to_string(r.e) == r.name);
    }
  }
}

}  // namespace
}  // namespace portcullis::http
