#include "config/policy_loader.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <optional>

#include "config/yaml_documents.h"
#include "config/yaml_shape.h"
#include "core/ascii.h"
#include "http/path.h"

namespace portcullis::config {
namespace {

using policy::ClaimRequirement;
using policy::ClaimValue;
using policy::Route;

// ---- shape helpers (the same conventions as gateway_config.cc) ----------------------------

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7f;
  });
}

using yaml_shape::Field;
using yaml_shape::join;
using yaml_shape::line_of;
using yaml_shape::MapView;
using yaml_shape::quote;
using yaml_shape::Sink;

// Shared readers: each reports its own error and returns nullopt/false on failure.
class Reader {
 public:
  explicit Reader(Sink& sink) : sink_(sink) {}

  void error(const Field& f, std::string message) { sink_.add(f.line, f.path, std::move(message)); }

  const Field* require(const MapView& map, std::string_view key, std::string_view hint = {}) {
    return yaml_shape::require(sink_, map, key, hint);
  }

  std::optional<std::string> scalar(const Field& f, std::string_view what) {
    if (!f.node.IsScalar()) {
      error(f, std::string(f.node.IsNull() ? "has no value; expected " : "must be ") + std::string(what));
      return std::nullopt;
    }
    return f.node.Scalar();
  }

  std::optional<std::string> string(const Field& f) {
    auto s = scalar(f, "a string");
    if (s && s->empty()) {
      error(f, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> boolean(const Field& f) {
    auto s = scalar(f, "true or false");
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "True" || *s == "TRUE") return true;
    if (*s == "false" || *s == "False" || *s == "FALSE") return false;
    error(f, "must be true or false, not " + quote(*s));
    return std::nullopt;
  }

  // A non-empty list; calls fn(item_field) for each item.
  template <class Fn>
  bool list(const Field& f, std::string_view what, std::string_view empty_hint, Fn&& fn) {
    if (!f.node.IsSequence()) {
      error(f, std::string(f.node.IsNull() ? "has no value; expected " : "must be ") + "a list of " +
                   std::string(what));
      return false;
    }
    if (f.node.size() == 0 && !empty_hint.empty()) {
      error(f, "must not be empty; " + std::string(empty_hint));
      return false;
    }
    size_t i = 0;
    for (const auto& item : f.node) {
      fn(Field{item, item.IsNull() ? f.line : line_of(item), f.path + "[" + std::to_string(i++) + "]"});
    }
    return true;
  }

  Sink& sink() { return sink_; }

 private:
  Sink& sink_;
};

// ---- scalars with YAML types ---------------------------------------------------------------

// YAML 1.2 core-schema resolution of a plain (unquoted) scalar; quoted scalars are strings.
enum class PlainKind { String, Null, Bool, Integer, Float, BadNumber };

bool is_plain(const YAML::Node& node) { return node.Tag() != "!"; }

PlainKind classify_plain(const std::string& s, bool& b, int64_t& i, double& d) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return PlainKind::Null;
  if (s == "true" || s == "True" || s == "TRUE") return b = true, PlainKind::Bool;
  if (s == "false" || s == "False" || s == "FALSE") return b = false, PlainKind::Bool;
  size_t start = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (start < s.size() && std::all_of(s.begin() + static_cast<long>(start), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), i);
    if (ec != std::errc() || ptr != s.data() + s.size()) return PlainKind::BadNumber;
    return PlainKind::Integer;
  }
  // [-+]? ( \.[0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  size_t p = start, digits = 0;
  while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p, ++digits;
  bool dot = p < s.size() && s[p] == '.';
  if (dot) {
    ++p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p, ++digits;
  }
  bool expo = false;
  if (digits && p < s.size() && (s[p] == 'e' || s[p] == 'E')) {
    size_t q = p + 1;
    if (q < s.size() && (s[q] == '-' || s[q] == '+')) ++q;
    size_t exp_digits = 0;
    while (q < s.size() && s[q] >= '0' && s[q] <= '9') ++q, ++exp_digits;
    if (exp_digits) p = q, expo = true;
  }
  if (digits && p == s.size() && (dot || expo)) {
    char* end = nullptr;
    d = std::strtod(s.c_str(), &end);
    if (!std::isfinite(d)) return PlainKind::BadNumber;
    return PlainKind::Float;
  }
  std::string lower;
  for (char c : s) lower += policy::ascii_lower(c);
  if (lower == ".inf" || lower == "-.inf" || lower == "+.inf" || lower == ".nan") return PlainKind::BadNumber;
  return PlainKind::String;
}

