#include "policy/evaluate.h"

#include <algorithm>
#include <cmath>

#include "auth/json.h"

namespace portcullis::policy {
namespace {

constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53

bool has_scope(const auth::Identity& id, std::string_view scope) {
  return std::any_of(id.scopes.begin(), id.scopes.end(), [&](const std::string& s) { return s == scope; });
}

// For explain lines only: a claim value, bounded and with control bytes escaped.
std::string render(const rapidjson::Value& v) {
  if (v.IsString()) {
    std::string out = "\"";
    std::string_view s = auth::json_string_view(v);
    constexpr size_t kMax = 60;
    for (char c : s.substr(0, kMax)) {
      auto b = static_cast<unsigned char>(c);
      out += (b < 0x20 || b == 0x7f) ? '?' : c;
    }
    if (s.size() > kMax) out += "...";
    return out + "\"";
  }
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "null";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsNumber()) return ClaimValue::of_number(v.GetDouble()).to_string();
  if (v.IsArray()) return "an array of " + std::to_string(v.Size());
  return "an object";
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string describe(const ClaimRequirement& req) {
  std::string out = "claim " + req.name + " ";
  switch (req.op) {
    case ClaimRequirement::Op::Equals: return out + "equals " + req.values.front().to_string();
    case ClaimRequirement::Op::Contains: return out + "contains " + req.values.front().to_string();
    case ClaimRequirement::Op::OneOf: {
      std::vector<std::string> vs;
      for (const auto& v : req.values) vs.push_back(v.to_string());
      return out + "one_of [" + join(vs, ", ") + "]";
    }
    case ClaimRequirement::Op::Exists: return out + "exists: " + (req.exists ? "true" : "false");
  }
  return out;
}

const rapidjson::Value* find_claim(const auth::Identity& id, const std::string& name) {
  if (!id.claims.IsObject()) return nullptr;
  // A Value name compares by length: names with NUL bytes cannot alias shorter ones.
  const rapidjson::Value key(rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  auto it = id.claims.FindMember(key);
  return it == id.claims.MemberEnd() ? nullptr : &it->value;
}

struct Check {
  Reason reason = Reason::Allowed;  // Allowed: met
  std::string why;                  // not met: for explain (may show the claim's value)
};

Check check_claim(const ClaimRequirement& req, const rapidjson::Value* claim, bool verbose) {
  using Op = ClaimRequirement::Op;
  Check c;
  if (req.op == Op::Exists) {
    if (req.exists && !claim) c = {Reason::ClaimMissing, "claim absent"};
    if (!req.exists && claim) c = {Reason::ClaimMismatch, verbose ? "claim present: " + render(*claim) : ""};
    return c;
  }
  if (!claim) return {Reason::ClaimMissing, "claim absent"};
  bool ok = false;
  switch (req.op) {
    case Op::Equals: ok = claim_value_equals(*claim, req.values.front()); break;
    case Op::OneOf:
      ok = std::any_of(req.values.begin(), req.values.end(),
                       [&](const ClaimValue& v) { return claim_value_equals(*claim, v); });
      break;
    case Op::Contains:
      if (!claim->IsArray()) {
        return {Reason::ClaimMismatch, verbose ? "claim is not an array: " + render(*claim) : ""};
      }
      for (const auto& e : claim->GetArray()) ok = ok || claim_value_equals(e, req.values.front());
      break;
    case Op::Exists: break;
  }
  if (!ok) c = {Reason::ClaimMismatch, verbose ? "claim is " + render(*claim) : ""};
  return c;
}

}  // namespace

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::Allowed: return "allowed";
    case Reason::Public: return "public";
    case Reason::Anonymous: return "anonymous";
    case Reason::BadRequest: return "bad_request";
    case Reason::NoRoute: return "no_route";
    case Reason::MethodNotAllowed: return "method_not_allowed";
    case Reason::TokenMissing: return "token_missing";
    case Reason::TokenInvalid: return "token_invalid";
    case Reason::IssuerNotAllowed: return "issuer_not_allowed";
    case Reason::MissingScope: return "missing_scope";
    case Reason::ClaimMissing: return "claim_missing";
    case Reason::ClaimMismatch: return "claim_mismatch";
  }
  return "unknown";
}

int http_status(Reason reason) {
  switch (reason) {
    case Reason::Allowed:
    case Reason::Public:
    case Reason::Anonymous: return 200;
    case Reason::BadRequest: return 400;
    case Reason::NoRoute: return 404;
    case Reason::MethodNotAllowed: return 405;
    case Reason::TokenMissing:
    case Reason::TokenInvalid:
    case Reason::IssuerNotAllowed: return 401;
    case Reason::MissingScope:
    case Reason::ClaimMissing:
    case Reason::ClaimMismatch: return 403;
  }
  return 500;
}

