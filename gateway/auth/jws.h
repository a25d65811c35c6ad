// Compact JWS (RFC 7515 §7.1) parsing, without signature checks: split the token into views
// (no copy), decode strictly, parse the protected header and decide what the header asks
// for. Keys offered by the token itself (jwk, jku, x5u, x5c) are never read: the verifier
// picks keys from the issuer's trusted JWKS only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "auth/jwk.h"
#include "auth/status.h"

namespace portcullis::auth {

inline constexpr size_t kMaxKidBytes = 256;

// The three segments of a compact JWS, as views into the token.
struct JwsSegments {
  std::string_view header;         // base64url
  std::string_view payload;        // base64url
  std::string_view signature;      // base64url
  std::string_view signing_input;  // "header.payload", what the signature covers
};

// Exactly three segments: Ok. Five: JweUnsupported. Otherwise JwtBadSegmentCount.
AuthStatus split_compact(std::string_view token, JwsSegments& out);

struct ParsedJws {
  // rapidjson's default pool takes 64 KiB at the first allocation; a reused parse instead
  // works in these buffers (larger documents spill into the heap).
  alignas(8) char header_buffer[1024];
  alignas(8) char payload_buffer[4096];
  rapidjson::MemoryPoolAllocator<> header_pool{header_buffer, sizeof header_buffer, 4096};
  rapidjson::MemoryPoolAllocator<> payload_pool{payload_buffer, sizeof payload_buffer, 16384};

  Alg alg = Alg::RS256;
  std::optional<std::string_view> kid;  // view into `header`
  std::string_view typ;                 // view into `header`; empty when absent
  std::string_view signing_input;       // view into the token
  std::string signature;                // decoded (capacity reused across parses)
  rapidjson::Document header{&header_pool};    // owns the strings kid/typ point into
  rapidjson::Document payload{&payload_pool};  // the claims (parse_jws only)

  ParsedJws() = default;
  ParsedJws(const ParsedJws&) = delete;  // the documents point into this object
  ParsedJws& operator=(const ParsedJws&) = delete;
};

// Parses a compact JWS whose payload is a JWT claims set (a JSON object). The views in
// `out` point into `token` and into out.header: keep both alive while using them.
// `scratch` is a reused decode buffer (cleared here). Checks, first failure wins:
//   segments -> header base64url -> header JSON -> alg (JwtAlgMissing, JwtAlgNone in any
//   letter case, JwtAlgUnknown) -> kid (string of <= 256 bytes, else JwtKidInvalid) -> typ
//   (string, else JwtHeaderInvalid) -> b64 (present: JwtB64Unsupported) -> crit (present:
//   JwtCritUnsupported) -> signature base64url, non-empty (JwtSignatureMalformed) ->
//   payload base64url -> payload JSON object.
AuthStatus parse_jws(std::string_view token, ParsedJws& out, std::string& scratch);

// As parse_jws, but the payload is only base64url-decoded into `payload_bytes` (replaced),
// not parsed: for JWS whose payload is not JSON (RFC 7515 A.4, test vectors), or to check
// the signature before parsing claims. out.payload is left empty.
AuthStatus parse_jws_raw_payload(std::string_view token, ParsedJws& out, std::string& payload_bytes);

}  // namespace portcullis::auth