std::optional<ClaimValue> read_claim_value(Reader& r, const Field& f) {
  if (!f.node.IsScalar()) {
    r.error(f, f.node.IsNull() ? "has no value; expected a string, number or boolean (null is not a claim "
                                 "value: use exists: false for an absent claim, or quote 'null' for the string)"
                               : "must be a string, number or boolean");
    return std::nullopt;
  }
  const std::string& s = f.node.Scalar();
  if (!is_plain(f.node)) return ClaimValue::of(s);
  bool b = false;
  int64_t i = 0;
  double d = 0;
  switch (classify_plain(s, b, i, d)) {
    case PlainKind::String: return ClaimValue::of(s);
    case PlainKind::Null:
      r.error(f, "null is not a claim value (use exists: false for an absent claim, or quote 'null' for the string)");
      return std::nullopt;
    case PlainKind::Bool: return ClaimValue::of_bool(b);
    case PlainKind::Integer: return ClaimValue::of_int(i);
    case PlainKind::Float: return ClaimValue::of_number(d);
    case PlainKind::BadNumber:
      r.error(f, quote(s) + " is not a usable number (integers must fit in 64 bits; no inf or nan); quote it for a string");
      return std::nullopt;
  }
  return std::nullopt;
}

// ---- value grammars -------------------------------------------------------------------------

// RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
bool is_scope_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b == 0x21 || (b >= 0x23 && b <= 0x5B) || (b >= 0x5D && b <= 0x7E);
  });
}

bool is_route_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
  });
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// ---- routes ---------------------------------------------------------------------------------

struct LoadedRoute {
  Route route;
  std::string key;  // "routes[3]"
  size_t file_rank = 0;
};

class PolicyReader {
 public:
  PolicyReader(Sink& sink, const GatewayConfig& cfg, size_t file_rank)
      : r_(sink), cfg_(cfg), file_rank_(file_rank) {}

  void read(const YAML::Node& root, std::vector<LoadedRoute>& out) {
    MapView top(r_.sink(), Field{root, line_of(root), ""}, {"routes", "default"});
    if (!top.ok()) return;
    if (const Field* f = top.find("default")) {
      auto s = r_.scalar(*f, "deny");
      if (s && *s != "deny") {
        r_.error(*f, quote(*s) + " is not supported: the only value is 'deny' (a request no route matches gets 404)");
      }
    }
    const Field* routes = top.find("routes");
    if (!routes || routes->node.IsNull()) return;  // no routes: allowed (this file adds nothing)
    r_.list(*routes, "routes", "", [&](const Field& item) {
      size_t before = r_.sink().errors.size();
      LoadedRoute lr;
      lr.key = item.path;
      lr.file_rank = file_rank_;
      read_route(item, lr.route);
      if (r_.sink().errors.size() == before) out.push_back(std::move(lr));
    });
  }

 private:
  Reader r_;
  const GatewayConfig& cfg_;
  size_t file_rank_;

