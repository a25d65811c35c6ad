#include "auth/introspection.h"

#include "auth/json.h"
#include "auth/jws.h"

namespace portcullis::auth {

bool looks_like_jwt(std::string_view token) {
  JwsSegments segments;
  return split_compact(token, segments) == AuthStatus::Ok;
}

void form_urlencode(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '*';
    if (unreserved) {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

std::string introspection_request_body(std::string_view token, std::string_view client_id,
                                       std::string_view client_secret) {
  std::string body = "token=";
  form_urlencode(token, body);
  body += "&token_type_hint=access_token";
  if (!client_id.empty()) {
    body += "&client_id=";
    form_urlencode(client_id, body);
    body += "&client_secret=";
    form_urlencode(client_secret, body);
  }
  return body;
}

IntrospectionAnswer parse_introspection_response(std::string_view body, const ClaimRules& rules, int64_t now) {
  IntrospectionAnswer answer;
  rapidjson::Document doc;
  if (parse_json_object(body, doc, {kMaxIntrospectionAnswerBytes, 16}) != AuthStatus::Ok) return answer;
  const rapidjson::Value& root = doc;  // const iterators: clang's C++20 mode finds == on mutable ones ambiguous
  auto active = root.FindMember("active");
  // RFC 7662 §2.2: "active" is REQUIRED and boolean; a string "true" is not an answer.
  if (active == root.MemberEnd() || !active->value.IsBool()) return answer;
  if (!active->value.GetBool()) {
    answer.status = AuthStatus::TokenInactive;
    return answer;
  }
  auto identity = std::make_shared<Identity>();
  answer.status = validate_introspected_claims(doc, rules, now, *identity);
  if (answer.status == AuthStatus::Ok) {
    answer.expires_at = identity->expires_at;
    answer.identity = std::move(identity);
  }
  return answer;
}

}  // namespace portcullis::auth
