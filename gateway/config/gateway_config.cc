#include "config/gateway_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <thread>

#include "config/yaml_documents.h"
#include "config/yaml_shape.h"
#include "core/ascii.h"

namespace portcullis::config {

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  // Keys can hold user bytes (an unknown key's name): no raw control bytes on the terminal.
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    out += (byte < 0x20 || byte == 0x7f) ? '?' : c;
  }
  if (!key.empty()) out += ": ";
  out += message;
  return out;
}

const UpstreamConfig* GatewayConfig::find_upstream(std::string_view name) const {
  for (const auto& u : upstreams) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

const IssuerConfig* GatewayConfig::find_issuer(std::string_view name) const {
  for (const auto& i : issuers) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

std::string resolve_path(std::string_view dir, std::string_view path) {
  if (path.empty() || path.front() == '/' || dir.empty()) return std::string(path);
  std::string out(dir);
  if (out.back() != '/') out += '/';
  out += path;
  return out;
}

std::string read_file(const std::string& path, std::string& error, size_t max_bytes) {
  error.clear();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "is a directory, not a file";
    return {};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return {};
  }
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      error = "file is larger than " + format_size(max_bytes);
      return {};
    }
  }
  if (in.bad()) {
    error = "read error";
    return {};
  }
  return data;
}

namespace {

using yaml_shape::Field;
using yaml_shape::join;
using yaml_shape::line_of;
using yaml_shape::MapView;
using yaml_shape::quote;
using yaml_shape::Sink;

// Algorithms an issuer may pin (RFC 7518 / RFC 8037 names, case-sensitive).
constexpr std::string_view kAlgorithms[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                            "PS512", "ES256", "ES384", "ES512", "EdDSA",
                                            "HS256", "HS384", "HS512"};

bool is_hmac_alg(std::string_view alg) { return alg.size() == 5 && alg.substr(0, 2) == "HS"; }

// Names an identity header may never take (compared folded: lowercase, '_' as '-'): framing,
// routing and the headers the gateway itself sets or strips.
constexpr std::string_view kForbiddenHeaders[] = {
    "connection", "keep-alive", "te", "trailer", "trailers", "transfer-encoding", "upgrade",
    "host", "authorization", "content-length", "content-type", "content-encoding", "expect",
    "cookie", "x-request-id", "forwarded", "http2-settings", "x-original-url", "x-rewrite-url"};
constexpr std::string_view kForbiddenPrefixes[] = {"proxy-", "x-forwarded-"};

class Loader {
 public:
  Loader(Sink& sink, std::string dir) : sink_(sink), dir_(std::move(dir)) {}

  void load(const YAML::Node& root, GatewayConfig& cfg) {
    MapView top(sink_, Field{root, line_of(root), ""},
                {"listen", "admin_listen", "workers", "limits", "upstreams", "issuers",
                 "identity_headers", "policies", "access_log", "drain_timeout", "token_cache_size"});
    if (!top.ok()) return;

    if (const Field* f = require(top, "listen", "e.g. listen: 0.0.0.0:8080")) read_listen(*f, cfg.listen);
    if (const Field* f = top.find("admin_listen")) read_admin(*f, cfg);
    if (const Field* f = top.find("workers")) read_workers(*f, cfg.workers);
    if (cfg.workers == 0) cfg.workers = auto_workers();
    if (const Field* f = top.find("limits")) read_limits(*f, cfg.limits);
    if (const Field* f = require(top, "upstreams", "at least an upstream named 'default'")) {
      read_upstreams(*f, cfg.upstreams);
    }
    if (const Field* f = top.find("issuers")) read_issuers(*f, cfg.issuers);
    read_identity_headers(top.find("identity_headers"), cfg.identity_headers);
    check_identity_headers();
    if (const Field* f = top.find("policies")) {
      if (auto list = read_string_list(*f, /*allow_null=*/true)) {
        for (auto& p : *list) cfg.policies.push_back(resolve_path(dir_, p));
      }
    }
    if (const Field* f = top.find("access_log")) read_bool(*f, cfg.access_log);
    if (const Field* f = top.find("drain_timeout")) read_duration(*f, cfg.drain_timeout, Millis(0), Millis(3'600'000));
    if (const Field* f = top.find("token_cache_size")) read_uint(*f, cfg.token_cache_size, 1, 10'000'000);
  }