  void read_route(const Field& item, Route& route) {
    MapView m(r_.sink(), item, {"name", "match", "auth", "upstream", "issuers", "require"});
    if (!m.ok()) return;
    route.file = r_.sink().file;
    route.line = item.line;
    if (const Field* f = r_.require(m, "name", "a unique name, used in logs and metrics")) {
      if (auto s = r_.string(*f)) {
        if (!is_route_name(*s)) {
          r_.error(*f, quote(*s) + " is not a valid route name (letters, digits, '-', '_', '.', ':'; at most 128)");
        } else {
          route.name = *s;
        }
      }
    }
    if (const Field* f = r_.require(m, "match", "e.g. match: {path_prefix: /orders, methods: [GET]}")) {
      read_match(*f, route);
    }
    if (const Field* f = m.find("auth")) {
      if (auto s = r_.scalar(*f, "none, optional or required")) {
        if (*s == "none") {
          route.auth = policy::AuthMode::None;
        } else if (*s == "optional") {
          route.auth = policy::AuthMode::Optional;
        } else if (*s == "required") {
          route.auth = policy::AuthMode::Required;
        } else {
          r_.error(*f, quote(*s) + " is not an auth mode (none, optional or required)");
        }
      }
    }
    const Field* up = m.find("upstream");
    std::optional<std::string> named = up ? r_.string(*up) : std::optional<std::string>("default");
    if (named) {
      const std::string& upstream = *named;
      auto it = std::find_if(cfg_.upstreams.begin(), cfg_.upstreams.end(),
                             [&](const UpstreamConfig& u) { return u.name == upstream; });
      if (it == cfg_.upstreams.end()) {
        std::string known;
        for (const auto& u : cfg_.upstreams) known += (known.empty() ? "" : ", ") + u.name;
        std::string msg = "no upstream named " + quote(upstream) + " in " + cfg_.file + " (known: " +
                          (known.empty() ? "none" : known) + ")";
        if (up) {
          r_.error(*up, msg);
        } else {
          r_.sink().add(m.line(), m.child_path("upstream"), msg + "; routes without `upstream` use 'default'");
        }
      } else {
        route.upstream = static_cast<size_t>(it - cfg_.upstreams.begin());
        route.upstream_name = upstream;
      }
    }
    const Field* issuers = m.find("issuers");
    const Field* require = m.find("require");
    if (route.auth == policy::AuthMode::None) {
      if (issuers) r_.error(*issuers, "not allowed on an auth: none route (no token is checked there)");
      if (require) r_.error(*require, "not allowed on an auth: none route (no token is checked there)");
      return;
    }
    if (issuers) read_issuers(*issuers, route);
    if (require) read_require(*require, route);
  }

  void read_match(const Field& f, Route& route) {
    MapView m(r_.sink(), f, {"host", "path", "path_prefix", "methods"});
    if (!m.ok()) return;
    if (const Field* h = m.find("host")) read_host(*h, route.host);
    const Field* path = m.find("path");
    const Field* prefix = m.find("path_prefix");
    if (path && prefix) {
      r_.error(*prefix, "use either path (exact) or path_prefix, not both");
    } else if (!path && !prefix) {
      r_.sink().add(m.line(), f.path, "needs path (exact) or path_prefix (e.g. path_prefix: / for everything)");
    } else {
      read_path(path ? *path : *prefix, prefix != nullptr, route.path);
    }
    if (const Field* ms = m.find("methods")) read_methods(*ms, route.methods);
  }

  void read_host(const Field& f, policy::HostMatch& out) {
    auto s = r_.string(f);
    if (!s) return;
    std::string host = ascii_lower_copy(*s);
    if (host == "*") {
      r_.error(f, "'*' alone is not a host; leave host out to match every host");
      return;
    }
    bool wildcard = host.rfind("*.", 0) == 0;
    std::string_view name = wildcard ? std::string_view(host).substr(2) : std::string_view(host);
    if (name.find('*') != std::string_view::npos) {
      r_.error(f, quote(*s) + ": a wildcard is only allowed as a whole leading label ('*.example.com')");
      return;
    }
    if (!name.empty() && name.front() == '[') {
      r_.error(f, quote(*s) + ": write an IPv6 address without brackets");
      return;
    }
    if (size_t colon = name.rfind(':'); colon != std::string_view::npos && !is_valid_host(name)) {
      std::string_view port = name.substr(colon + 1);
      if (!port.empty() && is_bare_number(port) && is_valid_host(name.substr(0, colon))) {
        r_.error(f, quote(*s) + " has a port; write the host alone (the Host header's port is ignored in matching)");
        return;
      }
    }
    if (!is_valid_host(name)) {
      r_.error(f, quote(*s) + " is not a valid host name (e.g. api.example.com or *.example.com)");
      return;
    }
    if (wildcard && name.find(':') != std::string_view::npos) {
      r_.error(f, quote(*s) + ": a wildcard cannot apply to an IP address");
      return;
    }
    out.kind = wildcard ? policy::HostMatch::Kind::Wildcard : policy::HostMatch::Kind::Exact;
    out.value = wildcard ? std::string(host.substr(1)) : host;
  }

