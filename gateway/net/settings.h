// What the connection machinery needs to know, resolved from the config at start-up, so that
// net/ depends on neither YAML nor policy.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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
};

struct NetSettings {
  size_t max_header_bytes = 16384;
  uint64_t max_body_bytes = 10485760;
  Millis client_timeout{30000};
  size_t max_connections = 10000;
  std::vector<UpstreamTarget> upstreams;
  bool access_log = true;
  Millis drain_timeout{20000};
};

}  // namespace portcullis::net
