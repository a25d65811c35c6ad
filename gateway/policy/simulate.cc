#include "policy/simulate.h"

#include "auth/json.h"
#include "http/path.h"

namespace portcullis::policy {
namespace {

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

// Bounded and free of control bytes, for explain lines that echo the request.
std::string printable(std::string_view s) {
  constexpr size_t kMax = 200;
  std::string out;
  for (char c : s.substr(0, kMax)) {
    auto b = static_cast<unsigned char>(c);
    out += (b < 0x20 || b >= 0x7f) ? '?' : c;
  }
  if (s.size() > kMax) out += "...";
  return out;
}

auth::AuthStatus add_scope(std::string_view s, std::vector<std::string>& scopes) {
  if (s.empty()) return auth::AuthStatus::Ok;
  if (auth::has_control_char(s)) return auth::AuthStatus::JwtClaimControlChar;
  scopes.emplace_back(s);
  return auth::AuthStatus::Ok;
}

auth::AuthStatus read_scopes(const rapidjson::Value& payload, const std::string& claim, std::vector<std::string>& out) {
  out.clear();
  const rapidjson::Value name(rapidjson::StringRef(claim.data(), static_cast<rapidjson::SizeType>(claim.size())));
  auto it = payload.FindMember(name);
  if (it == payload.MemberEnd()) return auth::AuthStatus::Ok;
  const rapidjson::Value& v = it->value;
  if (v.IsString()) {
    std::string_view rest = auth::json_string_view(v);
    while (!rest.empty()) {
      size_t sp = rest.find(' ');
      if (auto st = add_scope(rest.substr(0, sp), out); st != auth::AuthStatus::Ok) return st;
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
    return auth::AuthStatus::Ok;
  }
  if (!v.IsArray()) return auth::AuthStatus::JwtScopeInvalid;
  for (const auto& e : v.GetArray()) {
    if (!e.IsString()) return auth::AuthStatus::JwtScopeInvalid;
    std::string_view s = auth::json_string_view(e);
    if (s.find(' ') != std::string_view::npos) return auth::AuthStatus::JwtScopeInvalid;
    if (auto st = add_scope(s, out); st != auth::AuthStatus::Ok) return st;
  }
  return auth::AuthStatus::Ok;
}

std::string quoted_header_value(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

auth::AuthStatus identity_from_claims(const PolicySet& set, std::string_view claims_json, auth::Identity& out,
                                      size_t& issuer_index) {
  rapidjson::Document doc;
  if (auto st = auth::parse_json_object(claims_json, doc); st != auth::AuthStatus::Ok) return st;
  issuer_index = PolicySet::npos;
  const rapidjson::Value& root = doc;  // const iterators: clang's C++20 mode finds == on mutable ones ambiguous
  auto iss = root.FindMember("iss");
  if (iss == root.MemberEnd()) {
    if (set.issuers.size() != 1) return auth::AuthStatus::JwtIssMissing;
    issuer_index = 0;
  } else {
    if (!iss->value.IsString()) return auth::AuthStatus::JwtIssNotString;
    std::string_view v = auth::json_string_view(iss->value);
    if (auth::has_control_char(v)) return auth::AuthStatus::JwtClaimControlChar;
    issuer_index = set.issuer_index(v);
    if (issuer_index == PolicySet::npos) return auth::AuthStatus::JwtIssUnknown;
  }
  out.issuer = set.issuers[issuer_index].issuer;
  out.subject.clear();
  if (auto sub = root.FindMember("sub"); sub != root.MemberEnd()) {
    if (!sub->value.IsString()) return auth::AuthStatus::JwtSubInvalid;
    std::string_view v = auth::json_string_view(sub->value);
    if (auth::has_control_char(v)) return auth::AuthStatus::JwtClaimControlChar;
    out.subject.assign(v);
  }
  if (auto st = read_scopes(doc, set.issuers[issuer_index].scope_claim, out.scopes); st != auth::AuthStatus::Ok) {
    return st;
  }
  out.expires_at = 0;
  out.claims.Swap(doc);
  return auth::AuthStatus::Ok;
}

Decision decide(const PolicySet& set, std::string_view host, std::string_view method,
                std::string_view normalized_path, const TokenState& token, bool explain) {
  Decision d;
  MatchResult m = match(set, host, method, normalized_path);
  if (m.status == MatchResult::Status::NoRoute) {
    d.status = 404;
    d.reason = Reason::NoRoute;
    d.detail = "no route matches (default: deny)";
    if (explain) d.explain.push_back("match: no route (default: deny)");
    return d;
  }
  if (m.status == MatchResult::Status::MethodNotAllowed) {
    d.status = 405;
    d.reason = Reason::MethodNotAllowed;
    d.allow = std::move(m.allow);
    d.detail = "method not allowed";
    if (explain) d.explain.push_back("match: a route matches the host and path but not the method; Allow: " + d.allow);
    return d;
  }
  const Route& route = *m.route;
  d.route = &route;
  if (explain) d.explain.push_back("match: route " + route.name + " (" + route.where() + ")");

  auto finish = [&](Evaluation ev) {
    d.reason = ev.reason;
    d.status = http_status(ev.reason);
    d.detail = std::move(ev.detail);
    for (auto& line : ev.explain) d.explain.push_back(std::move(line));
    if (d.reason == Reason::TokenMissing) {
      d.www_authenticate = "Bearer realm=\"portcullis\"";
    } else if (d.status == 403) {
      d.www_authenticate = "Bearer error=\"insufficient_scope\"";
      if (!ev.required_scopes.empty()) {
        d.www_authenticate += ", scope=\"" + quoted_header_value(ev.required_scopes) + "\"";
      }
    }
    return d;
  };

  if (route.auth == AuthMode::None) return finish(evaluate(route, nullptr, explain));
  if (token.kind == TokenState::Kind::Invalid) {
    d.status = 401;
    d.reason = Reason::TokenInvalid;
    d.detail = token.invalid_reason.empty() ? "invalid token" : token.invalid_reason;
    d.www_authenticate = "Bearer error=\"invalid_token\", error_description=\"" + quoted_header_value(d.detail) + "\"";
    if (explain) d.explain.push_back("token: not met (present but invalid: " + d.detail + ")");
    return d;
  }
  if (token.kind == TokenState::Kind::Absent || !token.identity) return finish(evaluate(route, nullptr, explain));

  if (explain) {
    std::string who = token.issuer_index < set.issuers.size() ? set.issuers[token.issuer_index].name : "?";
    d.explain.push_back("token: valid, issuer " + who + ", subject " + printable(token.identity->subject));
  }
  if (!issuer_allowed(route, token.issuer_index)) {
    d.status = 401;
    d.reason = Reason::IssuerNotAllowed;
    d.detail = "issuer not accepted on this route";
    d.www_authenticate = "Bearer error=\"invalid_token\", error_description=\"" + d.detail + "\"";
    if (explain) d.explain.push_back("issuers: not met (the route accepts other issuers)");
    return d;
  }
  if (explain && !route.issuers.empty()) d.explain.push_back("issuers: met");
  return finish(evaluate(route, token.identity, explain));
}

Decision simulate(const PolicySet& set, const SimRequest& request, const SimToken& token, bool explain) {
  Decision d;
  auto bad_request = [&](std::string why) {
    d.status = 400;
    d.reason = Reason::BadRequest;
    d.detail = std::move(why);
    if (explain) d.explain.push_back("request: rejected with 400 (" + d.detail + ")");
    return d;
  };
  if (!is_token(request.method)) return bad_request("invalid method");
  std::string_view target = request.target;
  std::string_view raw_path = target.substr(0, target.find('?'));
  if (raw_path.size() < target.size() && !http::query_is_valid(target.substr(raw_path.size() + 1))) {
    return bad_request("invalid query");
  }
  std::string path;
  if (auto err = http::normalize_path(raw_path, path); err != http::PathError::None) {
    return bad_request("bad path: " + std::string(http::to_string(err)));
  }
  // The gateway refuses these before routing (PRODUCT.md "Limits and status").
  if (request.method == "CONNECT" || request.method == "TRACE") {
    d.status = 405;
    d.reason = Reason::MethodNotAllowed;
    d.detail = "method never allowed";
    if (explain) d.explain.push_back("request: " + request.method + " is always refused (405)");
    return d;
  }
  std::string_view host = request.host;
  if (host.empty()) {
    for (const auto& [name, value] : request.headers) {
      if (iequals(name, "host")) host = value;
    }
  }

  std::vector<std::string> pre;
  if (explain) {
    pre.push_back("request: " + printable(request.method) + " " + printable(path) +
                  (host.empty() ? std::string(" (no host)") : " host " + printable(host)));
    if (path != raw_path) pre.push_back("path: " + printable(raw_path) + " normalizes to " + printable(path));
  }

  TokenState state;
  auth::Identity identity;
  if (token.kind == SimToken::Kind::Invalid) {
    state.kind = TokenState::Kind::Invalid;
    state.invalid_reason = "invalid token";
  } else if (token.kind == SimToken::Kind::Claims) {
    size_t index = PolicySet::npos;
    auth::AuthStatus st = identity_from_claims(set, token.claims_json, identity, index);
    if (st == auth::AuthStatus::Ok) {
      state.kind = TokenState::Kind::Valid;
      state.identity = &identity;
      state.issuer_index = index;
    } else {
      state.kind = TokenState::Kind::Invalid;
      state.invalid_reason = std::string(auth::describe(st));
    }
  }
  d = decide(set, host, request.method, path, state, explain);
  if (explain) d.explain.insert(d.explain.begin(), pre.begin(), pre.end());
  return d;
}

TestOutcome run_test(const PolicySet& set, const TestCase& test) {
  TestOutcome out;
  out.decision = simulate(set, test.request, test.token, /*explain=*/false);
  const Decision& d = out.decision;
  bool ok = d.status == test.expect_status;
  if (!test.expect_route.empty()) ok = ok && d.route_name() == test.expect_route;
  if (!test.expect_reason.empty()) ok = ok && to_string(d.reason) == test.expect_reason;
  out.passed = ok;
  if (!ok) {
    std::string want = std::to_string(test.expect_status);
    if (!test.expect_route.empty()) want += ", route " + test.expect_route;
    if (!test.expect_reason.empty()) want += ", " + test.expect_reason;
    std::string got = std::to_string(d.status);
    got += d.route ? ", route " + d.route->name : std::string(", no route");
    got += ", " + std::string(to_string(d.reason));
    if (!d.detail.empty()) got += ": " + d.detail;
    out.message = "expected " + want + "; got " + got;
  }
  return out;
}

}  // namespace portcullis::policy
