#include "http/response_head.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace portcullis::http {
namespace {

using namespace std::string_literals;

constexpr size_t kMax = 16384;

struct Parsed {
  HeadStatus status;
  std::unique_ptr<ResponseHead> head = std::make_unique<ResponseHead>();
};

Parsed parse(std::string_view buf, size_t max = kMax) {
  Parsed p;
  size_t scan_from = 0;
  p.status = parse_response_head(buf, max, *p.head, scan_from);
  return p;
}

TEST_CASE("response head: well-formed status lines") {
  struct Row {
    const char* name;
    std::string line;
    int minor;
    int status;
    std::string reason;
  };
  const Row rows[] = {
      {"200 OK", "HTTP/1.1 200 OK", 1, 200, "OK"},
      {"HTTP/1.0", "HTTP/1.0 404 Not Found", 0, 404, "Not Found"},
      {"HTTP/1.2 is 1.1", "HTTP/1.2 204 No Content", 1, 204, "No Content"},
      {"empty reason with SP", "HTTP/1.1 500 ", 1, 500, ""},
      {"empty reason without SP", "HTTP/1.1 302", 1, 302, ""},
      {"reason with obs-text and tab", "HTTP/1.1 200 D\xc3\xa9j\xc3\xa0\tvu", 1, 200, "D\xc3\xa9j\xc3\xa0\tvu"},
      {"reason with spaces", "HTTP/1.1 100 Continue please now", 1, 100, "Continue please now"},
      {"599", "HTTP/1.1 599 x", 1, 599, "x"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      const std::string buf = r.line + "\r\nContent-Length: 0\r\n\r\n";
      Parsed p = parse(buf);
      REQUIRE(p.status == HeadStatus::Complete);
      CHECK(p.head->version_minor == r.minor);
      CHECK(p.head->status == r.status);
      CHECK(p.head->reason == r.reason);
      REQUIRE(p.head->header_count == 1);
      CHECK(p.head->headers[0].name == "Content-Length");
      CHECK(p.head->headers[0].value == "0");
      CHECK(p.head->head_bytes == buf.size());
    }
  }
}

TEST_CASE("response head: malformed heads are refused") {
  struct Row {
    const char* name;
    std::string input;
    HeadError error;
  };
  const Row rows[] = {
      {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", HeadError::BadStatusLine},
      {"four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", HeadError::BadStatusLine},
      {"status below 100", "HTTP/1.1 099 x\r\n\r\n", HeadError::BadStatusLine},
      {"status above 599", "HTTP/1.1 600 x\r\n\r\n", HeadError::BadStatusLine},
      {"letters in status", "HTTP/1.1 2x0 OK\r\n\r\n", HeadError::BadStatusLine},
      {"two spaces before status", "HTTP/1.1  200 OK\r\n\r\n", HeadError::BadStatusLine},
      {"tab before reason", "HTTP/1.1 200\tOK\r\n\r\n", HeadError::BadStatusLine},
      {"control in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", HeadError::BadStatusLine},
      {"NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n"s, HeadError::BadStatusLine},
      {"lowercase version", "http/1.1 200 OK\r\n\r\n", HeadError::BadStatusLine},
      {"garbage", "HELLO\r\n\r\n", HeadError::BadStatusLine},
      {"empty status line", "\r\n\r\n", HeadError::BadStatusLine},
      {"HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", HeadError::VersionNotSupported},
      {"HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", HeadError::VersionNotSupported},
      {"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", HeadError::BadLineEnding},
      {"bare CR", "HTTP/1.1 200 OK\r\nA: b\rC: d\r\n\r\n", HeadError::BadLineEnding},
      {"obs-fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", HeadError::ObsFold},
      {"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", HeadError::WhitespaceBeforeColon},
      {"bad name", "HTTP/1.1 200 OK\r\nA@B: c\r\n\r\n", HeadError::BadHeaderName},
      {"NUL in value", "HTTP/1.1 200 OK\r\nA: \0\r\n\r\n"s, HeadError::BadHeaderValue},
      {"DEL in value", "HTTP/1.1 200 OK\r\nA: \x7f\r\n\r\n", HeadError::BadHeaderValue},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      Parsed p = parse(r.input);
      CHECK(p.status == HeadStatus::Error);
      CHECK(p.head->error == r.error);
    }
  }
}

TEST_CASE("response head: limits") {
  SUBCASE("too many headers") {
    std::string buf = "HTTP/1.1 200 OK\r\n";
    for (size_t i = 0; i <= kMaxHeaders; ++i) buf += "X: v\r\n";
    Parsed p = parse(buf + "\r\n");
    CHECK(p.status == HeadStatus::Error);
    CHECK(p.head->error == HeadError::TooManyHeaders);
  }
  SUBCASE("too large") {
    Parsed p = parse("HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a'), 64);
    CHECK(p.status == HeadStatus::Error);
    CHECK(p.head->error == HeadError::HeadTooLarge);
  }
}

TEST_CASE("response head: resumable byte by byte") {
  const std::string buf = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello";
  const size_t head_end = buf.find("5\r\n");
  ResponseHead head;
  size_t scan_from = 0;
  for (size_t n = 0; n <= buf.size(); ++n) {
    const HeadStatus s =
        parse_response_head(std::string_view(buf).substr(0, n), kMax, head, scan_from);
    if (n < head_end) {
      REQUIRE_MESSAGE(s == HeadStatus::Incomplete, "at byte " << n);
    } else {
      REQUIRE_MESSAGE(s == HeadStatus::Complete, "at byte " << n);
      CHECK(head.head_bytes == head_end);
      CHECK(head.status == 200);
      CHECK(head.headers[0].value == "chunked");
    }
  }
}

}  // namespace
}  // namespace portcullis::http