bool is_allowed(Reason reason) { return http_status(reason) == 200; }

bool claim_value_equals(const rapidjson::Value& v, const ClaimValue& want) {
  switch (want.type) {
    case ClaimValue::Type::String: return v.IsString() && auth::json_string_view(v) == want.text;
    case ClaimValue::Type::Bool: return v.IsBool() && v.GetBool() == want.boolean;
    case ClaimValue::Type::Integer:
      if (v.IsInt64()) return v.GetInt64() == want.integer;
      if (v.IsUint64()) return false;  // above INT64_MAX: no policy integer is that large
      if (v.IsDouble()) {
        // 42.0 is 42; beyond 2^53 a double cannot name one integer, so it never matches.
        const double d = v.GetDouble();
        constexpr int64_t kLimit = int64_t{1} << 53;
        return want.integer >= -kLimit && want.integer <= kLimit && d == static_cast<double>(want.integer);
      }
      return false;
    case ClaimValue::Type::Number:
      if (v.IsDouble()) return v.GetDouble() == want.number;
      if (v.IsInt64() || v.IsUint64()) {
        // An integer claim equals 4.0 but must not match by rounding (2^53 + 1 is not 2^53).
        const double n = want.number;
        if (n != std::trunc(n) || std::fabs(n) > kExactIntegerLimit) return false;
        return v.IsInt64() ? v.GetInt64() == static_cast<int64_t>(n) : v.GetUint64() == static_cast<uint64_t>(n);
      }
      return false;
  }
  return false;
}

bool issuer_allowed(const Route& route, size_t issuer_index) {
  if (route.issuers.empty()) return true;
  return std::find(route.issuers.begin(), route.issuers.end(), issuer_index) != route.issuers.end();
}

Evaluation evaluate(const Route& route, const auth::Identity* identity, bool explain) {
  Evaluation ev;
  ev.required_scopes = route.required_scopes;
  if (route.auth == AuthMode::None) {
    ev.allowed = true;
    ev.reason = Reason::Public;
    if (explain) ev.explain.push_back("auth: none: met (no token needed; any token is ignored)");
    return ev;
  }
  if (!identity) {
    if (route.auth == AuthMode::Optional) {
      ev.allowed = true;
      ev.reason = Reason::Anonymous;
      if (explain) {
        ev.explain.push_back("auth: optional: no token, forwarded anonymously (requirements apply only to a token)");
      }
      return ev;
    }
    ev.reason = Reason::TokenMissing;
    ev.detail = "no token";
    if (explain) ev.explain.push_back("token: not met (the route needs one)");
    return ev;
  }

  ev.reason = Reason::Allowed;
  auto fail = [&](Reason r, std::string detail) {
    if (ev.reason == Reason::Allowed) {
      ev.reason = r;
      ev.detail = std::move(detail);
    }
  };

  if (route.has_scopes) {
    const auto& req = route.scopes;
    const bool all = req.mode == ScopeRequirement::Mode::AllOf;
    std::vector<std::string> missing;
    bool any = false;
    for (const auto& s : req.scopes) {
      if (has_scope(*identity, s)) {
        any = true;
        if (!all) break;
      } else if (all) {
        missing.push_back(s);
        if (!explain) break;
      }
    }
    const bool met = all ? missing.empty() : any;
    if (!met) {
      fail(Reason::MissingScope, all ? "missing scope " + missing.front() : "none of the scopes " + std::string(route.required_scopes));
    }
    if (explain) {
      std::string line = std::string("scopes ") + (all ? "all_of" : "any_of") + " [" + join(req.scopes, ", ") + "]: ";
      if (met) {
        line += "met";
      } else if (all) {
        line += "not met (missing " + join(missing, ", ") + ")";
      } else {
        line += "not met (the token has none of them)";
      }
      ev.explain.push_back(std::move(line));
    }
    if (!met && !explain) return ev;
  }

  for (const auto& req : route.claims) {
    Check c = check_claim(req, find_claim(*identity, req.name), explain);
    if (c.reason != Reason::Allowed) {
      fail(c.reason, (c.reason == Reason::ClaimMissing ? "missing claim " : "claim mismatch on ") + req.name);
    }
    if (explain) {
      ev.explain.push_back(describe(req) + ": " + (c.reason == Reason::Allowed ? "met" : "not met (" + c.why + ")"));
    } else if (c.reason != Reason::Allowed) {
      return ev;
    }
  }
  ev.allowed = ev.reason == Reason::Allowed;
  if (explain && !route.has_requirements()) ev.explain.push_back("requirements: none (any valid token)");
  return ev;
}

}  // namespace portcullis::policy
