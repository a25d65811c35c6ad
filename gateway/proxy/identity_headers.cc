#include "proxy/identity_headers.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace portcullis::proxy {
namespace {

// A claim value as header text: strings as they are, numbers and booleans as JSON, arrays
// as their elements joined with ','. false when it cannot be a header value.
bool claim_to_text(const rapidjson::Value& v, std::string& out, bool nested = false) {
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    if (auth::has_control_char(s)) return false;
    out.append(s);
    return true;
  }
  if (v.IsBool() || v.IsNumber()) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    out.append(buf.GetString(), buf.GetSize());
    return true;
  }
  if (v.IsArray() && !nested) {
    bool first = true;
    for (const auto& e : v.GetArray()) {
      if (!first) out += ',';
      first = false;
      if (!claim_to_text(e, out, true)) return false;
    }
    return true;
  }
  return false;  // objects, null, nested arrays
}

}  // namespace

std::vector<std::string> identity_header_names(const config::IdentityHeaders& cfg) {
  std::vector<std::string> names = {cfg.subject, cfg.issuer, cfg.scopes};
  for (const auto& [claim, header] : cfg.claims) names.push_back(header);
  return names;
}

void build_identity_headers(const config::IdentityHeaders& cfg, const auth::Identity& identity,
                            std::vector<http::HeaderField>& out, std::vector<std::string_view>& dropped) {
  // Subject, issuer and scopes were checked for control characters when the token was
  // validated (such a token is invalid), so they are safe header bytes here.
  if (!identity.subject.empty()) out.push_back({cfg.subject, identity.subject});
  out.push_back({cfg.issuer, identity.issuer});
  std::string scopes;
  for (const std::string& s : identity.scopes) {
    if (!scopes.empty()) scopes += ' ';
    scopes += s;
  }
  if (!scopes.empty()) out.push_back({cfg.scopes, std::move(scopes)});
  if (!identity.claims.IsObject()) return;
  for (const auto& [claim, header] : cfg.claims) {
    auto it = identity.claims.FindMember(rapidjson::StringRef(claim.data(), claim.size()));
    if (it == identity.claims.MemberEnd()) continue;
    std::string text;
    if (!claim_to_text(it->value, text)) {
      dropped.push_back(claim);
      continue;
    }
    out.push_back({header, std::move(text)});
  }
}

}  // namespace portcullis::proxy