  void read_path(const Field& f, bool prefix, policy::PathMatch& out) {
    auto s = r_.string(f);
    if (!s) return;
    if (s->front() != '/') {
      r_.error(f, quote(*s) + " must start with '/'");
      return;
    }
    std::string canonical;
    if (auto err = http::normalize_path(*s, canonical); err != http::PathError::None) {
      r_.error(f, quote(*s) + " is not a valid request path (" + std::string(http::to_string(err)) +
                      "); such requests are refused with 400 before routing");
      return;
    }
    if (canonical != *s) {
      r_.error(f, quote(*s) + " is not canonical: requests are matched after normalization, so write " +
                      quote(canonical));
      return;
    }
    if (prefix && s->find(';') != std::string::npos) {
      r_.error(f, quote(*s) + ": path_prefix cannot contain ';' (matrix parameters are removed from request "
                              "segments before prefix matching, so it would never match)");
      return;
    }
    if (prefix && s->size() > 1 && s->back() == '/') {
      r_.error(f, quote(*s) + " must not end with '/': " + quote(s->substr(0, s->size() - 1)) +
                      " already covers itself, its trailing-slash form and everything below");
      return;
    }
    out.prefix = prefix;
    out.value = *s;
  }

  void read_methods(const Field& f, policy::MethodSet& out) {
    out.all = false;
    r_.list(f, "methods", "leave methods out to allow every method", [&](const Field& item) {
      auto s = r_.string(item);
      if (!s) return;
      if (!is_token(*s)) {
        r_.error(item, quote(*s) + " is not a method token (e.g. GET, POST)");
        return;
      }
      std::string m = upper(*s);
      if (m == "CONNECT" || m == "TRACE") {
        r_.error(item, m + " is always refused by the gateway (405); it cannot be routed");
        return;
      }
      if (std::find(out.names.begin(), out.names.end(), m) != out.names.end()) {
        r_.error(item, m + " is listed twice");
        return;
      }
      out.names.push_back(m);
      if (uint32_t bit = policy::method_bit(m)) {
        out.known |= bit;
      } else {
        out.extension.push_back(m);
      }
    });
  }

  void read_issuers(const Field& f, Route& route) {
    r_.list(f, "issuer names", "leave issuers out to accept every issuer", [&](const Field& item) {
      auto s = r_.string(item);
      if (!s) return;
      auto it = std::find_if(cfg_.issuers.begin(), cfg_.issuers.end(),
                             [&](const IssuerConfig& i) { return i.name == *s; });
      if (it == cfg_.issuers.end()) {
        std::string known;
        for (const auto& i : cfg_.issuers) known += (known.empty() ? "" : ", ") + i.name;
        r_.error(item, "no issuer named " + quote(*s) + " in " + cfg_.file + " (known: " +
                           (known.empty() ? "none" : known) + ")");
        return;
      }
      size_t index = static_cast<size_t>(it - cfg_.issuers.begin());
      if (std::find(route.issuers.begin(), route.issuers.end(), index) != route.issuers.end()) {
        r_.error(item, quote(*s) + " is listed twice");
        return;
      }
      route.issuers.push_back(index);
    });
  }

  void read_require(const Field& f, Route& route) {
    MapView m(r_.sink(), f, {"scopes", "claims"});
    if (!m.ok()) return;
    if (const Field* s = m.find("scopes")) read_scopes(*s, route);
    if (const Field* c = m.find("claims")) read_claims(*c, route);
  }

