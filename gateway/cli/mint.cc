#include "cli/mint.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "auth/base64url.h"
#include "auth/json.h"
#include "config/values.h"

namespace portcullis::cli {

namespace {

using auth::AuthStatus;

// The few words a person needs when --claims or --header is not what we expect.
std::string json_problem(std::string_view flag, AuthStatus status) {
  const std::string f(flag);
  switch (status) {
    case AuthStatus::TokenTooLarge: return f + " is too large";
    case AuthStatus::JwtNotObject: return f + " must be a JSON object, e.g. '{\"sub\":\"alice\"}'";
    case AuthStatus::JwtDuplicateMember: return f + " has the same member twice";
    case AuthStatus::JwtJsonTooDeep: return f + " is nested too deeply";
    default: return f + " is not valid JSON";
  }
}

Result<rapidjson::Document> parse_object(std::string_view flag, std::string_view text) {
  rapidjson::Document doc;
  const AuthStatus s = auth::parse_json_object(text, doc);
  if (s != AuthStatus::Ok) return Error{json_problem(flag, s)};
  return doc;
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  v.Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

rapidjson::Value string_value(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace

Result<std::string> mint_token(const MintRequest& req) {
  Result<rapidjson::Document> claims = parse_object("--claims", req.claims_json);
  if (!claims) return claims.error();
  auto& ca = claims->GetAllocator();
  if (!claims->HasMember("iat")) claims->AddMember("iat", rapidjson::Value(req.now), ca);
  if (req.ttl_seconds > 0 && !claims->HasMember("exp")) {
    claims->AddMember("exp", rapidjson::Value(req.now + req.ttl_seconds), ca);
  }

  rapidjson::Document header(rapidjson::kObjectType);
  auto& ha = header.GetAllocator();
  header.AddMember("alg", string_value(auth::to_string(req.alg), ha), ha);
  header.AddMember("typ", "JWT", ha);
  if (req.kid) header.AddMember("kid", string_value(*req.kid, ha), ha);
  if (!req.header_json.empty()) {
    Result<rapidjson::Document> extra = parse_object("--header", req.header_json);
    if (!extra) return extra.error();
    for (auto& m : extra->GetObject()) {
      const bool remove = m.value.IsNull();
      if (auto it = header.FindMember(m.name); it != header.MemberEnd()) {
        if (remove) {
          header.EraseMember(it);  // keeps the order of the others
        } else {
          it->value.CopyFrom(m.value, ha);
        }
      } else if (!remove) {
        header.AddMember(rapidjson::Value(m.name, ha), rapidjson::Value(m.value, ha), ha);
      }
    }
  }

  std::string token = auth::base64url_encode(to_json(header));
  token.push_back('.');
  token += auth::base64url_encode(to_json(*claims));
  Result<std::string> sig = Error{};
  if (auth::is_hmac(req.alg)) {
    if (req.secret.empty()) return Error{std::string(auth::to_string(req.alg)) + " needs a secret (--secret-file)"};
    sig = auth::crypto::hmac_sign(req.alg, req.secret, token);
  } else {
    if (req.key == nullptr) return Error{std::string(auth::to_string(req.alg)) + " needs a private key (--key)"};
    sig = req.key->sign(req.alg, token);
  }
  if (!sig) return sig.error();
  token.push_back('.');
  token += auth::base64url_encode(*sig);
  return token;
}

Result<int64_t> parse_ttl(std::string_view text) {
  if (text == "0") return int64_t{0};
  const std::optional<config::Millis> d = config::parse_duration(text);
  if (!d) {
    if (config::is_bare_number(text)) return Error{"--ttl needs a unit, e.g. " + std::string(text) + "s"};
    return Error{"--ttl is not a duration (e.g. 30s, 15m, 1h, 2h30m): " + std::string(text)};
  }
  if (d->count() % 1000 != 0) return Error{"--ttl must be whole seconds (JWT times are in seconds)"};
  return static_cast<int64_t>(d->count() / 1000);
}

}  // namespace portcullis::cli
