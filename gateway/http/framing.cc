#include "http/framing.h"

#include "http/chars.h"
#include "http/headers.h"

namespace portcullis::http {
namespace {

constexpr size_t kMaxContentLengthDigits = 18;  // < 2^63, so no overflow

Verdict refuse(int status, std::string_view reason) { return Verdict{status, reason}; }

bool parse_digits(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > kMaxContentLengthDigits) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!chars::is_digit(c)) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

// transfer-coding list: token *( OWS "," OWS token ). Parameters and empty elements are
// refused: nothing legitimate sends them on a request, and lenient parsers disagree on them.
bool parse_transfer_encoding(std::string_view value, size_t& count, bool& only_chunked) {
  count = 0;
  only_chunked = false;
  bool chunked_seen = false;
  for (;;) {
    const size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (element.empty()) return false;
    for (char c : element) {
      if (!chars::is_tchar(c)) return false;
    }
    ++count;
    if (iequals(element, "chunked")) chunked_seen = true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  only_chunked = count == 1 && chunked_seen;
  return true;
}

struct ConnectionTokens {
  bool close = false;
  bool keep_alive = false;
};

void scan_connection(std::string_view value, ConnectionTokens& tokens) {
  for_each_list_element(value, [&](std::string_view element) {
    if (iequals(element, "close")) tokens.close = true;
    if (iequals(element, "keep-alive")) tokens.keep_alive = true;
  });
}

bool keep_alive_for(int version_minor, const ConnectionTokens& tokens) {
  if (tokens.close) return false;
  return version_minor >= 1 || tokens.keep_alive;
}

bool is_reg_name(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!chars::is_unreserved(c)) return false;
  }
  return true;
}

bool is_ip_literal(std::string_view host) {
  // "[" IPv6address "]": hex digits, colons, and dots for an embedded IPv4 tail.
  if (host.size() < 4 || host.front() != '[' || host.back() != ']') return false;
  const std::string_view inner = host.substr(1, host.size() - 2);
  if (inner.size() > 45 || inner.find(':') == std::string_view::npos) return false;
  for (char c : inner) {
    if (!chars::is_hex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

bool is_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  uint64_t v = 0;
  return parse_digits(port, v) && v <= 65535;
}

// Splits an absolute-form target into authority, path and query. False if it is not
// http(s)://authority[/path][?query].
bool split_absolute_form(std::string_view target, std::string_view& authority, RequestInfo& out) {
  std::string_view rest;
  if (istarts_with(target, "http://")) {
    rest = target.substr(7);
  } else if (istarts_with(target, "https://")) {
    rest = target.substr(8);
  } else {
    return false;
  }
  const size_t auth_end = rest.find_first_of("/?#");
  authority = rest.substr(0, auth_end);
  if (!is_valid_authority(authority)) return false;
  rest = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (!rest.empty() && rest.front() == '#') return false;
  const size_t q = rest.find('?');
  out.path = rest.substr(0, q);
  if (out.path.empty()) out.path = "/";
  if (q != std::string_view::npos) {
    out.has_query = true;
    out.query = rest.substr(q + 1);
  }
  out.absolute_form = true;
  return true;
}

enum class ClParse { Ok, Malformed, Conflict };

ClParse parse_cl(std::string_view value, uint64_t& out) {
  bool first = true;
  bool conflict = false;
  uint64_t result = 0;
  for (;;) {
    const size_t comma = value.find(',');
    uint64_t v = 0;
    if (!parse_digits(trim_ows(value.substr(0, comma)), v)) return ClParse::Malformed;
    if (!first && v != result) conflict = true;
    result = v;
    first = false;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  if (conflict) return ClParse::Conflict;
  out = result;
  return ClParse::Ok;
}

}  // namespace

bool parse_content_length(std::string_view value, uint64_t& out) {
  return parse_cl(value, out) == ClParse::Ok;
}

bool is_valid_authority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
    if (!is_ip_literal(host)) return false;
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (!is_reg_name(host)) return false;
  }
  return !has_port || is_port(port);
}