  void read_scopes(const Field& f, Route& route) {
    MapView m(r_.sink(), f, {"all_of", "any_of"});
    if (!m.ok()) return;
    const Field* all = m.find("all_of");
    const Field* any = m.find("any_of");
    if (all && any) {
      r_.error(*any, "use either all_of or any_of, not both");
      return;
    }
    if (!all && !any) {
      r_.sink().add(m.line(), f.path, "needs all_of or any_of (a list of scopes)");
      return;
    }
    route.scopes.mode = all ? policy::ScopeRequirement::Mode::AllOf : policy::ScopeRequirement::Mode::AnyOf;
    std::vector<std::string> scopes;
    bool ok = r_.list(*(all ? all : any), "scopes", "leave scopes out to require none", [&](const Field& item) {
      auto s = r_.string(item);
      if (!s) return;
      if (!is_scope_token(*s)) {
        r_.error(item, quote(*s) + " is not a scope token (one word: no spaces, quotes or backslashes)");
        return;
      }
      if (std::find(scopes.begin(), scopes.end(), *s) != scopes.end()) {
        r_.error(item, quote(*s) + " is listed twice");
        return;
      }
      scopes.push_back(*s);
    });
    if (!ok) return;
    route.has_scopes = true;
    route.scopes.scopes = scopes;
    for (const auto& s : scopes) route.required_scopes += (route.required_scopes.empty() ? "" : " ") + s;
  }

  void read_claims(const Field& f, Route& route) {
    MapView m(r_.sink(), f);
    if (!m.ok()) return;
    if (m.size() == 0) {
      r_.error(f, "must not be empty; leave claims out to require none");
      return;
    }
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string& name = m.key(i);
      const Field& cf = m.field(i);
      if (name.empty() || has_control(name)) {
        r_.sink().add(cf.key_line, cf.path, "claim name must be non-empty and free of control characters");
        continue;
      }
      MapView ops(r_.sink(), cf, {"equals", "one_of", "contains", "exists"});
      if (!ops.ok()) continue;
      if (ops.size() != 1) {
        if (ops.size() > 1) {
          r_.error(ops.field(1), "give one of equals, one_of, contains or exists per claim");
        } else {
          r_.sink().add(ops.line(), cf.path, "needs one of equals, one_of, contains or exists");
        }
        continue;
      }
      ClaimRequirement req;
      req.name = name;
      const std::string& op = ops.key(0);
      const Field& v = ops.field(0);
      if (op == "equals" || op == "contains") {
        req.op = op == "equals" ? ClaimRequirement::Op::Equals : ClaimRequirement::Op::Contains;
        auto value = read_claim_value(r_, v);
        if (!value) continue;
        req.values.push_back(std::move(*value));
      } else if (op == "one_of") {
        req.op = ClaimRequirement::Op::OneOf;
        bool bad = false;
        bool ok = r_.list(v, "values", "one_of needs at least one value", [&](const Field& item) {
          auto value = read_claim_value(r_, item);
          if (value) {
            req.values.push_back(std::move(*value));
          } else {
            bad = true;
          }
        });
        if (!ok || bad) continue;
      } else {
        req.op = ClaimRequirement::Op::Exists;
        auto b = r_.boolean(v);
        if (!b) continue;
        req.exists = *b;
      }
      route.claims.push_back(std::move(req));
    }
  }
};

// ---- cross-file checks --------------------------------------------------------------------------

bool shadows(const Route& earlier, const Route& later) {
  return earlier.host.covers(later.host) && earlier.path.covers(later.path) && earlier.methods.covers(later.methods);
}

std::string describe_match(const Route& r) {
  std::string out = r.path.to_string();
  if (r.host.kind != policy::HostMatch::Kind::Any) out += ", host " + r.host.to_string();
  if (!r.methods.all) {
    out += ", methods";
    for (const auto& m : r.methods.names) out += " " + m;
  }
  return out;
}

struct FileText {
  std::string file;
  std::string text;
  std::string read_error;  // non-empty: could not be read
};

