// Strict, in-place, resumable HTTP/1.1 response-head parser for upstream responses. Same
// rules as the request parser; a malformed response is a 502 and the connection is closed.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "http/head.h"

namespace portcullis::http {

struct ResponseHead {
  int version_minor = 1;
  int status = 0;
  std::string_view reason;
  std::array<Header, kMaxHeaders> headers;
  size_t header_count = 0;
  size_t head_bytes = 0;
  HeadError error = HeadError::None;
};

// Same contract as parse_request_head. The status line is `HTTP/1.d SP 3DIGIT SP reason`
// (status 100..599; the reason may be empty, and the SP before an empty reason may be
// missing, as many servers send it). No leading empty lines are skipped.
HeadStatus parse_response_head(std::string_view buf, size_t max_head_bytes, ResponseHead& out,
                               size_t& scan_from);

}  // namespace portcullis::http
