#include "http/head.h"

#include "http/chars.h"
#include "http/head_internal.h"

namespace portcullis::http {

int http_status_for(HeadError e) {
  switch (e) {
    case HeadError::None: return 200;
    case HeadError::VersionNotSupported: return 505;
    case HeadError::HeadTooLarge:
    case HeadError::TooManyHeaders: return 431;
    default: return 400;
  }
}

std::string_view to_string(HeadError e) {
  switch (e) {
    case HeadError::None: return "none";
    case HeadError::BadRequestLine: return "bad_request_line";
    case HeadError::BadMethod: return "bad_method";
    case HeadError::BadTarget: return "bad_target";
    case HeadError::BadVersion: return "bad_version";
    case HeadError::VersionNotSupported: return "version_not_supported";
    case HeadError::HeadTooLarge: return "head_too_large";
    case HeadError::TooManyHeaders: return "too_many_headers";
    case HeadError::BadHeaderName: return "bad_header_name";
    case HeadError::BadHeaderValue: return "bad_header_value";
    case HeadError::ObsFold: return "obs_fold";
    case HeadError::WhitespaceBeforeColon: return "whitespace_before_colon";
    case HeadError::BadLineEnding: return "bad_line_ending";
    case HeadError::BadStatusLine: return "bad_status_line";
  }
  return "unknown";
}

namespace detail {

EndScan find_head_end(std::string_view buf, size_t start, size_t limit, size_t& scan_from,
                      size_t& end) {
  if (limit > buf.size()) limit = buf.size();
  size_t pos = scan_from > start ? scan_from : start;
  if (pos > limit) pos = limit;
  const char* p = buf.data();
  for (; pos < limit; ++pos) {
    // Most of a head is neither CR nor LF: go eight bytes at a time to the next control byte
    // (any CTL, so an HTAB stops here too and is simply stepped over below).
    if (pos + 8 <= limit) {
      const uint64_t ctl = chars::controls(bytes8::load(p + pos));
      if (ctl == 0) {
        pos += 7;
        continue;
      }
      pos += static_cast<size_t>(bytes8::first_marked(ctl));
    }
    const char c = p[pos];
    if (c == '\n') {
      if (pos == start || p[pos - 1] != '\r') return EndScan::BadLineEnding;
      // An LF two bytes back means this CRLF closes an empty line.
      if (pos >= start + 2 && p[pos - 2] == '\n') {
        end = pos + 1;
        return EndScan::Found;
      }
      // The very first line empty: only the trailer parser gets here (no field lines).
      if (pos == start + 1) {
        end = pos + 1;
        return EndScan::Found;
      }
    } else if (c == '\r') {
      if (pos + 1 < buf.size() && p[pos + 1] != '\n') return EndScan::BadLineEnding;
    }
  }
  // Resume on a trailing CR so that its LF is checked next time.
  scan_from = (pos > start && p[pos - 1] == '\r') ? pos - 1 : pos;
  return EndScan::NotYet;
}

HeadError parse_field_line(std::string_view line, Header& out) {
  if (line.empty()) return HeadError::BadHeaderName;
  if (chars::is_ows(line[0])) return HeadError::ObsFold;
  size_t i = 0;
  while (i < line.size() && chars::is_tchar(line[i])) ++i;
  if (i == line.size()) return HeadError::BadHeaderName;  // no colon
  if (chars::is_ows(line[i])) return i == 0 ? HeadError::ObsFold : HeadError::WhitespaceBeforeColon;
  if (line[i] != ':' || i == 0) return HeadError::BadHeaderName;
  out.name = line.substr(0, i);
  std::string_view value = line.substr(i + 1);
  if (!chars::all_field_value(value)) return HeadError::BadHeaderValue;
  while (!value.empty() && chars::is_ows(value.front())) value.remove_prefix(1);
  while (!value.empty() && chars::is_ows(value.back())) value.remove_suffix(1);
  out.value = value;
  return HeadError::None;
}

HeadError parse_field_block(std::string_view block, Header* headers, size_t cap, size_t& count) {
  count = 0;
  while (!block.empty()) {
    // Line endings were validated by find_head_end: every CR is followed by LF.
    const size_t cr = block.find('\r');
    if (cr == std::string_view::npos) return HeadError::BadLineEnding;  // not reached
    if (count == cap) return HeadError::TooManyHeaders;
    const HeadError e = parse_field_line(block.substr(0, cr), headers[count]);
    if (e != HeadError::None) return e;
    ++count;
    block.remove_prefix(cr + 2);
  }
  return HeadError::None;
}

HeadError parse_version(std::string_view v, int& minor) {
  if (v.size() < 6 || v.substr(0, 5) != "HTTP/" || !chars::is_digit(v[5])) {
    return HeadError::BadVersion;
  }
  const char major = v[5];
  if (v.size() == 6) {
    // "HTTP/2", "HTTP/3": a real protocol, just not ours.
    return major == '1' ? HeadError::BadVersion : HeadError::VersionNotSupported;
  }
  if (v.size() != 8 || v[6] != '.' || !chars::is_digit(v[7])) return HeadError::BadVersion;
  if (major != '1') return HeadError::VersionNotSupported;
  // RFC 9110 §2.5: a higher minor version is handled as the highest we support.
  minor = v[7] == '0' ? 0 : 1;
  return HeadError::None;
}

}  // namespace detail
}  // namespace portcullis::http