PolicyLoadResult build(const std::vector<FileText>& files, const GatewayConfig& cfg,
                       std::vector<ConfigError> pre_errors) {
  std::vector<LoadedRoute> routes;
  std::vector<std::pair<size_t, ConfigError>> errors;  // (file rank, error)
  for (auto& e : pre_errors) errors.emplace_back(0, std::move(e));
  auto set = std::make_shared<policy::PolicySet>();

  for (size_t rank = 0; rank < files.size(); ++rank) {
    const FileText& ft = files[rank];
    Sink sink;
    sink.file = ft.file;
    set->files.push_back(ft.file);
    if (!ft.read_error.empty()) {
      sink.add(0, "", ft.read_error);
    } else {
      try {
        std::vector<YAML::Node> docs = load_all_documents(ft.text);
        if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
          sink.add(0, "", "file is empty; expected routes: [...] (write 'routes: []' for a file with no routes)");
        } else if (docs.size() > 1) {
          sink.add(line_of(docs[1]), "", "has more than one YAML document ('---'); put everything in one");
        } else {
          PolicyReader(sink, cfg, rank + 1).read(docs[0], routes);
        }
      } catch (const YAML::Exception& e) {
        sink.add(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg);
      } catch (const std::exception& e) {
        sink.add(0, "", std::string("cannot load: ") + e.what());
      }
    }
    for (auto& e : sink.errors) errors.emplace_back(rank + 1, std::move(e));
  }

  // Meaning across files: names are unique, no route is dead behind an earlier one.
  std::map<std::string, const LoadedRoute*> names;
  for (size_t j = 0; j < routes.size(); ++j) {
    const LoadedRoute& lr = routes[j];
    auto [it, inserted] = names.emplace(lr.route.name, &lr);
    if (!inserted) {
      errors.emplace_back(lr.file_rank, ConfigError{lr.route.file, lr.route.line, lr.key + ".name",
                                                    "duplicate route name " + quote(lr.route.name) +
                                                        " (first defined at " + it->second->route.where() + ")"});
    }
    for (size_t i = 0; i < j; ++i) {
      if (shadows(routes[i].route, lr.route)) {
        errors.emplace_back(
            lr.file_rank,
            ConfigError{lr.route.file, lr.route.line, lr.key,
                        "route " + quote(lr.route.name) + " (" + lr.route.where() + ") is unreachable: route " +
                            quote(routes[i].route.name) + " (" + routes[i].route.where() + ", " +
                            describe_match(routes[i].route) +
                            ") comes first and matches every request it would; move it below or narrow the earlier one"});
        break;
      }
    }
  }

  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.line < b.second.line;
  });
  PolicyLoadResult result;
  for (auto& [rank, e] : errors) result.errors.push_back(std::move(e));
  if (!result.errors.empty()) return result;

  for (const auto& i : cfg.issuers) set->issuers.push_back(policy::IssuerRef{i.name, i.issuer, i.scope_claim});
  for (const auto& u : cfg.upstreams) set->upstreams.push_back(u.name);
  for (auto& lr : routes) set->routes.push_back(std::move(lr.route));
  set->compile();
  result.policies = std::move(set);
  return result;
}

// ---- policy tests -------------------------------------------------------------------------------

