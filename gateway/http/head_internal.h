// Pieces shared by the request head, response head and chunked-trailer parsers. Internal to
// the http module.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/head.h"

namespace portcullis::http::detail {

enum class EndScan { Found, NotYet, BadLineEnding };

// Looks for the empty line that ends a head (or a trailer section) in buf[start, limit).
// `start` is where the first line begins; `scan_from` (in/out) is where a previous call
// stopped. Every LF must follow a CR and every CR must precede a LF, checked as bytes are
// scanned so a bare LF fails at once instead of waiting for the size limit. On Found, `end`
// is one past the final LF.
EndScan find_head_end(std::string_view buf, size_t start, size_t limit, size_t& scan_from,
                      size_t& end);

// Parses one field line (without its CRLF): token name, colon without whitespace before it,
// value of HTAB / SP / VCHAR / obs-text with OWS trimmed.
HeadError parse_field_line(std::string_view line, Header& out);

// Parses the field lines of block (each ending in CRLF; the final empty line excluded) into
// headers[0..cap). Returns TooManyHeaders if there are more than cap.
HeadError parse_field_block(std::string_view block, Header* headers, size_t cap, size_t& count);

// "HTTP/1.0" -> 0, "HTTP/1.1".."HTTP/1.9" -> 1. Other well-formed versions (HTTP/0.9,
// HTTP/2.0, HTTP/3) -> VersionNotSupported, anything else -> BadVersion.
HeadError parse_version(std::string_view v, int& minor);

}  // namespace portcullis::http::detail
