// Vocabulary shared by the request and response head parsers: the header view, the error
// enum and its HTTP status. Parsed heads hold string_views into the caller's buffer.
#pragma once

#include <cstddef>
#include <string_view>

namespace portcullis::http {

inline constexpr size_t kMaxHeaders = 100;

// A header as received. `value` has its leading and trailing OWS trimmed; both views point
// into the buffer that was parsed, so they live as long as it does.
struct Header {
  std::string_view name;
  std::string_view value;
};

enum class HeadStatus { Complete, Incomplete, Error };

enum class HeadError {
  None,
  BadRequestLine,       // wrong shape: missing parts, extra spaces, too many leading CRLFs
  BadMethod,            // method is not a token
  BadTarget,            // empty target or a byte outside 0x21..0x7E
  BadVersion,           // not "HTTP/" DIGIT "." DIGIT
  VersionNotSupported,  // HTTP/0.9, HTTP/2.0, HTTP/3 ... (505)
  HeadTooLarge,         // no end of head within max_head_bytes (431)
  TooManyHeaders,       // more than kMaxHeaders (431)
  BadHeaderName,        // empty name, non-token byte, or no colon
  BadHeaderValue,       // a control byte other than HTAB (NUL, DEL, ...)
  ObsFold,              // a line starting with SP or HTAB (RFC 9112 §5.2)
  WhitespaceBeforeColon,
  BadLineEnding,        // bare LF or bare CR
  BadStatusLine,        // response: not "HTTP/1.d SSS reason"
};

// 400, except VersionNotSupported -> 505 and HeadTooLarge / TooManyHeaders -> 431.
int http_status_for(HeadError e);

// snake_case name for logs and metrics, e.g. "obs_fold".
std::string_view to_string(HeadError e);

}  // namespace portcullis::http
