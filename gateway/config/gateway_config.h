// gateway.yaml -> validated, immutable GatewayConfig. yaml-cpp stays inside gateway_config.cc:
// its exceptions are caught there and become file:line errors. Every error is collected (not
// just the first) so `portcullis validate` can show them all at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/values.h"

namespace portcullis::config {

using Millis = std::chrono::milliseconds;

struct TlsConfig {
  std::string cert_file, key_file;  // resolved against GatewayConfig::dir
};

struct ListenConfig {
  std::string host;  // without brackets for IPv6
  uint16_t port = 8080;
  std::optional<TlsConfig> tls;
};

struct Limits {
  size_t max_header_bytes = 16384;
  uint64_t max_body_bytes = 10485760;
  size_t max_token_bytes = 8192;
  Millis client_timeout{30000};
  size_t max_connections = 10000;
  Millis tunnel_idle_timeout{300000};  // extension: an upgraded (WebSocket) connection with no bytes either way
};

struct UpstreamConfig {
  std::string name;
  std::string url;     // as written
  std::string scheme;  // "http" or "https" (whether https is served is the runtime's call)
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;   // explicit, else 80 / 443
  Millis connect_timeout{2000};
  Millis timeout{30000};
  size_t max_idle_connections = 64;
  // https only (`tls:` block), extensions: the CA bundle the upstream's certificate must chain
  // to (empty: the system trust store), and the name sent as SNI and verified against the
  // certificate (empty: the URL's host).
  std::string ca_file;  // resolved against GatewayConfig::dir
  std::string server_name;
};

struct IntrospectionConfig {
  std::string endpoint;  // empty: taken from discovery (introspection_endpoint)
  std::string client_id;
  std::string client_secret_file;  // resolved against GatewayConfig::dir
  enum class AuthMethod { ClientSecretBasic, ClientSecretPost } auth_method = AuthMethod::ClientSecretBasic;
  enum class Mode { Opaque, Always, Periodic } mode = Mode::Opaque;
  Millis interval{60000};
  enum class OnError { Deny, UseCached } on_error = OnError::Deny;
  Millis cache_ttl{300000};
  Millis inactive_cache_ttl{10000};
  size_t max_concurrent = 64;
};

struct IssuerConfig {
  std::string name;
  std::string issuer;  // exact match against "iss"
  bool discovery = false;
  std::string jwks_uri;
  std::string jwks_file;    // resolved against GatewayConfig::dir
  std::string secret_file;  // HS256/384/512 only; never together with a JWKS source
  std::vector<std::string> audiences;
  std::vector<std::string> algorithms;
  Millis leeway{30000};
  Millis jwks_refresh{600000};
  std::string scope_claim = "scope";
  bool require_exp = true;
  std::string require_typ;  // empty: not checked
  Millis jwks_min_refetch{30000};
  Millis fetch_timeout{5000};
  uint64_t jwks_max_bytes = 1048576;
  std::string cookie;  // optional: also read the token from this cookie
  std::optional<IntrospectionConfig> introspection;
  std::string ca_file;  // extension (tls.ca_file): trust for its https fetches; empty: the system's
};

struct IdentityHeaders {
  std::string subject = "X-Auth-Subject";
  std::string issuer = "X-Auth-Issuer";
  std::string scopes = "X-Auth-Scopes";
  std::vector<std::pair<std::string, std::string>> claims;  // claim name -> header name, file order
  bool forward_token = true;
};

struct GatewayConfig {
  std::string file;  // the config file as given
  std::string dir;   // its directory (absolute when loaded from disk)
  ListenConfig listen;
  std::string admin_host = "127.0.0.1";
  uint16_t admin_port = 9901;
  unsigned workers = 0;  // resolved: "auto" -> std::thread::hardware_concurrency() (>= 1)
  Limits limits;
  std::vector<UpstreamConfig> upstreams;  // file order
  std::vector<IssuerConfig> issuers;
  IdentityHeaders identity_headers;
  std::vector<std::string> policies;  // patterns as written, resolved against dir (globs expanded elsewhere)
  bool access_log = true;             // extension: JSON access log on stdout
  Millis drain_timeout{20000};        // extension: SIGTERM grace for in-flight requests
  size_t token_cache_size = 10000;    // extension: verified tokens cached per worker

  const UpstreamConfig* find_upstream(std::string_view name) const;
  const IssuerConfig* find_issuer(std::string_view name) const;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  std::string key;  // YAML path, e.g. "issuers[0].jwks_refresh"; empty for file-level errors
  std::string message;
  std::string to_string() const;  // "file:line: key: message" (":line" omitted if 0, "key: " if empty)
};

struct LoadResult {
  std::shared_ptr<const GatewayConfig> config;  // null whenever errors is non-empty
  std::vector<ConfigError> errors;
  bool ok() const { return config && errors.empty(); }
};

// Reads and validates the file. `dir` becomes the absolute directory of `path`.
LoadResult load_gateway_config(const std::string& path);

// Pure: validates YAML text as if it were `file`, resolving relative paths against `dir`.
LoadResult parse_gateway_config(std::string_view yaml, const std::string& file, const std::string& dir);

// Whole file into a string; on failure returns "" and sets `error` (cleared on success).
// Refuses files over `max_bytes`.
std::string read_file(const std::string& path, std::string& error, size_t max_bytes = 16u << 20);

// `path` unchanged when absolute or `dir` is empty, else dir + "/" + path.
std::string resolve_path(std::string_view dir, std::string_view path);

}  // namespace portcullis::config
