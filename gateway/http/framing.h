// What a parsed head means: body framing, keep-alive, the target's parts, and the checks
// that stop request smuggling (RFC 9112 §6, §9; SECURITY.md "HTTP framing").
#pragma once

#include <cstdint>
#include <string_view>

#include "http/request_head.h"
#include "http/response_head.h"

namespace portcullis::http {

enum class BodyKind { None, ContentLength, Chunked };

struct RequestInfo {
  BodyKind body = BodyKind::None;  // "Content-Length: 0" is reported as None
  uint64_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;    // "Expect: 100-continue" on an HTTP/1.1 request
  std::string_view host;           // Host value as received; for an HTTP/1.0 absolute-form
                                   // request without Host, the target's authority
  std::string_view path;           // raw path: origin-form up to '?'; absolute-form: after the
                                   // authority ("/" if empty); "*" for OPTIONS *; empty for CONNECT
  std::string_view query;          // after '?', without it; empty if none
  bool has_query = false;
  bool absolute_form = false;
  const Header* authorization = nullptr;  // the single Authorization header, if any
  std::string_view upgrade;        // Upgrade value if present (the proxy strips it)
};

// status 0: acceptable. Otherwise 400 / 405 / 417 / 501 / 505 and a short snake_case reason.
// Framing is checked before the method, so a 405 or 417 is never given for a request whose
// body framing is in doubt; still, callers should close the connection after any refusal.
struct Verdict {
  int status = 0;
  std::string_view reason;
  bool ok() const { return status == 0; }
};

Verdict analyze_request(const RequestHead& head, RequestInfo& out);

enum class ResponseBodyKind { None, ContentLength, Chunked, UntilClose };

struct ResponseInfo {
  ResponseBodyKind body = ResponseBodyKind::None;  // "Content-Length: 0" is reported as None
  uint64_t content_length = 0;
  bool keep_alive = true;
};

// request_method: the method the response answers (HEAD -> no body). Returns false if the
// response's framing is malformed or ambiguous (-> 502, close the upstream connection).
bool analyze_response(const ResponseHead& head, std::string_view request_method, ResponseInfo& out);

// Content-Length value: 1..18 digits, or a comma list of such that all agree (RFC 9110 §8.6).
// Returns false on anything else. Exposed for tests and for reuse.
bool parse_content_length(std::string_view value, uint64_t& out);

// Host / absolute-form authority: reg-name (ALPHA DIGIT - . _ ~), IPv4, or [IPv6], with an
// optional :port of 1..5 digits <= 65535. No userinfo, no percent-encoding.
bool is_valid_authority(std::string_view authority);

}  // namespace portcullis::http
