#include "http/request_head.h"

#include "http/chars.h"
#include "http/head_internal.h"

namespace portcullis::http {
namespace {

HeadStatus fail(RequestHead& out, HeadError e) {
  out.error = e;
  return HeadStatus::Error;
}

// method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
HeadError parse_request_line(std::string_view line, RequestHead& out) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return HeadError::BadRequestLine;
  const std::string_view method = line.substr(0, sp1);
  for (char c : method) {
    if (!chars::is_tchar(c)) return HeadError::BadMethod;
  }
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HeadError::BadRequestLine;
  if (sp2 == sp1 + 1) return HeadError::BadRequestLine;  // two spaces or empty target
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : target) {
    if (!chars::is_target(c)) return HeadError::BadTarget;
  }
  const std::string_view version = line.substr(sp2 + 1);
  if (version.find(' ') != std::string_view::npos) return HeadError::BadRequestLine;
  const HeadError ve = detail::parse_version(version, out.version_minor);
  if (ve != HeadError::None) return ve;
  out.method = method;
  out.target = target;
  return HeadError::None;
}

}  // namespace

HeadStatus parse_request_head(std::string_view buf, size_t max_head_bytes, RequestHead& out,
                              size_t& scan_from) {
  out.method = {};
  out.target = {};
  out.version_minor = 1;
  out.header_count = 0;
  out.head_bytes = 0;
  out.error = HeadError::None;

  // Skip a few empty lines left over from a previous message (RFC 9112 §2.2).
  size_t start = 0;
  size_t skipped = 0;
  while (start < buf.size() && (buf[start] == '\r' || buf[start] == '\n')) {
    if (buf[start] == '\n') return fail(out, HeadError::BadLineEnding);
    if (start + 1 == buf.size()) break;  // a lone CR so far: wait for its LF
    if (buf[start + 1] != '\n') return fail(out, HeadError::BadLineEnding);
    if (++skipped > kMaxLeadingEmptyLines) return fail(out, HeadError::BadRequestLine);
    start += 2;
  }
  if (start > max_head_bytes) return fail(out, HeadError::HeadTooLarge);

  size_t end = 0;
  switch (detail::find_head_end(buf, start, max_head_bytes, scan_from, end)) {
    case detail::EndScan::BadLineEnding:
      return fail(out, HeadError::BadLineEnding);
    case detail::EndScan::NotYet:
      if (buf.size() > max_head_bytes) return fail(out, HeadError::HeadTooLarge);
      return HeadStatus::Incomplete;
    case detail::EndScan::Found:
      break;
  }

  const std::string_view head = buf.substr(start, end - start);  // ends in CRLFCRLF
  const size_t line_end = head.find('\r');
  const HeadError le = parse_request_line(head.substr(0, line_end), out);
  if (le != HeadError::None) return fail(out, le);

  const std::string_view block = head.substr(line_end + 2, head.size() - line_end - 4);
  const HeadError he =
      detail::parse_field_block(block, out.headers.data(), out.headers.size(), out.header_count);
  if (he != HeadError::None) return fail(out, he);

  out.head_bytes = end;
  return HeadStatus::Complete;
}

}  // namespace portcullis::http
