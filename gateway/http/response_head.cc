#include "http/response_head.h"

#include "http/chars.h"
#include "http/head_internal.h"

namespace portcullis::http {
namespace {

HeadStatus fail(ResponseHead& out, HeadError e) {
  out.error = e;
  return HeadStatus::Error;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4).
HeadError parse_status_line(std::string_view line, ResponseHead& out) {
  if (line.size() < 12 || line[8] != ' ') return HeadError::BadStatusLine;
  const HeadError ve = detail::parse_version(line.substr(0, 8), out.version_minor);
  if (ve == HeadError::VersionNotSupported) return ve;
  if (ve != HeadError::None) return HeadError::BadStatusLine;
  const char d0 = line[9], d1 = line[10], d2 = line[11];
  if (!chars::is_digit(d0) || !chars::is_digit(d1) || !chars::is_digit(d2)) {
    return HeadError::BadStatusLine;
  }
  const int status = (d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0');
  if (status < 100 || status > 599) return HeadError::BadStatusLine;
  std::string_view reason;
  if (line.size() > 12) {
    if (line[12] != ' ') return HeadError::BadStatusLine;
    reason = line.substr(13);
    for (char c : reason) {
      if (!chars::is_field_value(c)) return HeadError::BadStatusLine;
    }
  }
  out.status = status;
  out.reason = reason;
  return HeadError::None;
}

}  // namespace

HeadStatus parse_response_head(std::string_view buf, size_t max_head_bytes, ResponseHead& out,
                               size_t& scan_from) {
  out.version_minor = 1;
  out.status = 0;
  out.reason = {};
  out.header_count = 0;
  out.head_bytes = 0;
  out.error = HeadError::None;

  size_t end = 0;
  switch (detail::find_head_end(buf, 0, max_head_bytes, scan_from, end)) {
    case detail::EndScan::BadLineEnding:
      return fail(out, HeadError::BadLineEnding);
    case detail::EndScan::NotYet:
      if (buf.size() > max_head_bytes) return fail(out, HeadError::HeadTooLarge);
      return HeadStatus::Incomplete;
    case detail::EndScan::Found:
      break;
  }

  const std::string_view head = buf.substr(0, end);
  const size_t line_end = head.find('\r');
  if (line_end + 2 == head.size()) return fail(out, HeadError::BadStatusLine);  // empty line
  const HeadError le = parse_status_line(head.substr(0, line_end), out);
  if (le != HeadError::None) return fail(out, le);

  const std::string_view block = head.substr(line_end + 2, head.size() - line_end - 4);
  const HeadError he =
      detail::parse_field_block(block, out.headers.data(), out.headers.size(), out.header_count);
  if (he != HeadError::None) return fail(out, he);

  out.head_bytes = end;
  return HeadStatus::Complete;
}

}  // namespace portcullis::http