 private:
  Sink& sink_;
  std::string dir_;
  // Where listen/admin_listen were written, for the overlap check.
  int listen_line_ = 0;
  bool listen_ok_ = false;

  void error(const Field& f, std::string message) { sink_.add(f.line, f.path, std::move(message)); }

  const Field* require(const MapView& map, std::string_view key, std::string_view hint = {}) {
    return yaml_shape::require(sink_, map, key, hint);
  }

  static unsigned auto_workers() {
    unsigned n = std::thread::hardware_concurrency();
    return std::clamp(n, 1u, 256u);
  }

  // ---- scalar readers: each reports its own error and leaves `out` untouched on failure ----

  std::optional<std::string> scalar(const Field& f, std::string_view what) {
    if (!f.node.IsScalar()) {
      error(f, std::string(f.node.IsNull() ? "has no value; expected " : "must be ") + std::string(what));
      return std::nullopt;
    }
    return f.node.Scalar();
  }

  bool read_string(const Field& f, std::string& out, bool allow_empty = false) {
    auto s = scalar(f, "a string");
    if (!s) return false;
    if (!allow_empty && s->empty()) {
      error(f, "must not be empty");
      return false;
    }
    out = std::move(*s);
    return true;
  }

  bool read_path(const Field& f, std::string& out) {
    std::string raw;
    if (!read_string(f, raw)) return false;
    out = resolve_path(dir_, raw);
    return true;
  }

  bool read_bool(const Field& f, bool& out) {
    auto s = scalar(f, "true or false");
    if (!s) return false;
    if (*s == "true" || *s == "True" || *s == "TRUE") {
      out = true;
    } else if (*s == "false" || *s == "False" || *s == "FALSE") {
      out = false;
    } else {
      error(f, "must be true or false, not " + quote(*s));
      return false;
    }
    return true;
  }

  template <class T>
  bool read_uint(const Field& f, T& out, uint64_t min, uint64_t max) {
    auto s = scalar(f, "an integer");
    if (!s) return false;
    auto range = "between " + std::to_string(min) + " and " + std::to_string(max);
    if (!is_bare_number(*s) || s->size() > 19) {
      error(f, "must be an integer " + range + ", not " + quote(*s));
      return false;
    }
    uint64_t v = std::stoull(*s);
    if (v < min || v > max) {
      error(f, "must be " + range + " (got " + *s + ")");
      return false;
    }
    out = static_cast<T>(v);
    return true;
  }

  bool read_duration(const Field& f, Millis& out, Millis min, Millis max) {
    auto s = scalar(f, "a duration such as 500ms, 30s, 10m, 1h or 1m30s");
    if (!s) return false;
    auto d = parse_duration(*s);
    if (!d) {
      if (is_bare_number(*s)) {
        error(f, quote(*s) + " has no unit; bare numbers are not durations: write e.g. " + *s + "s or " + *s +
                     "ms (units: ms, s, m, h)");
      } else {
        error(f, quote(*s) + " is not a duration; expected e.g. 500ms, 30s, 10m, 1h or 1m30s (units: ms, s, m, h)");
      }
      return false;
    }
    if (*d < min || *d > max) {
      error(f, "must be between " + format_duration(min) + " and " + format_duration(max) + " (got " + *s + ")");
      return false;
    }
    out = *d;
    return true;
  }

  template <class T>
  bool read_size(const Field& f, T& out, uint64_t min, uint64_t max) {
    auto s = scalar(f, "a size such as 16384, 512KiB or 1MiB");
    if (!s) return false;
    auto v = parse_size(*s);
    if (!v) {
      error(f, quote(*s) + " is not a size; expected bytes or a unit, e.g. 16384, 512KiB, 1MiB, 1GiB (KB, MB, GB are 1000-based)");
      return false;
    }
    if (*v < min || *v > max) {
      error(f, "must be between " + format_size(min) + " and " + format_size(max) + " (got " + *s + ")");
      return false;
    }
    out = static_cast<T>(*v);
    return true;
  }

