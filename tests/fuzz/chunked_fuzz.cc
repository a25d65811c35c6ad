// Fuzz target: the chunked transfer-coding decoder (http/chunked.h), driven the way a
// connection drives it: unconsumed bytes stay at the front, framing is drained, data moved
// on. Differentials:
//  - the input read at once and the input arriving one byte at a time decode to the same
//    body, the same end (done, error and its reason, or waiting for more) and the same rest;
//  - a decoded body, re-chunked as the gateway sends it upstream, decodes to itself.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/chunked.h"

using portcullis::http::ChunkedDecoder;

namespace {

struct Outcome {
  bool done = false;
  std::string_view error;  // non-empty: the decoder refused the input
  std::string body;
  std::string rest;  // bytes after the message (done) or not yet decodable (neither)
};

// Feeds `input` `piece` bytes at a time (0: all at once).
Outcome decode(std::string_view input, size_t piece) {
  ChunkedDecoder dec;
  Outcome o;
  std::string pending;
  size_t fed = piece == 0 ? input.size() : 0;
  if (piece == 0) pending.assign(input);
  for (;;) {
    const ChunkedDecoder::Step s = dec.next(pending);
    FUZZ_CHECK(dec.announced_bytes() >= dec.body_bytes());
    switch (s.kind) {
      case ChunkedDecoder::Step::NeedMore:
        FUZZ_CHECK(s.bytes == 0);
        if (fed == input.size()) {
          o.rest = pending;
          FUZZ_CHECK(dec.body_bytes() == o.body.size());
          return o;
        }
        pending.append(input.substr(fed, piece));
        fed += std::min(piece, input.size() - fed);
        break;
      case ChunkedDecoder::Step::Framing:
        FUZZ_CHECK(s.bytes > 0 && s.bytes <= pending.size());
        pending.erase(0, s.bytes);
        break;
      case ChunkedDecoder::Step::Data:
        FUZZ_CHECK(s.bytes > 0 && s.bytes <= pending.size());
        o.body.append(pending, 0, s.bytes);
        pending.erase(0, s.bytes);
        FUZZ_CHECK(dec.body_bytes() == o.body.size());
        break;
      case ChunkedDecoder::Step::Done: {
        FUZZ_CHECK(s.bytes <= pending.size());
        pending.erase(0, s.bytes);
        FUZZ_CHECK(dec.done());
        const ChunkedDecoder::Step again = dec.next(pending);
        FUZZ_CHECK(again.kind == ChunkedDecoder::Step::Done && again.bytes == 0);
        o.done = true;
        o.rest = pending;
        o.rest.append(input.substr(fed));
        FUZZ_CHECK(dec.body_bytes() == o.body.size());
        return o;
      }
      case ChunkedDecoder::Step::Error: {
        FUZZ_CHECK(!s.error.empty());
        const ChunkedDecoder::Step again = dec.next(pending);
        FUZZ_CHECK(again.kind == ChunkedDecoder::Step::Error);
        o.error = s.error;
        return o;
      }
    }
  }
}

// The body as net/ re-chunks it for the upstream (hex size, CRLF, data, CRLF; last-chunk).
std::string rechunk(std::string_view body, size_t chunk) {
  std::string out;
  for (size_t at = 0; at < body.size(); at += chunk) {
    const std::string_view part = body.substr(at, chunk);
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", part.size());
    out.append(size_line).append(part).append("\r\n");
  }
  out.append("0\r\n\r\n");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Outcome whole = decode(input, 0);
  const Outcome bytewise = decode(input, 1);
  FUZZ_CHECK(whole.done == bytewise.done);
  FUZZ_CHECK(whole.error == bytewise.error);
  if (whole.error.empty()) {
    FUZZ_CHECK(whole.body == bytewise.body);
    FUZZ_CHECK(whole.rest == bytewise.rest);
  }
  if (whole.done) {
    const Outcome re = decode(rechunk(whole.body, 1 + size % 97), 0);
    FUZZ_CHECK(re.done && re.error.empty() && re.body == whole.body && re.rest.empty());
  }
  return 0;
}