// YAML -> JSON for test claims, with YAML 1.2 core-schema typing of plain scalars.
bool to_json(Reader& r, const Field& f, rapidjson::Writer<rapidjson::StringBuffer>& w, int depth) {
  if (depth > 16) {
    r.error(f, "nested too deeply");
    return false;
  }
  const YAML::Node& n = f.node;
  if (n.IsMap()) {
    MapView m(r.sink(), f);
    if (!m.ok()) return false;
    w.StartObject();
    for (size_t i = 0; i < m.size(); ++i) {
      w.Key(m.key(i).data(), static_cast<rapidjson::SizeType>(m.key(i).size()));
      if (!to_json(r, m.field(i), w, depth + 1)) return false;
    }
    w.EndObject();
    return true;
  }
  if (n.IsSequence()) {
    w.StartArray();
    size_t i = 0;
    for (const auto& item : n) {
      if (!to_json(r, Field{item, item.IsNull() ? f.line : line_of(item), f.path + "[" + std::to_string(i++) + "]"},
                   w, depth + 1)) {
        return false;
      }
    }
    w.EndArray();
    return true;
  }
  if (n.IsNull()) {
    w.Null();
    return true;
  }
  const std::string& s = n.Scalar();
  if (!is_plain(n)) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return true;
  }
  bool b = false;
  int64_t i = 0;
  double d = 0;
  switch (classify_plain(s, b, i, d)) {
    case PlainKind::String: w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); return true;
    case PlainKind::Null: w.Null(); return true;
    case PlainKind::Bool: w.Bool(b); return true;
    case PlainKind::Integer: w.Int64(i); return true;
    case PlainKind::Float: w.Double(d); return true;
    case PlainKind::BadNumber:
      r.error(f, quote(s) + " is not a usable number; quote it for a string");
      return false;
  }
  return false;
}

void read_case(Reader& r, const Field& item, policy::TestCase& tc) {
  MapView m(r.sink(), item, {"name", "request", "token", "expect"});
  if (!m.ok()) return;
  tc.file = r.sink().file;
  tc.line = item.line;
  if (const Field* f = r.require(m, "name")) {
    if (auto s = r.string(*f)) tc.name = *s;
  }
  if (const Field* f = r.require(m, "request", "e.g. request: {method: GET, path: /orders}")) {
    MapView req(r.sink(), *f, {"method", "path", "host", "headers"});
    if (req.ok()) {
      if (const Field* x = r.require(req, "method")) {
        if (auto s = r.string(*x)) tc.request.method = *s;
      }
      if (const Field* x = r.require(req, "path")) {
        if (auto s = r.string(*x)) tc.request.target = *s;
      }
      if (const Field* x = req.find("host")) {
        if (auto s = r.string(*x)) tc.request.host = *s;
      }
      if (const Field* x = req.find("headers")) {
        MapView hs(r.sink(), *x);
        for (size_t i = 0; hs.ok() && i < hs.size(); ++i) {
          auto v = r.scalar(hs.field(i), "a string");
          if (v) tc.request.headers.emplace_back(hs.key(i), *v);
        }
      }
    }
  }
  if (const Field* f = m.find("token")) {
    if (f->node.IsScalar() || f->node.IsNull()) {
      std::string s = f->node.IsNull() ? "none" : f->node.Scalar();
      if (s == "none") {
        tc.token.kind = policy::SimToken::Kind::None;
      } else if (s == "invalid") {
        tc.token.kind = policy::SimToken::Kind::Invalid;
      } else {
        r.error(*f, quote(s) + " is not a token (none, invalid, or {claims: {...}})");
      }
    } else {
      MapView t(r.sink(), *f, {"claims"});
      if (t.ok()) {
        if (const Field* c = r.require(t, "claims", "the token's payload, e.g. {sub: alice, scope: orders:read}")) {
          if (!c->node.IsMap()) {
            r.error(*c, "must be a map of claims");
          } else {
            rapidjson::StringBuffer buf;
            rapidjson::Writer<rapidjson::StringBuffer> w(buf);
            if (to_json(r, *c, w, 1)) {
              tc.token.kind = policy::SimToken::Kind::Claims;
              tc.token.claims_json.assign(buf.GetString(), buf.GetSize());
            }
          }
        }
      }
    }
  }
  if (const Field* f = r.require(m, "expect", "e.g. expect: {status: 403}")) {
    MapView e(r.sink(), *f, {"status", "route", "reason"});
    if (e.ok()) {
      if (const Field* x = r.require(e, "status")) {
        if (auto s = r.scalar(*x, "an HTTP status")) {
          constexpr int kStatuses[] = {200, 400, 401, 403, 404, 405};
          int v = 0;
          auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
          if (ec != std::errc() || ptr != s->data() + s->size() ||
              std::find(std::begin(kStatuses), std::end(kStatuses), v) == std::end(kStatuses)) {
            r.error(*x, quote(*s) + " is not a status a policy decides (200, 400, 401, 403, 404, 405)");
          } else {
            tc.expect_status = v;
          }
        }
      }
      if (const Field* x = e.find("route")) {
        if (auto s = r.string(*x)) tc.expect_route = *s;
      }
      if (const Field* x = e.find("reason")) {
        if (auto s = r.string(*x)) tc.expect_reason = *s;
      }
    }
  }
}

}  // namespace

