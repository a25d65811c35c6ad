// Builds the heads Portcullis sends: the request head forwarded upstream (hop-by-hop and
// spoofable headers stripped first, ours added last, framing regenerated) and the response
// head relayed to the client. Pure: the connection code hands in views and a reused buffer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/framing.h"
#include "http/request_head.h"
#include "http/response_head.h"

namespace portcullis::http {

struct HeaderField {
  std::string name;
  std::string value;
};

struct ForwardRequest {
  std::string_view path;        // normalized
  std::string_view query;
  bool has_query = false;
  std::string_view host;        // Host to send (the client's; the upstream authority if the client sent none)
  std::string_view client_ip;
  std::string_view proto;       // "http" or "https": what the client used
  std::string_view request_id;
  const std::vector<std::string>* strip_loose = nullptr;  // identity header names (case-insensitive, '_' == '-')
  bool strip_authorization = false;
  std::span<const HeaderField> inject;  // identity headers, added last
  BodyKind body = BodyKind::None;
  uint64_t content_length = 0;
};

// Appends the upstream request head (request line through the blank line) to `out`.
void build_upstream_request(const RequestHead& head, const ForwardRequest& req, std::string& out);

enum class ClientFraming { None, ContentLength, Chunked, UntilClose };

struct RelayResponse {
  ClientFraming framing = ClientFraming::None;
  uint64_t content_length = 0;  // with ContentLength
  std::string_view request_id;
  bool close = false;  // add "Connection: close"
  bool keep_alive_1_0 = false;  // HTTP/1.0 client asked for keep-alive and gets it
};

// Appends the client response head to `out`: the upstream's status and headers minus
// hop-by-hop, Connection-named, framing and X-Request-Id headers, plus ours.
void build_client_response(const ResponseHead& head, const RelayResponse& relay, std::string& out);

// Standard reason phrase ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

}  // namespace portcullis::http
