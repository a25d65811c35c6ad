// The compiled, immutable route set (PRODUCT.md "Policy files"). Built once per load by
// config/policy_loader and shared as shared_ptr<const PolicySet>; a request holds it from its
// start, so a reload never changes the routes under it.
//
// Header-only on purpose: config/ builds a PolicySet (and its index) but does not link
// portcullis_policy (CMakeLists.txt), so everything the loader needs lives inline here.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ascii.h"

namespace portcullis::policy {

enum class AuthMode { None, Optional, Required };

// ---- methods ----------------------------------------------------------------------------

// The common methods get a bit each, so "does this route allow GET" is one AND on the hot path.
// Anything else (extension methods) is compared as a string.
inline constexpr std::string_view kKnownMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "PATCH",
                                                     "DELETE",  "OPTIONS", "CONNECT", "TRACE"};

// Bit of a known method (case-sensitive: methods are case-sensitive tokens, RFC 9110 §9.1);
// 0 for any other method.
inline uint32_t method_bit(std::string_view method) {
  for (size_t i = 0; i < std::size(kKnownMethods); ++i) {
    if (kKnownMethods[i] == method) return uint32_t{1} << i;
  }
  return 0;
}

struct MethodSet {
  bool all = true;                       // `methods` left out: every method
  uint32_t known = 0;                    // bits of kKnownMethods
  std::vector<std::string> extension;    // other tokens, uppercase, file order
  std::vector<std::string> names;        // as listed (uppercased), for messages and Allow

  bool allows(std::string_view method, uint32_t bit) const {
    if (all) return true;
    if (bit) return (known & bit) != 0;
    return std::find(extension.begin(), extension.end(), method) != extension.end();
  }
  bool allows(std::string_view method) const { return allows(method, method_bit(method)); }
  // Every method `other` allows, this one allows too.
  bool covers(const MethodSet& other) const {
    if (all) return true;
    if (other.all) return false;
    if ((other.known & ~known) != 0) return false;
    return std::all_of(other.extension.begin(), other.extension.end(),
                       [&](const std::string& m) { return allows(m, 0); });
  }
};

// ---- hosts ------------------------------------------------------------------------------

using portcullis::ascii_lower;
inline bool iequals(std::string_view a, std::string_view b) { return ascii_iequals(a, b); }

// The host part of a Host header value, as a view: the port is dropped ("api:8080" -> "api"),
// brackets around an IPv6 literal are dropped, and one trailing dot ("api.example.com." is the
// same DNS name and must not dodge a host-pinned route) is dropped. No allocation.
inline std::string_view request_host(std::string_view host_header) {
  std::string_view h = host_header;
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    h = close == std::string_view::npos ? h.substr(1) : h.substr(1, close - 1);
  } else if (size_t colon = h.find(':'); colon != std::string_view::npos) {
    h = h.substr(0, colon);
  }
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  return h;
}

struct HostMatch {
  enum class Kind { Any, Exact, Wildcard } kind = Kind::Any;
  // Lowercase. Exact: the host. Wildcard: the suffix with its dot (".example.com" for
  // "*.example.com"), matching any subdomain at any depth but never the apex.
  std::string value;

  // `host` as returned by request_host(); compared case-insensitively.
  bool matches(std::string_view host) const {
    switch (kind) {
      case Kind::Any: return true;
      case Kind::Exact: return iequals(host, value);
      case Kind::Wildcard:
        return host.size() > value.size() && iequals(host.substr(host.size() - value.size()), value);
    }
    return false;
  }
  // Every host `other` matches, this one matches too.
  bool covers(const HostMatch& other) const {
    switch (kind) {
      case Kind::Any: return true;
      case Kind::Exact: return other.kind == Kind::Exact && other.value == value;
      case Kind::Wildcard:
        if (other.kind == Kind::Any) return false;
        if (other.kind == Kind::Exact) return matches(other.value);
        // *.a.example.com is covered by *.example.com; so is *.example.com itself.
        return other.value.size() >= value.size() &&
               other.value.compare(other.value.size() - value.size(), value.size(), value) == 0;
    }
    return false;
  }
  std::string to_string() const {
    switch (kind) {
      case Kind::Any: return "*";
      case Kind::Exact: return value;
      case Kind::Wildcard: return "*" + value;
    }
    return {};
  }
};

