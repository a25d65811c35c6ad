#include "http/forward.h"

#include <charconv>

#include "http/headers.h"

namespace portcullis::http {
namespace {

template <class Head>
bool named_by_connection(const Head& head, std::string_view name) {
  for (size_t i = 0; i < head.header_count; ++i) {
    if (iequals(head.headers[i].name, "connection") && list_contains_token(head.headers[i].value, name)) return true;
  }
  return false;
}

template <class Head>
bool has_connection_header(const Head& head) {
  for (size_t i = 0; i < head.header_count; ++i) {
    if (iequals(head.headers[i].name, "connection")) return true;
  }
  return false;
}

// Headers a client must never set for the upstream: we set them, or they steer routing in
// other proxies (SECURITY.md "Client headers never steer routing").
bool is_gateway_owned_request_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "expect") ||
         iequals(name, "x-forwarded-for") || iequals(name, "x-forwarded-proto") ||
         iequals(name, "x-forwarded-host") || iequals(name, "x-request-id") || iequals(name, "x-forwarded-uri") ||
         iequals(name, "x-original-url") || iequals(name, "x-rewrite-url");
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

}  // namespace

void build_upstream_request(const RequestHead& head, const ForwardRequest& req, std::string& out) {
  out.append(head.method);
  out += ' ';
  out.append(req.path);
  if (req.has_query) {
    out += '?';
    out.append(req.query);
  }
  out.append(" HTTP/1.1\r\n");

  const bool connection_present = has_connection_header(head);
  bool host_written = false;
  // X-Forwarded-For: the client's chain (all copies, in order), then the peer address.
  std::string_view first_xff;
  size_t xff_count = 0;
  for (size_t i = 0; i < head.header_count; ++i) {
    const Header& h = head.headers[i];
    if (iequals(h.name, "x-forwarded-for")) {
      if (xff_count++ == 0) first_xff = h.value;
      continue;
    }
    if (iequals(h.name, "host")) {
      // Host is never removed (not even when Connection names it): the upstream needs it.
      if (!host_written) append_header(out, "Host", req.host);
      host_written = true;
      continue;
    }
    if (is_hop_by_hop(h.name) || is_gateway_owned_request_header(h.name)) continue;
    if (req.strip_authorization && iequals(h.name, "authorization")) continue;
    if (req.strip_loose != nullptr) {
      bool spoofed = false;
      for (const std::string& name : *req.strip_loose) {
        if (same_header_name_loose(h.name, name)) {
          spoofed = true;
          break;
        }
      }
      if (spoofed) continue;
    }
    if (connection_present && named_by_connection(head, h.name)) continue;
    append_header(out, h.name, h.value);
  }
  if (!host_written && !req.host.empty()) append_header(out, "Host", req.host);

  out.append("X-Forwarded-For: ");
  if (xff_count > 0) {
    out.append(first_xff);
    if (xff_count > 1) {
      size_t seen = 0;
      for (size_t i = 0; i < head.header_count; ++i) {
        if (!iequals(head.headers[i].name, "x-forwarded-for")) continue;
        if (seen++ == 0) continue;
        out.append(", ");
        out.append(head.headers[i].value);
      }
    }
    out.append(", ");
  }
  out.append(req.client_ip);
  out.append("\r\n");
  append_header(out, "X-Forwarded-Proto", req.proto);
  if (!req.host.empty()) append_header(out, "X-Forwarded-Host", req.host);
  append_header(out, "X-Request-Id", req.request_id);
  for (const HeaderField& f : req.inject) append_header(out, f.name, f.value);
  switch (req.body) {
    case BodyKind::ContentLength:
      out.append("Content-Length: ");
      append_uint(out, req.content_length);
      out.append("\r\n");
      break;
    case BodyKind::Chunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case BodyKind::None:
      // A body-less POST/PUT/PATCH still tells the upstream its length (RFC 9110 §8.6).
      if (head.method == "POST" || head.method == "PUT" || head.method == "PATCH") out.append("Content-Length: 0\r\n");
      break;
  }
  out.append("\r\n");
}

void build_client_response(const ResponseHead& head, const RelayResponse& relay, std::string& out) {
  out.append("HTTP/1.1 ");
  append_uint(out, static_cast<uint64_t>(head.status));
  out += ' ';
  out.append(head.reason.empty() ? reason_phrase(head.status) : head.reason);
  out.append("\r\n");
  const bool connection_present = has_connection_header(head);
  for (size_t i = 0; i < head.header_count; ++i) {
    const Header& h = head.headers[i];
    if (is_hop_by_hop(h.name) || iequals(h.name, "x-request-id")) continue;
    // Framing is ours, except that a body-less answer (HEAD, 304) keeps the upstream's
    // Content-Length, which describes the representation, not this message.
    if (iequals(h.name, "content-length") && (relay.framing != ClientFraming::None || head.status == 204)) continue;
    if (connection_present && named_by_connection(head, h.name)) continue;
    append_header(out, h.name, h.value);
  }
  append_header(out, "X-Request-Id", relay.request_id);
  switch (relay.framing) {
    case ClientFraming::ContentLength:
      out.append("Content-Length: ");
      append_uint(out, relay.content_length);
      out.append("\r\n");
      break;
    case ClientFraming::Chunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case ClientFraming::None:
      break;
    case ClientFraming::UntilClose:
      break;
  }
  if (relay.close) {
    out.append("Connection: close\r\n");
  } else if (relay.keep_alive_1_0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace portcullis::http
