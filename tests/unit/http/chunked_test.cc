#include "http/chunked.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace portcullis::http {
namespace {

using namespace std::string_literals;

struct Outcome {
  bool done = false;
  std::string error;
  std::string body;
  std::string rest;  // bytes after the message, never touched by the decoder
  uint64_t body_bytes = 0;
};

// Feeds `input` in pieces whose sizes come from `piece` (cycled), the way a connection would:
// unconsumed bytes stay at the front of `pending`, framing is drained, data is moved out.
Outcome run(std::string_view input, const std::vector<size_t>& piece_sizes) {
  ChunkedDecoder dec;
  Outcome o;
  std::string pending;
  size_t fed = 0;
  size_t turn = 0;
  for (;;) {
    const ChunkedDecoder::Step s = dec.next(pending);
    switch (s.kind) {
      case ChunkedDecoder::Step::NeedMore:
        REQUIRE(s.bytes == 0);
        if (fed == input.size()) {
          o.rest = pending;
          o.body_bytes = dec.body_bytes();
          return o;  // truncated input: neither done nor error
        }
        {
          const size_t n = std::min(piece_sizes[turn++ % piece_sizes.size()], input.size() - fed);
          pending.append(input.substr(fed, n));
          fed += n;
        }
        break;
      case ChunkedDecoder::Step::Framing:
        REQUIRE(s.bytes > 0);
        REQUIRE(s.bytes <= pending.size());
        pending.erase(0, s.bytes);
        break;
      case ChunkedDecoder::Step::Data:
        REQUIRE(s.bytes > 0);
        REQUIRE(s.bytes <= pending.size());
        o.body.append(pending, 0, s.bytes);
        pending.erase(0, s.bytes);
        break;
      case ChunkedDecoder::Step::Done:
        REQUIRE(s.bytes <= pending.size());
        pending.erase(0, s.bytes);
        o.done = true;
        o.rest = pending + std::string(input.substr(fed));
        o.body_bytes = dec.body_bytes();
        CHECK(dec.done());
        CHECK(dec.next(o.rest).kind == ChunkedDecoder::Step::Done);  // stays done
        CHECK(dec.next(o.rest).bytes == 0);
        return o;
      case ChunkedDecoder::Step::Error:
        REQUIRE(!s.error.empty());
        o.error = std::string(s.error);
        CHECK(dec.next(pending).kind == ChunkedDecoder::Step::Error);  // stays an error
        return o;
    }
  }
}

Outcome run_whole(std::string_view input) { return run(input, {input.size() + 1}); }
Outcome run_bytewise(std::string_view input) { return run(input, {1}); }

struct GoodRow {
  const char* name;
  std::string input;
  std::string body;
  std::string rest;
};

const std::vector<GoodRow>& good_rows() {
  static const std::vector<GoodRow> rows = {
      {"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", ""},
      {"several chunks", "5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n", "hello world!", ""},
      {"empty body", "0\r\n\r\n", "", ""},
      {"uppercase hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", ""},
      {"lowercase hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789", ""},
      {"leading zeros", "0005\r\nhello\r\n0000\r\n\r\n", "hello", ""},
      {"16 digits", "0000000000000003\r\nabc\r\n0\r\n\r\n", "abc", ""},
      {"extension", "5;foo=bar\r\nhello\r\n0;last\r\n\r\n", "hello", ""},
      {"extensions with BWS", "5 ; foo = bar\t;baz\r\nhello\r\n0\r\n\r\n", "hello", ""},
      {"quoted extension", "5;a=\"x;y \\\" z\"\r\nhello\r\n0\r\n\r\n", "hello", ""},
      {"trailers discarded", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nAuthorization: Bearer evil\r\n\r\n", "hello", ""},
      {"data containing CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n", ""},
      {"data looking like framing", "9\r\n0\r\n\r\nGET \r\n0\r\n\r\n", "0\r\n\r\nGET ", ""},
      {"pipelined request left alone", "3\r\nabc\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n", "abc", "GET /admin HTTP/1.1\r\n\r\n"},
  };
  return rows;
}

TEST_CASE("chunked: well-formed bodies decode the same however they are split") {
  std::mt19937 rng(12345);
  for (const GoodRow& r : good_rows()) {
    SUBCASE(r.name) {
      const Outcome whole = run_whole(r.input);
      CHECK(whole.error.empty());
      CHECK(whole.done);
      CHECK(whole.body == r.body);
      CHECK(whole.rest == r.rest);
      CHECK(whole.body_bytes == r.body.size());

      const Outcome bytewise = run_bytewise(r.input);
      CHECK(bytewise.done);
      CHECK(bytewise.body == r.body);
      CHECK(bytewise.rest == r.rest);

      for (int trial = 0; trial < 50; ++trial) {
        std::vector<size_t> pieces;
        for (int i = 0; i < 8; ++i) pieces.push_back(1 + rng() % 7);
        const Outcome o = run(r.input, pieces);
        CHECK(o.done);
        CHECK(o.body == r.body);
        CHECK(o.rest == r.rest);
      }
    }
  }
}

TEST_CASE("chunked: malformed framing is an error, whole or byte by byte") {
  struct BadRow {
    const char* name;
    std::string input;
    const char* error;
  };
  const std::string long_ext = "1;" + std::string(kMaxChunkSizeLine, 'x') + "\r\nx\r\n0\r\n\r\n";
  std::string big_trailers = "0\r\n";
  while (big_trailers.size() < kMaxTrailerBytes + 100) big_trailers += "X-Pad: " + std::string(60, 'p') + "\r\n";
  big_trailers += "\r\n";
  const BadRow rows[] = {
      {"empty size line", "\r\nhello\r\n0\r\n\r\n", "bad_chunk_size"},
      {"leading space", " 5\r\nhello\r\n0\r\n\r\n", "bad_chunk_size"},
      {"leading tab", "\t5\r\nhello\r\n0\r\n\r\n", "bad_chunk_size"},
      {"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", "bad_chunk_size"},
      {"plus sign", "+5\r\nhello\r\n0\r\n\r\n", "bad_chunk_size"},
      {"minus sign", "-5\r\nhello\r\n0\r\n\r\n", "bad_chunk_size"},
      {"not hex", "g\r\nhello\r\n0\r\n\r\n", "bad_chunk_size"},
      {"hex then junk", "5g\r\nhello\r\n0\r\n\r\n", "bad_chunk_size"},
      {"NUL after size", "5\0\r\nhello\r\n0\r\n\r\n"s, "bad_chunk_size"},
      {"17 digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", "chunk_size_too_long"},
      {"overflow", "10000000000000000\r\nx\r\n0\r\n\r\n", "chunk_size_too_long"},
      {"trailing space", "5 \r\nhello\r\n0\r\n\r\n", "bad_chunk_extension"},
      {"empty extension", "5;\r\nhello\r\n0\r\n\r\n", "bad_chunk_extension"},
      {"extension without name", "5;=x\r\nhello\r\n0\r\n\r\n", "bad_chunk_extension"},
      {"extension without value", "5;a=\r\nhello\r\n0\r\n\r\n", "bad_chunk_extension"},
      {"extension value with space", "5;a=b c\r\nhello\r\n0\r\n\r\n", "bad_chunk_extension"},
      {"extension unterminated quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", "bad_chunk_extension"},
      {"extension with control", "5;a=\x01\r\nhello\r\n0\r\n\r\n", "bad_chunk_extension"},
      {"extension name with slash", "5;a/b\r\nhello\r\n0\r\n\r\n", "bad_chunk_extension"},
      {"size line too long", long_ext, "chunk_line_too_long"},
      {"bare LF after size", "5\nhello\r\n0\r\n\r\n", "bad_line_ending"},
      {"bare CR after size", "5\rhello\r\n0\r\n\r\n", "bad_line_ending"},
      {"CR CR LF after size", "5\r\r\nhello\r\n0\r\n\r\n", "bad_line_ending"},
      {"data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", "missing_crlf_after_data"},
      {"bare LF after data", "5\r\nhello\n0\r\n\r\n", "missing_crlf_after_data"},
      {"CR without LF after data", "5\r\nhello\r0\r\n\r\n", "missing_crlf_after_data"},
      {"data shorter than size", "6\r\nhello\r\n0\r\n\r\n", "missing_crlf_after_data"},
      {"bare LF after last chunk", "0\n\r\n", "bad_line_ending"},
      {"bare LF ending trailers", "0\r\n\n", "bad_line_ending"},
      {"bare LF after trailer", "0\r\nA: b\n\r\n", "bad_line_ending"},
      {"bare CR in trailer", "0\r\nA: b\rc\r\n\r\n", "bad_line_ending"},
      {"trailer obs-fold", "0\r\nA: b\r\n c\r\n\r\n", "bad_trailer"},
      {"trailer space before colon", "0\r\nA : b\r\n\r\n", "bad_trailer"},
      {"trailer NUL in value", "0\r\nA: \0\r\n\r\n"s, "bad_trailer"},
      {"trailer without colon", "0\r\nhello\r\n\r\n", "bad_trailer"},
      {"trailer bad name", "0\r\nA@: b\r\n\r\n", "bad_trailer"},
      {"trailers too large", big_trailers, "trailers_too_large"},
  };
  for (const BadRow& r : rows) {
    SUBCASE(r.name) {
      const Outcome whole = run_whole(r.input);
      CHECK_FALSE(whole.done);
      CHECK(whole.error == r.error);
      const Outcome bytewise = run_bytewise(r.input);
      CHECK_FALSE(bytewise.done);
      CHECK(bytewise.error == r.error);
    }
  }
}

TEST_CASE("chunked: garbage is refused at once, an unfinished line waits") {
  ChunkedDecoder dec;
  CHECK(dec.next("z").kind == ChunkedDecoder::Step::Error);
  ChunkedDecoder waiting;
  CHECK(waiting.next("").kind == ChunkedDecoder::Step::NeedMore);
  CHECK(waiting.next("5").kind == ChunkedDecoder::Step::NeedMore);
  CHECK(waiting.next("5;a=b").kind == ChunkedDecoder::Step::NeedMore);
  CHECK(waiting.next("5;a=b\r").kind == ChunkedDecoder::Step::NeedMore);
  const ChunkedDecoder::Step s = waiting.next("5;a=b\r\nhel");
  CHECK(s.kind == ChunkedDecoder::Step::Framing);
  CHECK(s.bytes == 7);
}

TEST_CASE("chunked: a truncated body is neither done nor an error") {
  const Outcome o = run_whole("5\r\nhel");
  CHECK_FALSE(o.done);
  CHECK(o.error.empty());
  CHECK(o.body == "hel");
  CHECK(o.body_bytes == 3);
}

TEST_CASE("chunked: data steps never exceed what is available or the chunk") {
  ChunkedDecoder dec;
  REQUIRE(dec.next("a\r\n").kind == ChunkedDecoder::Step::Framing);
  CHECK(dec.announced_bytes() == 10);
  ChunkedDecoder::Step s = dec.next("0123");
  CHECK(s.kind == ChunkedDecoder::Step::Data);
  CHECK(s.bytes == 4);
  CHECK(dec.body_bytes() == 4);
  s = dec.next("456789\r\n0\r\n\r\n");
  CHECK(s.kind == ChunkedDecoder::Step::Data);
  CHECK(s.bytes == 6);
  CHECK(dec.body_bytes() == 10);
  s = dec.next("\r\n0\r\n\r\n");
  CHECK(s.kind == ChunkedDecoder::Step::Framing);
  CHECK(s.bytes == 2);
  s = dec.next("0\r\n\r\n");
  CHECK(s.kind == ChunkedDecoder::Step::Done);
  CHECK(s.bytes == 5);
}

TEST_CASE("chunked: announced bytes let the caller refuse a huge chunk early") {
  ChunkedDecoder dec;
  REQUIRE(dec.next("ffffffffffffffff\r\n").kind == ChunkedDecoder::Step::Framing);
  CHECK(dec.announced_bytes() == UINT64_MAX);
  CHECK(dec.body_bytes() == 0);
  REQUIRE(dec.next("x").kind == ChunkedDecoder::Step::Data);
  CHECK(dec.announced_bytes() == UINT64_MAX);
  CHECK(dec.body_bytes() == 1);
}

TEST_CASE("chunked: random mutations never over-consume and split the same") {
  const std::string seed = "5;a=\"q\"\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: v\r\n\r\nNEXT";
  const char interesting[] = {'\r', '\n', ' ', ';', '=', '"', '0', 'f', '\0', ':', 'x'};
  std::mt19937 rng(99);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string input = seed;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % input.size();
      const char c = interesting[rng() % sizeof(interesting)];
      switch (rng() % 3) {
        case 0: input[at] = c; break;
        case 1: input.insert(input.begin() + static_cast<long>(at), c); break;
        default: input.erase(at, 1); break;
      }
    }
    const Outcome whole = run_whole(input);
    const Outcome bytewise = run_bytewise(input);
    REQUIRE_MESSAGE(whole.done == bytewise.done, input);
    CHECK(whole.error == bytewise.error);
    CHECK(whole.body == bytewise.body);
    CHECK(whole.rest == bytewise.rest);
    CHECK(whole.body.size() <= input.size());
  }
}

TEST_CASE("chunked: reset starts a new message") {
  ChunkedDecoder dec;
  REQUIRE(dec.next("x").kind == ChunkedDecoder::Step::Error);
  dec.reset();
  CHECK(dec.body_bytes() == 0);
  ChunkedDecoder::Step s = dec.next("0\r\n\r\n");
  CHECK(s.kind == ChunkedDecoder::Step::Done);
  CHECK(s.bytes == 5);
  dec.reset();
  CHECK_FALSE(dec.done());
  CHECK(dec.next("3\r\n").kind == ChunkedDecoder::Step::Framing);
}

}  // namespace
}  // namespace portcullis::http