PolicyLoadResult parse_policy_texts(const std::vector<std::pair<std::string, std::string>>& files,
                                    const GatewayConfig& cfg) {
  std::vector<FileText> texts;
  for (const auto& [file, text] : files) texts.push_back(FileText{file, text, ""});
  return build(texts, cfg, {});
}

PolicyLoadResult parse_policy_text(std::string_view yaml, const std::string& file, const GatewayConfig& cfg) {
  return parse_policy_texts({{file, std::string(yaml)}}, cfg);
}

PolicyLoadResult load_policies(const std::vector<std::string>& patterns, const GatewayConfig& cfg) {
  std::vector<ConfigError> pre;
  std::vector<FileText> files;
  std::vector<std::string> seen;
  for (const auto& pattern : patterns) {
    glob_t g{};
    int rc = glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      pre.push_back(ConfigError{cfg.file, 0, "policies", quote(pattern) + " matches no file"});
    } else if (rc != 0) {
      pre.push_back(ConfigError{cfg.file, 0, "policies", quote(pattern) + ": cannot expand (read error)"});
    } else {
      // glob(3) sorts its matches unless told not to.
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::string path = g.gl_pathv[i];
        if (std::find(seen.begin(), seen.end(), path) != seen.end()) continue;
        seen.push_back(path);
        FileText ft{path, "", ""};
        ft.text = read_file(path, ft.read_error, 4u << 20);
        files.push_back(std::move(ft));
      }
    }
    globfree(&g);
  }
  return build(files, cfg, std::move(pre));
}

PolicyTestsResult parse_policy_tests(std::string_view yaml, const std::string& file) {
  Sink sink;
  sink.file = file;
  PolicyTestsResult result;
  try {
    std::vector<YAML::Node> docs = load_all_documents(std::string(yaml));
    if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
      sink.add(0, "", "file is empty; expected cases: [...]");
    } else if (docs.size() > 1) {
      sink.add(line_of(docs[1]), "", "has more than one YAML document ('---'); put everything in one");
    } else {
      Reader r(sink);
      MapView top(sink, Field{docs[0], line_of(docs[0]), ""}, {"cases"});
      if (top.ok()) {
        if (const Field* cases = r.require(top, "cases")) {
          std::map<std::string, int> names;
          r.list(*cases, "test cases", "write at least one case", [&](const Field& item) {
            size_t before = sink.errors.size();
            policy::TestCase tc;
            read_case(r, item, tc);
            if (sink.errors.size() != before) return;
            if (auto [it, inserted] = names.emplace(tc.name, tc.line); !inserted) {
              sink.add(tc.line, item.path + ".name",
                       "duplicate case name " + quote(tc.name) + " (first on line " + std::to_string(it->second) + ")");
              return;
            }
            result.cases.push_back(std::move(tc));
          });
        }
      }
    }
  } catch (const YAML::Exception& e) {
    sink.add(e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    sink.add(0, "", std::string("cannot load: ") + e.what());
  }
  std::stable_sort(sink.errors.begin(), sink.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  result.errors = std::move(sink.errors);
  if (!result.errors.empty()) result.cases.clear();
  return result;
}

PolicyTestsResult load_policy_tests(const std::string& path) {
  std::string error;
  std::string text = read_file(path, error, 4u << 20);
  if (!error.empty()) {
    PolicyTestsResult result;
    result.errors.push_back(ConfigError{path, 0, "", error});
    return result;
  }
  return parse_policy_tests(text, path);
}

}  // namespace portcullis::config
