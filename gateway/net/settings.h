// What the connection machinery needs to know, resolved from the config at start-up, so that
// net/ depends on neither YAML nor policy.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace portcullis::net {

using Millis = std::chrono::milliseconds;

struct UpstreamTarget {
  std::string name;
  std::string authority;            // host[:port] as configured, sent as Host when the client sent none
  sockaddr_storage address{};       // resolved once at start-up
  socklen_t address_len = 0;
  Millis connect_timeout{2000};
  Millis timeout{30000};            // response head wait, and idle time while reading the response
  size_t max_idle_connections = 64;
  // https: the certificate is verified against ca_file (empty: the system trust store) and
  // server_name, which is also sent as SNI when it is a DNS name.
  bool tls = false;
  std::string server_name;
  std::string ca_file;
  // Built from the two above by Server::start (or by whoever creates the workers; see
  // net/tls.h make_upstream_tls) and shared by every worker's pool.
  std::shared_ptr<ssl_ctx_st> tls_context;
};

// A TLS listener's certificate chain and key (PEM). Re-read when they change.
struct ListenTls {
  std::string cert_file;
  std::string key_file;
};

struct NetSettings {
  size_t max_header_bytes = 16384;
  uint64_t max_body_bytes = 10485760;
  Millis client_timeout{30000};
  size_t max_connections = 10000;
  Millis tunnel_idle_timeout{300000};  // an upgraded (WebSocket) connection with no bytes either way
  std::optional<ListenTls> tls;        // TLS on the public listener
  std::vector<UpstreamTarget> upstreams;
  bool access_log = true;
  Millis drain_timeout{20000};
};

}  // namespace portcullis::net
