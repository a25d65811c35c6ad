#include "auth/claims.h"

#include <algorithm>
#include <cmath>

#include "auth/json.h"
#include "core/ascii.h"

namespace portcullis::auth {
namespace {

constexpr int64_t kMaxLeeway = 86400;


// RFC 9068 §4 / RFC 7515 §4.1.9: "at+jwt" and "application/at+jwt" are the same type.
std::string_view strip_application(std::string_view typ) {
  constexpr std::string_view kPrefix = "application/";
  if (typ.size() >= kPrefix.size() && ascii_iequals(typ.substr(0, kPrefix.size()), kPrefix)) {
    return typ.substr(kPrefix.size());
  }
  return typ;
}

enum class NumericDate { Absent, Invalid, Ok };

// Reads a NumericDate as its ceiling: for an integer `now`, now >= x <=> now >= ceil(x) and
// now < x <=> now < ceil(x), so comparisons stay exact for fractional dates.
NumericDate read_date(const rapidjson::Value& payload, const char* name, int64_t& out) {
  auto it = payload.FindMember(name);
  if (it == payload.MemberEnd()) return NumericDate::Absent;
  const rapidjson::Value& v = it->value;
  if (!v.IsNumber()) return NumericDate::Invalid;
  if (v.IsUint64()) {
    if (v.GetUint64() > static_cast<uint64_t>(kMaxNumericDate)) return NumericDate::Invalid;
    out = static_cast<int64_t>(v.GetUint64());
    return NumericDate::Ok;
  }
  if (v.IsInt64()) return NumericDate::Invalid;  // negative integer
  const double d = v.GetDouble();
  if (!std::isfinite(d) || d < 0.0 || d > kMaxNumericDate) return NumericDate::Invalid;
  out = static_cast<int64_t>(std::ceil(d));
  return NumericDate::Ok;
}

bool audience_matches(std::string_view aud, const std::vector<std::string>& allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) { return a == aud; });
}

AuthStatus check_aud(const rapidjson::Value& payload, const ClaimRules& rules) {
  auto it = payload.FindMember("aud");
  if (it == payload.MemberEnd()) return AuthStatus::JwtAudMissing;
  const rapidjson::Value& aud = it->value;
  if (aud.IsString()) {
    return audience_matches(json_string_view(aud), rules.audiences) ? AuthStatus::Ok : AuthStatus::JwtAudMismatch;
  }
  if (!aud.IsArray()) return AuthStatus::JwtAudInvalid;
  // Type-check every element before looking for a match: one bad element spoils the claim.
  bool matched = false;
  for (const auto& e : aud.GetArray()) {
    if (!e.IsString()) return AuthStatus::JwtAudInvalid;
    matched = matched || audience_matches(json_string_view(e), rules.audiences);
  }
  return matched ? AuthStatus::Ok : AuthStatus::JwtAudMismatch;
}

AuthStatus add_scope(std::string_view scope, std::vector<std::string>& scopes) {
  if (scope.empty()) return AuthStatus::Ok;
  if (has_control_char(scope)) return AuthStatus::JwtClaimControlChar;
  scopes.emplace_back(scope);
  return AuthStatus::Ok;
}