  // A list of non-empty strings. `allow_null`: an empty value means an empty list.
  std::optional<std::vector<std::string>> read_string_list(const Field& f, bool allow_null) {
    std::vector<std::string> out;
    if (f.node.IsNull() && allow_null) return out;
    if (!f.node.IsSequence()) {
      error(f, "must be a list of strings, e.g. [a, b]");
      return std::nullopt;
    }
    bool ok = true;
    size_t i = 0;
    for (const auto& item : f.node) {
      Field at{item, item.IsNull() ? f.line : line_of(item), f.path + "[" + std::to_string(i++) + "]"};
      std::string s;
      if (read_string(at, s)) {
        out.push_back(std::move(s));
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  // https, or http on a loopback host (PRODUCT.md). `allow_path_query`: jwks_uri/endpoint may
  // carry a query; an issuer identifier may not (OpenID Connect Discovery §3).
  bool check_secure_url(const Field& f, const std::string& text, bool allow_query) {
    std::string why;
    auto url = parse_url(text, why);
    if (!url) {
      error(f, quote(text) + " " + why);
      return false;
    }
    if (url->scheme == "http" && !is_loopback_host(url->host)) {
      error(f, quote(text) + " must use https (http is allowed only on loopback hosts: 127.0.0.0/8, ::1, localhost)");
      return false;
    }
    if (!allow_query && url->has_query) {
      error(f, quote(text) + " must not have a query string");
      return false;
    }
    return true;
  }

  // ---- sections ----

  bool read_host_port(const Field& f, std::string& host, uint16_t& port) {
    auto s = scalar(f, "host:port, e.g. 0.0.0.0:8080 or [::1]:8080");
    if (!s) return false;
    auto hp = parse_host_port(*s);
    if (!hp) {
      error(f, quote(*s) + " is not host:port (e.g. 0.0.0.0:8080, [::1]:8080, localhost:0; IPv6 needs brackets)");
      return false;
    }
    host = hp->first;
    port = hp->second;
    return true;
  }

  void read_listen(const Field& f, ListenConfig& out) {
    listen_line_ = f.line;
    if (f.node.IsScalar()) {
      listen_ok_ = read_host_port(f, out.host, out.port);
      return;
    }
    if (!f.node.IsMap()) {
      error(f, "must be host:port or a map {address: host:port, tls: {cert_file, key_file}}");
      return;
    }
    MapView map(sink_, f, {"address", "tls"});
    if (!map.ok()) return;
    if (const Field* a = require(map, "address", "host:port")) listen_ok_ = read_host_port(*a, out.host, out.port);
    if (const Field* t = map.find("tls")) {
      MapView tls(sink_, *t, {"cert_file", "key_file"});
      if (!tls.ok()) return;
      TlsConfig cfg;
      const Field* cert = require(tls, "cert_file");
      const Field* key = require(tls, "key_file");
      bool ok = cert && key;
      if (cert) ok = read_path(*cert, cfg.cert_file) && ok;
      if (key) ok = read_path(*key, cfg.key_file) && ok;
      if (ok) out.tls = std::move(cfg);
    }
  }

  // Admin endpoints never share the public port (PRODUCT.md): same port on overlapping hosts.
  void read_admin(const Field& f, GatewayConfig& cfg) {
    if (!read_host_port(f, cfg.admin_host, cfg.admin_port)) return;
    if (!listen_ok_ || cfg.admin_port == 0 || cfg.admin_port != cfg.listen.port) return;
    auto wildcard = [](const std::string& h) { return h == "0.0.0.0" || h == "::" || h.empty(); };
    if (cfg.admin_host == cfg.listen.host || wildcard(cfg.admin_host) || wildcard(cfg.listen.host)) {
      error(f, "must not use the public listener's port " + std::to_string(cfg.admin_port) + " (listen, line " +
                   std::to_string(listen_line_) + ")");
    }
  }

  void read_workers(const Field& f, unsigned& out) {
    if (f.node.IsScalar() && f.node.Scalar() == "auto") {
      out = auto_workers();
      return;
    }
    if (f.node.IsScalar() && !is_bare_number(f.node.Scalar())) {
      error(f, "must be auto or an integer between 1 and 256, not " + quote(f.node.Scalar()));
      return;
    }
    read_uint(f, out, 1, 256);
  }

  void read_limits(const Field& f, Limits& out) {
    MapView map(sink_, f,
                {"max_header_bytes", "max_body_bytes", "max_token_bytes", "client_timeout", "max_connections",
                 "tunnel_idle_timeout"});
    if (!map.ok()) return;
    bool header_ok = true;
    if (const Field* v = map.find("max_header_bytes")) header_ok = read_size(*v, out.max_header_bytes, 1024, 1u << 20);
    if (const Field* v = map.find("max_body_bytes")) read_size(*v, out.max_body_bytes, 0, 64ull << 30);
    if (const Field* v = map.find("max_token_bytes")) {
      // A token travels in a header, so it can never be larger than the header limit.
      uint64_t max = header_ok ? out.max_header_bytes : (1u << 20);
      size_t tok = 0;
      if (read_size(*v, tok, 256, 1u << 20)) {
        if (tok > max) {
          error(*v, "must not exceed max_header_bytes (" + format_size(max) + "); got " + format_size(tok));
        } else {
          out.max_token_bytes = tok;
        }
      }
    } else if (header_ok && out.max_token_bytes > out.max_header_bytes) {
      const Field* h = map.find("max_header_bytes");
      sink_.add(h ? h->line : map.line(), map.child_path("max_token_bytes"),
                "default " + format_size(out.max_token_bytes) + " exceeds max_header_bytes (" +
                    format_size(out.max_header_bytes) + "); set max_token_bytes explicitly");
    }
    if (const Field* v = map.find("client_timeout")) read_duration(*v, out.client_timeout, Millis(1000), Millis(3'600'000));
    if (const Field* v = map.find("max_connections")) read_uint(*v, out.max_connections, 1, 1'000'000);
    if (const Field* v = map.find("tunnel_idle_timeout")) {
      read_duration(*v, out.tunnel_idle_timeout, Millis(1000), Millis(86'400'000));
    }
  }

  static bool is_name(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
             c == '.';
    });
  }

  void read_upstreams(const Field& f, std::vector<UpstreamConfig>& out) {
    MapView map(sink_, f);
    if (!map.ok()) return;
    for (size_t i = 0; i < map.size(); ++i) {
      const Field& uf = map.field(i);
      UpstreamConfig up;
      up.name = map.key(i);
      if (!is_name(up.name)) {
        error(uf, "upstream name " + quote(up.name) + " must be 1-128 letters, digits, '-', '_' or '.'");
        continue;
      }
      if (read_upstream(uf, up)) out.push_back(std::move(up));
    }
    if (map.find("default") == nullptr) {
      sink_.add(map.line(), f.path, map.size() == 0 ? "must define at least one upstream, named 'default'"
                               : "an upstream named 'default' is required");
    }
  }

  bool read_upstream(const Field& f, UpstreamConfig& up) {
    MapView map(sink_, f, {"url", "connect_timeout", "timeout", "max_idle_connections", "tls"});
    if (!map.ok()) return false;
    size_t before = sink_.errors.size();
    if (const Field* u = require(map, "url", "e.g. http://127.0.0.1:9000")) {
      if (read_string(*u, up.url)) {
        std::string why;
        auto url = parse_url(up.url, why);
        if (!url) {
          error(*u, quote(up.url) + " " + why);
        } else if (!url->path.empty() && url->path != "/") {
          error(*u, quote(up.url) + " must not have a path (only http://host[:port] or a trailing '/')");
        } else if (url->has_query) {
          error(*u, quote(up.url) + " must not have a query string");
        } else {
          up.scheme = url->scheme;
          up.host = url->host;
          up.port = url->port;
        }
      }
    }
    if (const Field* v = map.find("connect_timeout")) read_duration(*v, up.connect_timeout, Millis(10), Millis(300'000));
    if (const Field* v = map.find("timeout")) read_duration(*v, up.timeout, Millis(1000), Millis(3'600'000));
    if (const Field* v = map.find("max_idle_connections")) read_uint(*v, up.max_idle_connections, 0, 100'000);
    if (const Field* t = map.find("tls")) read_upstream_tls(*t, up);
    return sink_.errors.size() == before;
  }

  // Options for https upstreams; the certificate is always verified (there is no switch to
  // turn verification off).
  void read_upstream_tls(const Field& f, UpstreamConfig& up) {
    MapView tls(sink_, f, {"ca_file", "server_name"});
    if (!tls.ok()) return;
    if (!up.scheme.empty() && up.scheme != "https") {
      error(f, "is only for https:// upstreams (url is " + quote(up.url) + ")");
      return;
    }
    if (const Field* v = tls.find("ca_file")) read_path(*v, up.ca_file);
    if (const Field* v = tls.find("server_name")) {
      std::string name;
      if (read_string(*v, name)) {
        std::string bare = name.size() > 2 && name.front() == '[' && name.back() == ']' ? name.substr(1, name.size() - 2)
                                                                                        : name;
        if (!is_valid_host(bare) || bare.size() > 253) {
          error(*v, quote(name) + " is not a host name or IP address");
        } else {
          up.server_name = std::move(bare);
        }
      }
    }
  }

  void read_issuers(const Field& f, std::vector<IssuerConfig>& out) {
    if (f.node.IsNull()) return;
    if (!f.node.IsSequence()) {
      error(f, "must be a list of issuers (- name: ..., issuer: ...)");
      return;
    }
    std::vector<std::pair<std::string, int>> names, ids;  // value, line of first use
    size_t i = 0;
    for (const auto& item : f.node) {
      Field at{item, item.IsNull() ? f.line : line_of(item), f.path + "[" + std::to_string(i++) + "]"};
      IssuerConfig iss;
      MapView map(sink_, at,
                  {"name", "issuer", "discovery", "jwks_uri", "jwks_file", "secret_file", "audiences", "algorithms",
                   "leeway", "jwks_refresh", "scope_claim", "require_exp", "require_typ", "jwks_min_refetch",
                   "fetch_timeout", "jwks_max_bytes", "cookie", "introspection", "tls"});
      if (!map.ok()) continue;
      size_t before = sink_.errors.size();
      read_issuer(map, iss);
      // Names and iss values must be unique: routes refer to names, tokens are matched by iss.
      auto unique = [&](std::vector<std::pair<std::string, int>>& seen, const std::string& value, const char* key,
                        const char* what) {
        const Field* kf = map.find(key);
        if (!kf || value.empty()) return;
        for (const auto& [v, line] : seen) {
          if (v == value) {
            error(*kf, std::string(what) + " " + quote(value) + " is already used on line " + std::to_string(line));
            return;
          }
        }
        seen.emplace_back(value, kf->line);
      };
      unique(names, iss.name, "name", "issuer name");
      unique(ids, iss.issuer, "issuer", "issuer");
      if (sink_.errors.size() == before) out.push_back(std::move(iss));
    }
  }

  void read_issuer(const MapView& map, IssuerConfig& iss) {
    if (const Field* v = require(map, "name")) {
      if (read_string(*v, iss.name) && !is_name(iss.name)) {
        error(*v, "issuer name " + quote(iss.name) + " must be 1-128 letters, digits, '-', '_' or '.'");
      }
    }
    if (const Field* v = require(map, "issuer", "the exact \"iss\" value, e.g. https://auth.example.com")) {
      if (read_string(*v, iss.issuer)) check_secure_url(*v, iss.issuer, /*allow_query=*/false);
    }

    // Exactly one key source.
    std::vector<const Field*> sources;
    if (const Field* v = map.find("discovery")) {
      if (read_bool(*v, iss.discovery) && iss.discovery) sources.push_back(v);
    }
    if (const Field* v = map.find("jwks_uri")) {
      sources.push_back(v);
      if (read_string(*v, iss.jwks_uri)) check_secure_url(*v, iss.jwks_uri, /*allow_query=*/true);
    }
    if (const Field* v = map.find("jwks_file")) {
      sources.push_back(v);
      read_path(*v, iss.jwks_file);
    }
    const Field* secret = map.find("secret_file");
    if (secret) {
      sources.push_back(secret);
      read_path(*secret, iss.secret_file);
    }
    constexpr const char* kSources = "discovery: true, jwks_uri, jwks_file or secret_file";
    if (sources.empty()) {
      sink_.add(map.line(), map.path(), std::string("needs exactly one key source: ") + kSources);
    } else {
      for (size_t i = 1; i < sources.size(); ++i) {
        error(*sources[i], "conflicts with " + sources[0]->path + ": choose exactly one key source (" + kSources + ")");
      }
    }

    if (const Field* v = require(map, "audiences", "the token's aud must contain one of them")) {
      if (auto list = read_string_list(*v, false)) {
        if (list->empty()) {
          error(*v, "must list at least one audience");
        } else {
          iss.audiences = std::move(*list);
        }
      }
    }
    if (const Field* v = require(map, "algorithms", "e.g. [RS256, ES256]")) read_algorithms(*v, secret != nullptr, iss);

    if (const Field* v = map.find("leeway")) read_duration(*v, iss.leeway, Millis(0), Millis(3'600'000));
    if (const Field* v = map.find("jwks_refresh")) read_duration(*v, iss.jwks_refresh, Millis(1000), Millis(86'400'000));
    if (const Field* v = map.find("jwks_min_refetch")) {
      read_duration(*v, iss.jwks_min_refetch, Millis(1000), Millis(3'600'000));
    }
    if (const Field* v = map.find("fetch_timeout")) read_duration(*v, iss.fetch_timeout, Millis(100), Millis(300'000));
    if (const Field* v = map.find("jwks_max_bytes")) read_size(*v, iss.jwks_max_bytes, 1024, 64ull << 20);
    if (const Field* v = map.find("scope_claim")) read_string(*v, iss.scope_claim);
    if (const Field* v = map.find("require_exp")) read_bool(*v, iss.require_exp);
    if (const Field* v = map.find("require_typ")) read_string(*v, iss.require_typ);
    if (const Field* v = map.find("cookie")) {
      if (read_string(*v, iss.cookie) && !is_token(iss.cookie)) {
        error(*v, quote(iss.cookie) + " is not a valid cookie name");
      }
    }
    if (const Field* v = map.find("introspection")) {
      IntrospectionConfig in;
      if (read_introspection(*v, iss.discovery, in)) iss.introspection = std::move(in);
    }
    if (const Field* v = map.find("tls")) read_issuer_tls(*v, iss);
  }

  // The CA bundle that discovery, JWKS and introspection fetches of this issuer trust instead
  // of the system store (a private issuer's internal CA). Verification is always on.
  void read_issuer_tls(const Field& f, IssuerConfig& iss) {
    MapView tls(sink_, f, {"ca_file"});
    if (!tls.ok()) return;
    if (!iss.discovery && iss.jwks_uri.empty() && !iss.introspection) {
      error(f, "is only for issuers that fetch over the network (discovery, jwks_uri or introspection)");
      return;
    }
    if (const Field* v = require(tls, "ca_file", "a PEM file of the CA certificates to trust")) read_path(*v, iss.ca_file);
  }

  void read_algorithms(const Field& f, bool has_secret, IssuerConfig& iss) {
    auto list = read_string_list(f, false);
    if (!list) return;
    if (list->empty()) {
      error(f, "must list at least one algorithm, e.g. [RS256, ES256]");
      return;
    }
    const std::string all = join({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                                  "EdDSA", "HS256", "HS384", "HS512"});
    bool ok = true;
    size_t i = 0;
    for (const auto& item : f.node) {
      Field at{item, line_of(item), f.path + "[" + std::to_string(i) + "]"};
      const std::string& alg = (*list)[i++];
      auto fail = [&](std::string msg) {
        error(at, std::move(msg));
        ok = false;
      };
      if (ascii_lower_copy(alg) == "none") {
        fail("'none' is never allowed: unsigned tokens are not verified");
        continue;
      }
      auto known = std::find(std::begin(kAlgorithms), std::end(kAlgorithms), alg);
      if (known == std::end(kAlgorithms)) {
        auto near = std::find_if(std::begin(kAlgorithms), std::end(kAlgorithms),
                                 [&](std::string_view a) { return ascii_lower_copy(a) == ascii_lower_copy(alg); });
        if (near != std::end(kAlgorithms)) {
          fail("unknown algorithm " + quote(alg) + "; names are case-sensitive: did you mean " + std::string(*near) + "?");
        } else {
          fail("unknown algorithm " + quote(alg) + " (allowed: " + all + ")");
        }
        continue;
      }
      if (std::count(list->begin(), list->begin() + static_cast<std::ptrdiff_t>(i - 1), alg) > 0) {
        fail(quote(alg) + " is listed twice");
        continue;
      }
      if (is_hmac_alg(alg) && !has_secret) {
        fail(alg + " requires secret_file: HMAC algorithms are never used with JWKS keys");
      } else if (!is_hmac_alg(alg) && has_secret) {
        fail(alg + " cannot be used with secret_file; an issuer with secret_file allows only HS256, HS384, HS512");
      }
    }
    if (ok) iss.algorithms = std::move(*list);
  }

  bool read_introspection(const Field& f, bool discovery, IntrospectionConfig& in) {
    MapView map(sink_, f,
                {"endpoint", "client_id", "client_secret_file", "auth_method", "mode", "interval", "on_error",
                 "cache_ttl", "inactive_cache_ttl", "max_concurrent"});
    if (!map.ok()) return false;
    size_t before = sink_.errors.size();
    if (const Field* v = discovery ? map.find("endpoint")
                                   : require(map, "endpoint", "or discovery: true to take it from the issuer")) {
      if (read_string(*v, in.endpoint)) check_secure_url(*v, in.endpoint, /*allow_query=*/true);
    }
    if (const Field* v = require(map, "client_id")) read_string(*v, in.client_id);
    if (const Field* v = require(map, "client_secret_file")) read_path(*v, in.client_secret_file);
    if (const Field* v = map.find("auth_method")) {
      read_enum(*v, in.auth_method,
                {{"client_secret_basic", IntrospectionConfig::AuthMethod::ClientSecretBasic},
                 {"client_secret_post", IntrospectionConfig::AuthMethod::ClientSecretPost}});
    }
    if (const Field* v = map.find("mode")) {
      read_enum(*v, in.mode,
                {{"opaque", IntrospectionConfig::Mode::Opaque},
                 {"always", IntrospectionConfig::Mode::Always},
                 {"periodic", IntrospectionConfig::Mode::Periodic}});
    }
    if (const Field* v = map.find("interval")) read_duration(*v, in.interval, Millis(1000), Millis(86'400'000));
    if (const Field* v = map.find("on_error")) {
      read_enum(*v, in.on_error,
                {{"deny", IntrospectionConfig::OnError::Deny}, {"use_cached", IntrospectionConfig::OnError::UseCached}});
    }
    if (const Field* v = map.find("cache_ttl")) read_duration(*v, in.cache_ttl, Millis(0), Millis(86'400'000));
    if (const Field* v = map.find("inactive_cache_ttl")) {
      read_duration(*v, in.inactive_cache_ttl, Millis(0), Millis(3'600'000));
    }
    if (const Field* v = map.find("max_concurrent")) read_uint(*v, in.max_concurrent, 1, 10'000);
    return sink_.errors.size() == before;
  }

  template <class E>
  void read_enum(const Field& f, E& out, std::initializer_list<std::pair<std::string_view, E>> values) {
    std::string allowed;
    for (const auto& [name, value] : values) allowed += (allowed.empty() ? "" : " | ") + std::string(name);
    auto s = scalar(f, "one of " + allowed);
    if (!s) return;
    for (const auto& [name, value] : values) {
      if (*s == name) {
        out = value;
        return;
      }
    }
    error(f, "must be one of " + allowed + ", not " + quote(*s));
  }

  // Each identity header with where it was written (or the section, for defaults).
  std::vector<std::pair<Field, std::string>> header_fields_;

  void read_identity_headers(const Field* section, IdentityHeaders& out) {
    std::optional<MapView> map;
    if (section) {
      map.emplace(sink_, *section, std::initializer_list<std::string_view>{"subject", "issuer", "scopes", "claims",
                                                                           "forward_token"});
      if (!map->ok()) return;
    }
    auto header = [&](const char* key, std::string& value) {
      const Field* v = map ? map->find(key) : nullptr;
      if (v && !read_string(*v, value)) return;
      header_fields_.emplace_back(
          v ? *v : Field{{}, map ? map->line() : 0, std::string("identity_headers.") + key + " (default)"}, value);
    };
    header("subject", out.subject);
    header("issuer", out.issuer);
    header("scopes", out.scopes);
    if (!map) return;
    if (const Field* v = map->find("forward_token")) read_bool(*v, out.forward_token);
    const Field* c = map->find("claims");
    if (!c || c->node.IsNull()) return;
    MapView claims(sink_, *c);
    if (!claims.ok()) return;
    for (size_t i = 0; i < claims.size(); ++i) {
      std::string name;
      if (claims.key(i).empty()) {
        error(claims.field(i), "claim name must not be empty");
      } else if (read_string(claims.field(i), name)) {
        out.claims.emplace_back(claims.key(i), name);
        header_fields_.emplace_back(claims.field(i), std::move(name));
      }
    }
  }

  // Every identity header is a valid, distinct name the gateway may set. Distinct as the
  // stripping compares them: case-insensitively with '_' as '-'.
  void check_identity_headers() {
    std::vector<std::pair<std::string, std::string>> seen;  // folded name, path
    for (const auto& [at, name] : header_fields_) {
      if (!is_token(name)) {
        error(at, quote(name) + " is not a valid header name");
        continue;
      }
      std::string folded = fold_header_name(name);
      bool forbidden = std::find(std::begin(kForbiddenHeaders), std::end(kForbiddenHeaders), folded) !=
                       std::end(kForbiddenHeaders);
      for (auto prefix : kForbiddenPrefixes) forbidden = forbidden || folded.rfind(prefix, 0) == 0;
      if (forbidden) {
        error(at, quote(name) +
                      " cannot be an identity header: hop-by-hop, framing, Host, Authorization, X-Forwarded-* and "
                      "X-Request-Id are reserved");
        continue;
      }
      auto dup = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == folded; });
      if (dup != seen.end()) {
        error(at, quote(name) + " is the same header as " + dup->second +
                      " (names compare case-insensitively, with '_' as '-')");
        continue;
      }
      seen.emplace_back(folded, at.path);
    }
  }
};

}  // namespace

LoadResult parse_gateway_config(std::string_view yaml, const std::string& file, const std::string& dir) {
  Sink sink;
  sink.file = file;
  auto cfg = std::make_shared<GatewayConfig>();
  cfg->file = file;
  cfg->dir = dir;
  try {
    std::vector<YAML::Node> docs = load_all_documents(std::string(yaml));
    if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
      sink.add(0, "", "file is empty; expected a map of settings (listen, upstreams, ...)");
    } else if (docs.size() > 1) {
      sink.add(line_of(docs[1]), "", "has more than one YAML document ('---'); put everything in one");
    } else {
      Loader(sink, dir).load(docs[0], *cfg);
    }
  } catch (const YAML::Exception& e) {
    // Syntax errors (and yaml-cpp's depth guard) carry a 0-based mark.
    sink.add(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    sink.add(0, "", std::string("cannot load: ") + e.what());
  }
  // Report in file order, as an editor would show them.
  std::stable_sort(sink.errors.begin(), sink.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  LoadResult result;
  result.errors = std::move(sink.errors);
  if (result.errors.empty()) result.config = std::move(cfg);
  return result;
}

LoadResult load_gateway_config(const std::string& path) {
  std::string error;
  std::string text = read_file(path, error);
  if (!error.empty()) {
    LoadResult result;
    result.errors.push_back(ConfigError{path, 0, "", error});
    return result;
  }
  std::error_code ec;
  std::filesystem::path p(path);
  std::filesystem::path dir = std::filesystem::absolute(p, ec).parent_path();
  if (ec) dir = p.parent_path();
  return parse_gateway_config(text, path, dir.empty() ? std::string(".") : dir.lexically_normal().string());
}

}  // namespace portcullis::config
