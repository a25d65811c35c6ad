// Strict, in-place, resumable HTTP/1.1 request-head parser (RFC 9112 §2-§5), in the manner
// of picohttpparser and HAProxy's h1.c: the result is a set of views into the caller's
// buffer, bounded in count; "not all here yet" is a return code.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "http/head.h"

namespace portcullis::http {

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
inline constexpr size_t kMaxLeadingEmptyLines = 4;

struct RequestHead {
  std::string_view method;
  std::string_view target;
  int version_minor = 1;  // HTTP/1.0 -> 0; HTTP/1.x with x >= 1 -> 1 (RFC 9110 §2.5)
  std::array<Header, kMaxHeaders> headers;
  size_t header_count = 0;
  size_t head_bytes = 0;  // the whole head incl. skipped leading CRLFs and the final CRLFCRLF
  HeadError error = HeadError::None;
};

// buf: the bytes received so far, contiguous, starting at the first byte of this request.
// Complete: `out` describes the head in buf[0, out.head_bytes); what follows is body or the
// next pipelined request. Incomplete: the end has not arrived and buf.size() <= max_head_bytes;
// call again with more bytes (same start). Error: out.error says why (HeadTooLarge if no end
// within max_head_bytes). scan_from: resumable hint, 0 for a new request; the parser advances
// it past bytes known not to hold the end of the head.
HeadStatus parse_request_head(std::string_view buf, size_t max_head_bytes, RequestHead& out,
                              size_t& scan_from);

}  // namespace portcullis::http
