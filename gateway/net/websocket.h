// The WebSocket opening handshake as a proxy sees it (RFC 6455 §4): which client requests are
// upgrades we pass on, which upstream 101 answers complete them, and the heads we write for
// both. Pure; the tunnel itself is the connection's job (net/downstream).
#pragma once

#include <string>
#include <string_view>

#include "http/framing.h"
#include "http/request_head.h"
#include "http/response_head.h"

namespace portcullis::net::websocket {

// The request's Sec-WebSocket-Key when it is a well-formed WebSocket opening handshake
// (§4.2.1): GET, HTTP/1.1, no body, `Upgrade` listing `websocket`, `Connection` listing
// `upgrade`, exactly one Sec-WebSocket-Key that is the base64 of 16 bytes, and
// `Sec-WebSocket-Version: 13`. Empty otherwise: the request is forwarded as a plain request
// without its Upgrade (h2c and every other protocol are never passed on).
std::string_view upgrade_key(const http::RequestHead& head, const http::RequestInfo& info);

// Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC 6455 GUID)).
std::string accept_for(std::string_view key);

// Whether the upstream's 101 completes the handshake for `key` (§4.1, the client's checks):
// `Upgrade: websocket`, `Connection` listing `upgrade`, and exactly one Sec-WebSocket-Accept
// equal to accept_for(key).
bool valid_switch(const http::ResponseHead& response, std::string_view key);

// Appends the upgrade's own hop-by-hop headers to an upstream request head built by
// http::build_upstream_request (which removes every client hop-by-hop header): the head's
// final empty line is kept last.
void add_upgrade_headers(std::string& upstream_head);

// Appends the 101 head for the client: the upstream's status line and end-to-end headers
// (Sec-WebSocket-Accept, -Protocol, -Extensions, ...), minus hop-by-hop, framing and
// Connection-named headers, then `Connection: Upgrade`, `Upgrade: websocket` and X-Request-Id.
void build_switch_response(const http::ResponseHead& response, std::string_view request_id, std::string& out);

}  // namespace portcullis::net::websocket