Verdict analyze_request(const RequestHead& head, RequestInfo& out) {
  out = RequestInfo{};
  const Header* host = nullptr;
  const Header* te = nullptr;
  bool has_cl = false;
  uint64_t cl = 0;
  ConnectionTokens conn;
  bool expect_continue = false;
  bool expect_other = false;

  for (size_t i = 0; i < head.header_count; ++i) {
    const Header& h = head.headers[i];
    if (iequals(h.name, "content-length")) {
      uint64_t v = 0;
      switch (parse_cl(h.value, v)) {
        case ClParse::Malformed: return refuse(400, "bad_content_length");
        case ClParse::Conflict: return refuse(400, "conflicting_content_length");
        case ClParse::Ok: break;
      }
      if (has_cl && v != cl) return refuse(400, "conflicting_content_length");
      has_cl = true;
      cl = v;
    } else if (iequals(h.name, "transfer-encoding")) {
      if (te != nullptr) return refuse(400, "duplicate_transfer_encoding");
      te = &h;
    } else if (iequals(h.name, "host")) {
      if (host != nullptr) return refuse(400, "duplicate_host");
      host = &h;
    } else if (iequals(h.name, "authorization")) {
      if (out.authorization != nullptr) return refuse(400, "duplicate_authorization");
      out.authorization = &h;
    } else if (iequals(h.name, "connection")) {
      scan_connection(h.value, conn);
    } else if (iequals(h.name, "expect")) {
      if (iequals(h.value, "100-continue")) {
        expect_continue = true;
      } else {
        expect_other = true;
      }
    } else if (iequals(h.name, "upgrade")) {
      if (out.upgrade.empty()) out.upgrade = h.value;
    }
  }

  // Body framing first: nothing below may answer while the body's extent is in doubt.
  if (te != nullptr) {
    if (has_cl) return refuse(400, "content_length_with_transfer_encoding");
    if (head.version_minor == 0) return refuse(400, "transfer_encoding_http10");
    size_t count = 0;
    bool only_chunked = false;
    if (!parse_transfer_encoding(te->value, count, only_chunked)) {
      return refuse(400, "bad_transfer_encoding");
    }
    if (!only_chunked) return refuse(501, "unsupported_transfer_encoding");
    out.body = BodyKind::Chunked;
  } else if (has_cl && cl > 0) {
    out.body = BodyKind::ContentLength;
    out.content_length = cl;
  }
  out.keep_alive = keep_alive_for(head.version_minor, conn);

  if (head.method == "CONNECT") return refuse(405, "connect_not_allowed");
  if (head.method == "TRACE") return refuse(405, "trace_not_allowed");

  if (host != nullptr) {
    if (!is_valid_authority(host->value)) return refuse(400, "bad_host");
    out.host = host->value;
  } else if (head.version_minor >= 1) {
    return refuse(400, "missing_host");
  }

  const std::string_view target = head.target;
  if (!target.empty() && target.front() == '/') {
    const size_t q = target.find('?');
    out.path = target.substr(0, q);
    if (q != std::string_view::npos) {
      out.has_query = true;
      out.query = target.substr(q + 1);
    }
  } else if (target == "*") {
    if (head.method != "OPTIONS") return refuse(400, "bad_asterisk_form");
    out.path = target;
  } else {
    std::string_view authority;
    if (!split_absolute_form(target, authority, out)) return refuse(400, "bad_target");
    if (host == nullptr) {
      out.host = authority;  // HTTP/1.0 without Host: the target names the authority
    } else if (!iequals(authority, host->value)) {
      return refuse(400, "host_mismatch");
    }
  }

  if (expect_other) return refuse(417, "unsupported_expect");
  // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
  out.expect_continue = expect_continue && head.version_minor >= 1;
  return Verdict{};
}

bool analyze_response(const ResponseHead& head, std::string_view request_method,
                      ResponseInfo& out) {
  out = ResponseInfo{};
  const Header* te = nullptr;
  bool has_cl = false;
  uint64_t cl = 0;
  ConnectionTokens conn;

  for (size_t i = 0; i < head.header_count; ++i) {
    const Header& h = head.headers[i];
    if (iequals(h.name, "content-length")) {
      uint64_t v = 0;
      if (!parse_content_length(h.value, v)) return false;
      if (has_cl && v != cl) return false;
      has_cl = true;
      cl = v;
    } else if (iequals(h.name, "transfer-encoding")) {
      if (te != nullptr) return false;
      te = &h;
    } else if (iequals(h.name, "connection")) {
      scan_connection(h.value, conn);
    }
  }

  const bool informational_or_no_content = head.status < 200 || head.status == 204;
  if (te != nullptr) {
    // We re-frame bodies ourselves, so only plain chunked is understood.
    if (has_cl || head.version_minor == 0 || informational_or_no_content) return false;
    size_t count = 0;
    bool only_chunked = false;
    if (!parse_transfer_encoding(te->value, count, only_chunked) || !only_chunked) return false;
  }
  out.keep_alive = keep_alive_for(head.version_minor, conn);

  if (informational_or_no_content || head.status == 304 || request_method == "HEAD") {
    out.body = ResponseBodyKind::None;
  } else if (te != nullptr) {
    out.body = ResponseBodyKind::Chunked;
  } else if (has_cl) {
    out.body = cl > 0 ? ResponseBodyKind::ContentLength : ResponseBodyKind::None;
    out.content_length = cl;
  } else {
    out.body = ResponseBodyKind::UntilClose;
    out.keep_alive = false;
  }
  return true;
}

}  // namespace portcullis::http