// ---- paths ------------------------------------------------------------------------------

// A segment as path_prefix matching sees it: its ";params" removed, because Tomcat and Jetty
// serve /admin;x=1/users as /admin/users.
inline std::string_view strip_params(std::string_view segment) {
  size_t semi = segment.find(';');
  return semi == std::string_view::npos ? segment : segment.substr(0, semi);
}

// Calls fn(segment) for each segment of a normalized path after the leading '/', params
// stripped; stops early when fn returns false. "/" has one empty segment; so does the end of
// "/a/" (which is how "/orders/" stays under "/orders").
template <class Fn>
inline void for_each_prefix_segment(std::string_view path, Fn&& fn) {
  if (path.empty() || path.front() != '/') return;
  size_t pos = 1;
  for (;;) {
    size_t slash = path.find('/', pos);
    std::string_view seg = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (!fn(strip_params(seg))) return;
    if (slash == std::string_view::npos) return;
    pos = slash + 1;
  }
}

// Segment-aware prefix test on normalized paths: "/" covers everything; "/orders" covers
// "/orders", "/orders/7", "/orders;v=1/7", never "/ordersX". `prefix` has no params and no
// trailing slash (the loader guarantees it). Used at load time (shadowing) and by
// PathMatch::matches; the matcher walks the compiled trie instead.
inline bool prefix_covers_path(std::string_view prefix, std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (prefix == "/") return true;
  // Lockstep: each prefix segment must equal the path's segment at the same depth.
  size_t pos = 1;    // start of the path's next segment
  bool more = true;  // whether the path has a segment at `pos`
  bool ok = true;
  for_each_prefix_segment(prefix, [&](std::string_view want) {
    if (!more) return ok = false;
    size_t slash = path.find('/', pos);
    std::string_view seg = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (strip_params(seg) != want) return ok = false;
    if (slash == std::string_view::npos) {
      more = false;
    } else {
      pos = slash + 1;
    }
    return true;
  });
  return ok;
}

struct PathMatch {
  bool prefix = false;  // path_prefix (segment-aware) rather than path (exact)
  std::string value;    // canonical: http::normalize_path(value) == value

  bool matches(std::string_view path) const { return prefix ? prefix_covers_path(value, path) : path == value; }
  // Every path `other` matches, this one matches too.
  bool covers(const PathMatch& other) const {
    if (!prefix) return !other.prefix && other.value == value;
    return prefix_covers_path(value, other.value);
  }
  std::string to_string() const { return (prefix ? "path_prefix " : "path ") + value; }
};

// ---- requirements -----------------------------------------------------------------------

// A scalar from a policy file. Types never convert: "42" (a quoted YAML string) is not 42.
struct ClaimValue {
  enum class Type { String, Integer, Number, Bool } type = Type::String;
  std::string text;     // String
  int64_t integer = 0;  // Integer (compared exactly)
  double number = 0;    // Number
  bool boolean = false; // Bool

  static ClaimValue of(std::string s) {
    ClaimValue v;
    v.text = std::move(s);
    return v;
  }
  static ClaimValue of_int(int64_t i) {
    ClaimValue v;
    v.type = Type::Integer;
    v.integer = i;
    return v;
  }
  static ClaimValue of_number(double d) {
    ClaimValue v;
    v.type = Type::Number;
    v.number = d;
    return v;
  }
  static ClaimValue of_bool(bool b) {
    ClaimValue v;
    v.type = Type::Bool;
    v.boolean = b;
    return v;
  }
  // JSON-ish rendering for explain output: strings quoted, numbers and bools bare.
  std::string to_string() const {
    switch (type) {
      case Type::String: return "\"" + text + "\"";
      case Type::Integer: return std::to_string(integer);
      case Type::Number: {
        std::string s = std::to_string(number);
        while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
        return s;
      }
      case Type::Bool: return boolean ? "true" : "false";
    }
    return {};
  }
};

struct ClaimRequirement {
  enum class Op { Equals, OneOf, Contains, Exists } op = Op::Equals;
  std::string name;                // a top-level claim name, compared exactly (dots are literal)
  std::vector<ClaimValue> values;  // Equals/Contains: one; OneOf: one or more; Exists: none
  bool exists = true;              // Exists: whether the claim must be present (any value, null too)
};

