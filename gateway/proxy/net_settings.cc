#include "proxy/net_settings.h"

#include <netdb.h>

#include <cstring>
#include <memory>

namespace portcullis::proxy {

Result<net::NetSettings> make_net_settings(const config::GatewayConfig& config) {
  net::NetSettings s;
  if (config.listen.tls) s.tls = net::ListenTls{config.listen.tls->cert_file, config.listen.tls->key_file};
  s.max_header_bytes = config.limits.max_header_bytes;
  s.max_body_bytes = config.limits.max_body_bytes;
  s.client_timeout = config.limits.client_timeout;
  s.max_connections = config.limits.max_connections;
  s.tunnel_idle_timeout = config.limits.tunnel_idle_timeout;
  s.access_log = config.access_log;
  s.drain_timeout = config.drain_timeout;
  for (const config::UpstreamConfig& u : config.upstreams) {
    net::UpstreamTarget t;
    t.name = u.name;
    t.tls = u.scheme == "https";
    t.server_name = u.server_name.empty() ? u.host : u.server_name;
    t.ca_file = u.ca_file;
    bool ipv6 = u.host.find(':') != std::string::npos;
    t.authority = (ipv6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
    t.connect_timeout = u.connect_timeout;
    t.timeout = u.timeout;
    t.max_idle_connections = u.max_idle_connections;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string port = std::to_string(u.port);
    if (int rc = getaddrinfo(u.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
      return Error{"upstream " + u.name + ": cannot resolve " + u.host + ": " + gai_strerror(rc)};
    }
    std::memcpy(&t.address, res->ai_addr, res->ai_addrlen);
    t.address_len = res->ai_addrlen;
    freeaddrinfo(res);
    s.upstreams.push_back(std::move(t));
  }
  return s;
}

}  // namespace portcullis::proxy