AuthStatus read_scopes(const rapidjson::Value& payload, const std::string& claim, std::vector<std::string>& scopes) {
  scopes.clear();
  // A Value name compares by length (a bare StringRef would decay to const char* and strlen).
  const rapidjson::Value name(rapidjson::StringRef(claim.data(), static_cast<rapidjson::SizeType>(claim.size())));
  auto it = payload.FindMember(name);
  if (it == payload.MemberEnd()) return AuthStatus::Ok;
  const rapidjson::Value& v = it->value;
  if (v.IsString()) {
    std::string_view rest = json_string_view(v);
    while (!rest.empty()) {
      const size_t sp = rest.find(' ');
      if (auto st = add_scope(rest.substr(0, sp), scopes); st != AuthStatus::Ok) return st;
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
    return AuthStatus::Ok;
  }
  if (!v.IsArray()) return AuthStatus::JwtScopeInvalid;
  for (const auto& e : v.GetArray()) {
    if (!e.IsString()) return AuthStatus::JwtScopeInvalid;
    const std::string_view s = json_string_view(e);
    if (s.find(' ') != std::string_view::npos) return AuthStatus::JwtScopeInvalid;
    if (auto st = add_scope(s, scopes); st != AuthStatus::Ok) return st;
  }
  return AuthStatus::Ok;
}

// A JWT must carry iss and aud (and exp, unless configured otherwise); an RFC 7662 answer
// may leave any of them out (§2.2), but what it does say must still fit the issuer.
enum class Profile { Jwt, Introspection };

AuthStatus validate(const rapidjson::Value& payload, std::string_view typ, const ClaimRules& rules, int64_t now,
                    Profile profile, Identity& out) {
  if (!payload.IsObject()) return AuthStatus::JwtNotObject;
  const bool jwt = profile == Profile::Jwt;

  if (jwt && !rules.require_typ.empty() &&
      !ascii_iequals(strip_application(typ), strip_application(rules.require_typ))) {
    return AuthStatus::JwtTypMismatch;
  }

  std::string_view iss_value = rules.issuer;
  if (auto iss = payload.FindMember("iss"); iss != payload.MemberEnd()) {
    if (!iss->value.IsString()) return AuthStatus::JwtIssNotString;
    iss_value = json_string_view(iss->value);
    if (has_control_char(iss_value)) return AuthStatus::JwtClaimControlChar;
    if (iss_value != rules.issuer) return AuthStatus::JwtIssUnknown;
  } else if (jwt) {
    return AuthStatus::JwtIssMissing;
  }

  std::string_view sub_value;
  if (auto sub = payload.FindMember("sub"); sub != payload.MemberEnd()) {
    if (!sub->value.IsString()) return AuthStatus::JwtSubInvalid;
    sub_value = json_string_view(sub->value);
    if (has_control_char(sub_value)) return AuthStatus::JwtClaimControlChar;
  }

  if (jwt || payload.HasMember("aud")) {
    if (auto st = check_aud(payload, rules); st != AuthStatus::Ok) return st;
  }

  // Integers well inside int64: dates <= 2^53, leeway <= 1 day; `now` is clamped likewise.
  const int64_t leeway = std::clamp<int64_t>(rules.leeway_seconds, 0, kMaxLeeway);
  const int64_t now_c = std::clamp<int64_t>(now, -(int64_t{1} << 60), int64_t{1} << 60);

  int64_t exp = 0;
  switch (read_date(payload, "exp", exp)) {
    case NumericDate::Invalid: return AuthStatus::JwtExpInvalid;
    case NumericDate::Absent:
      if (jwt && rules.require_exp) return AuthStatus::JwtExpMissing;
      exp = 0;
      break;
    case NumericDate::Ok:
      // RFC 7519 §4.1.4: the token must not be accepted on or after exp.
      if (now_c - leeway >= exp) return AuthStatus::JwtExpired;
      break;
  }
  int64_t nbf = 0;
  switch (read_date(payload, "nbf", nbf)) {
    case NumericDate::Invalid: return AuthStatus::JwtNbfInvalid;
    case NumericDate::Absent: break;
    case NumericDate::Ok:
      if (now_c + leeway < nbf) return AuthStatus::JwtNotYetValid;
      break;
  }
  int64_t iat = 0;
  switch (read_date(payload, "iat", iat)) {
    case NumericDate::Invalid: return AuthStatus::JwtIatInvalid;
    case NumericDate::Absent: break;
    case NumericDate::Ok:
      if (now_c + leeway < iat) return AuthStatus::JwtIatInFuture;
      break;
  }

  if (auto st = read_scopes(payload, rules.scope_claim, out.scopes); st != AuthStatus::Ok) return st;

  out.issuer.assign(iss_value);
  out.subject.assign(sub_value);
  out.expires_at = exp;
  return AuthStatus::Ok;
}

AuthStatus validate_into(const rapidjson::Value& payload, std::string_view typ, const ClaimRules& rules, int64_t now,
                         Profile profile, Identity& out) {
  const AuthStatus st = validate(payload, typ, rules, now, profile, out);
  if (st == AuthStatus::Ok) {
    // A compact copy in a pool of its own (see Identity::claims_pool).
    auto pool = std::make_unique<rapidjson::MemoryPoolAllocator<>>(512);
    rapidjson::Document copy(pool.get());
    copy.CopyFrom(payload, copy.GetAllocator());
    out.claims = std::move(copy);
    out.claims_pool = std::move(pool);  // the old pool (if any) is no longer referenced
  }
  return st;
}

}  // namespace

bool has_control_char(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    // U+0080..U+009F encode as C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < s.size()) {
      const auto n = static_cast<unsigned char>(s[i + 1]);
      if (n >= 0x80 && n <= 0x9F) return true;
    }
  }
  return false;
}

AuthStatus validate_claims(const rapidjson::Value& payload, std::string_view typ, const ClaimRules& rules,
                           int64_t now, Identity& out) {
  return validate_into(payload, typ, rules, now, Profile::Jwt, out);
}

// A parsed claims set takes about twice its JSON text (values and member records; strings
// are copied); one chunk of that size usually holds all of it.
OwnedClaims::OwnedClaims(size_t json_bytes)
    : pool(std::make_unique<rapidjson::MemoryPoolAllocator<>>(std::max<size_t>(512, 2 * json_bytes + 256))),
      doc(pool.get()) {}

AuthStatus validate_claims(OwnedClaims&& claims, std::string_view typ, const ClaimRules& rules, int64_t now,
                           Identity& out) {
  const AuthStatus st = validate(claims.doc, typ, rules, now, Profile::Jwt, out);
  if (st == AuthStatus::Ok) {
    out.claims = std::move(claims.doc);
    out.claims_pool = std::move(claims.pool);  // the old pool (if any) is no longer referenced
  }
  return st;
}

AuthStatus validate_introspected_claims(const rapidjson::Value& answer, const ClaimRules& rules, int64_t now,
                                        Identity& out) {
  return validate_into(answer, {}, rules, now, Profile::Introspection, out);
}

std::optional<std::string_view> peek_issuer(const rapidjson::Value& payload) {
  if (!payload.IsObject()) return std::nullopt;
  auto iss = payload.FindMember("iss");
  if (iss == payload.MemberEnd() || !iss->value.IsString()) return std::nullopt;
  return json_string_view(iss->value);
}

}  // namespace portcullis::auth