struct ScopeRequirement {
  enum class Mode { AllOf, AnyOf } mode = Mode::AllOf;
  std::vector<std::string> scopes;  // whole tokens, compared case-sensitively
};

// ---- routes -----------------------------------------------------------------------------

struct Route {
  std::string name;
  std::string file;  // where it was written, for messages
  int line = 0;

  HostMatch host;
  PathMatch path;
  MethodSet methods;

  AuthMode auth = AuthMode::Required;
  std::vector<size_t> issuers;  // indices into PolicySet::issuers (= config issuers); empty: all
  size_t upstream = 0;          // index into PolicySet::upstreams (= config upstreams)
  std::string upstream_name = "default";

  bool has_scopes = false;
  ScopeRequirement scopes;
  std::vector<ClaimRequirement> claims;  // all must hold
  // Space-separated list of every scope the route names, for WWW-Authenticate's scope="...";
  // precomputed so a 403 costs no allocation.
  std::string required_scopes;

  bool has_requirements() const { return has_scopes || !claims.empty(); }
  std::string where() const { return file + ":" + std::to_string(line); }
};

// The config issuer a route may name, copied so the policy needs no config at run time.
struct IssuerRef {
  std::string name;
  std::string issuer;                 // "iss" value
  std::string scope_claim = "scope";  // "scope" (space-separated string) or an array claim ("scp")
};

// Candidate routes for a path, found in O(path length) whatever the number of routes.
struct PathIndex {
  struct Node {
    std::vector<std::pair<std::string, uint32_t>> children;  // segment -> node, sorted
    std::vector<uint32_t> routes;                            // path_prefix routes ending here, ascending
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<Node> nodes;  // nodes[0]: the root, i.e. path_prefix "/"
  std::unordered_map<std::string, std::vector<uint32_t>, Hash, std::equal_to<>> exact;

  const Node* child(const Node& n, std::string_view seg) const {
    auto it = std::lower_bound(n.children.begin(), n.children.end(), seg,
                               [](const auto& c, std::string_view s) { return std::string_view(c.first) < s; });
    if (it == n.children.end() || it->first != seg) return nullptr;
    return &nodes[it->second];
  }

  void build(const std::vector<Route>& routes) {
    nodes.assign(1, Node{});
    exact.clear();
    for (uint32_t id = 0; id < routes.size(); ++id) {
      const PathMatch& p = routes[id].path;
      if (!p.prefix) {
        exact[p.value].push_back(id);
        continue;
      }
      uint32_t at = 0;
      if (p.value != "/") {
        for_each_prefix_segment(p.value, [&](std::string_view seg) {
          auto& kids = nodes[at].children;
          auto it = std::lower_bound(kids.begin(), kids.end(), seg,
                                     [](const auto& c, std::string_view s) { return std::string_view(c.first) < s; });
          if (it != kids.end() && it->first == seg) {
            at = it->second;
          } else {
            auto next = static_cast<uint32_t>(nodes.size());
            kids.insert(it, {std::string(seg), next});
            nodes.emplace_back();  // may reallocate: `kids` is not used after this
            at = next;
          }
          return true;
        });
      }
      nodes[at].routes.push_back(id);
    }
  }
};

struct PolicySet {
  std::vector<Route> routes;  // file order across files; a route's id is its index
  bool default_deny = true;   // the only mode: no match is a 404
  std::vector<std::string> files;
  std::vector<IssuerRef> issuers;       // the gateway config's issuers, same order
  std::vector<std::string> upstreams;   // the gateway config's upstream names, same order
  PathIndex index;

  // Call once after routes are final (the loader does).
  void compile() { index.build(routes); }

  const Route* find(std::string_view name) const {
    for (const auto& r : routes) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }
  // Index of the issuer whose "iss" is `iss`, or npos.
  size_t issuer_index(std::string_view iss) const {
    for (size_t i = 0; i < issuers.size(); ++i) {
      if (issuers[i].issuer == iss) return i;
    }
    return npos;
  }
  static constexpr size_t npos = static_cast<size_t>(-1);
};

}  // namespace portcullis::policy
