// Strict base64url (RFC 4648 §5) as JWS uses it (RFC 7515 §2): the URL-safe alphabet only,
// no padding, no whitespace, and canonical trailing bits. Lenient decoders let several
// strings decode to the same bytes (cpp-jwt accepted "==" and non-zero trailing bits);
// here exactly one encoding is accepted for every byte string.
#pragma once

#include <string>
#include <string_view>

namespace portcullis::auth {

// Decodes `in` and APPENDS the bytes to `out` (a reused per-worker buffer). On failure
// returns false and leaves `out` as it was. Rejects: characters outside A-Z a-z 0-9 - _,
// '=' padding, a length of 1 (mod 4), and non-zero unused low bits in the last character.
bool base64url_decode(std::string_view in, std::string& out);

// Unpadded base64url, for tests and for minting dev tokens.
std::string base64url_encode(std::string_view in);

}  // namespace portcullis::auth
