#include "auth/jws.h"

#include <cstring>

#include "auth/base64url.h"
#include "auth/json.h"
#include "core/ascii.h"

namespace portcullis::auth {
namespace {

AuthStatus check_header(ParsedJws& out) {
  const rapidjson::Value& h = out.header;

  auto alg = h.FindMember("alg");
  if (alg == h.MemberEnd()) return AuthStatus::JwtAlgMissing;
  if (!alg->value.IsString()) return AuthStatus::JwtAlgUnknown;
  const std::string_view alg_name = json_string_view(alg->value);
  if (ascii_iequals(alg_name, "none")) return AuthStatus::JwtAlgNone;
  const auto parsed_alg = alg_from_string(alg_name);
  if (!parsed_alg) return AuthStatus::JwtAlgUnknown;
  out.alg = *parsed_alg;

  if (auto kid = h.FindMember("kid"); kid != h.MemberEnd()) {
    if (!kid->value.IsString() || kid->value.GetStringLength() > kMaxKidBytes) return AuthStatus::JwtKidInvalid;
    out.kid = json_string_view(kid->value);
  }
  if (auto typ = h.FindMember("typ"); typ != h.MemberEnd()) {
    if (!typ->value.IsString()) return AuthStatus::JwtHeaderInvalid;
    out.typ = json_string_view(typ->value);
  }
  // RFC 7797 unencoded payloads change what is signed; we never implement them, whatever
  // the value or whether crit lists them.
  if (h.HasMember("b64")) return AuthStatus::JwtB64Unsupported;
  // RFC 7515 §4.1.11: a recipient must reject extensions it does not understand. We
  // understand none, so any crit (well-formed or not) is a rejection.
  if (h.HasMember("crit")) return AuthStatus::JwtCritUnsupported;
  return AuthStatus::Ok;
}

void reset(ParsedJws& out) {
  out.alg = Alg::RS256;
  out.kid.reset();
  out.typ = {};
  out.signing_input = {};
  out.signature.clear();
  clear_document(out.header);
  clear_document(out.payload);
}

// Everything but the payload: segments, header, signature.
AuthStatus parse_common(std::string_view token, ParsedJws& out, std::string& scratch, JwsSegments& seg) {
  reset(out);
  if (auto st = split_compact(token, seg); st != AuthStatus::Ok) return st;
  out.signing_input = seg.signing_input;

  scratch.clear();
  if (!base64url_decode(seg.header, scratch)) return AuthStatus::JwtBadBase64;
  if (auto st = parse_json_object(scratch, out.header); st != AuthStatus::Ok) return st;
  if (auto st = check_header(out); st != AuthStatus::Ok) return st;

  if (seg.signature.empty()) return AuthStatus::JwtSignatureMalformed;
  if (!base64url_decode(seg.signature, out.signature)) return AuthStatus::JwtBadBase64;
  return AuthStatus::Ok;
}

}  // namespace

AuthStatus split_compact(std::string_view token, JwsSegments& out) {
  out = {};
  // memchr skips the long base64url runs between dots many bytes at a time.
  size_t dots[4];
  size_t count = 0;
  const char* const begin = token.data();
  const char* const end = begin + token.size();
  for (const char* p = begin; p != end;) {
    const auto* dot = static_cast<const char*>(std::memchr(p, '.', static_cast<size_t>(end - p)));
    if (dot == nullptr) break;
    if (count == 4) return AuthStatus::JwtBadSegmentCount;
    dots[count++] = static_cast<size_t>(dot - begin);
    p = dot + 1;
  }
  if (count == 4) return AuthStatus::JweUnsupported;
  if (count != 2) return AuthStatus::JwtBadSegmentCount;
  out.header = token.substr(0, dots[0]);
  out.payload = token.substr(dots[0] + 1, dots[1] - dots[0] - 1);
  out.signature = token.substr(dots[1] + 1);
  out.signing_input = token.substr(0, dots[1]);
  return AuthStatus::Ok;
}

AuthStatus parse_jws_raw_payload(std::string_view token, ParsedJws& out, std::string& payload_bytes) {
  JwsSegments seg;
  if (auto st = parse_common(token, out, payload_bytes, seg); st != AuthStatus::Ok) return st;
  payload_bytes.clear();
  if (!base64url_decode(seg.payload, payload_bytes)) return AuthStatus::JwtBadBase64;
  return AuthStatus::Ok;
}

AuthStatus parse_jws(std::string_view token, ParsedJws& out, std::string& scratch) {
  if (auto st = parse_jws_raw_payload(token, out, scratch); st != AuthStatus::Ok) return st;
  return parse_json_object(scratch, out.payload);
}

}  // namespace portcullis::auth
