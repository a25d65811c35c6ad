// Builds routes and policy sets in code (the policy library has no YAML), the way the loader
// would: lowercase hosts, uppercase methods, precomputed scope text, a compiled index.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "auth/claims.h"
#include "policy/model.h"

namespace portcullis::policy::testing {

struct RouteSpec {
  std::string name{};
  std::string host{};         // "", "api.example.com" or "*.example.com"
  std::string path{};         // exact
  std::string path_prefix{};  // or prefix
  std::vector<std::string> methods{};  // empty: all
  AuthMode auth = AuthMode::Required;
};

inline Route make_route(const RouteSpec& s, int line = 1) {
  Route r;
  r.name = s.name;
  r.file = "test.yaml";
  r.line = line;
  if (!s.host.empty()) {
    if (s.host.rfind("*.", 0) == 0) {
      r.host.kind = HostMatch::Kind::Wildcard;
      r.host.value = s.host.substr(1);
    } else {
      r.host.kind = HostMatch::Kind::Exact;
      r.host.value = s.host;
    }
  }
  r.path.prefix = s.path.empty();
  r.path.value = s.path.empty() ? s.path_prefix : s.path;
  if (!s.methods.empty()) {
    r.methods.all = false;
    for (const auto& m : s.methods) {
      r.methods.names.push_back(m);
      if (uint32_t bit = method_bit(m)) {
        r.methods.known |= bit;
      } else {
        r.methods.extension.push_back(m);
      }
    }
  }
  r.auth = s.auth;
  return r;
}

inline std::shared_ptr<PolicySet> make_set(std::initializer_list<RouteSpec> specs) {
  auto set = std::make_shared<PolicySet>();
  int line = 1;
  for (const auto& s : specs) set->routes.push_back(make_route(s, line++));
  set->issuers.push_back(IssuerRef{"corp", "https://auth.example.com", "scope"});
  set->issuers.push_back(IssuerRef{"partner", "https://partner.example.net", "scp"});
  set->upstreams.push_back("default");
  set->compile();
  return set;
}

inline void set_scopes(Route& r, ScopeRequirement::Mode mode, std::vector<std::string> scopes) {
  r.has_scopes = true;
  r.scopes.mode = mode;
  r.scopes.scopes = std::move(scopes);
  r.required_scopes.clear();
  for (const auto& s : r.scopes.scopes) r.required_scopes += (r.required_scopes.empty() ? "" : " ") + s;
}

inline ClaimRequirement claim(std::string name, ClaimRequirement::Op op, std::vector<ClaimValue> values,
                              bool exists = true) {
  ClaimRequirement c;
  c.name = std::move(name);
  c.op = op;
  c.values = std::move(values);
  c.exists = exists;
  return c;
}

// An Identity with these scopes and a payload parsed from `claims_json`.
inline auth::Identity identity(std::vector<std::string> scopes, const char* claims_json = "{}") {
  auth::Identity id;
  id.issuer = "https://auth.example.com";
  id.subject = "alice";
  id.scopes = std::move(scopes);
  id.claims.Parse(claims_json);
  return id;
}

}  // namespace portcullis::policy::testing
