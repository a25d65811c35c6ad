// Finding the bearer token (RFC 6750 §2.1) in an Authorization value or a cookie.
// Strict on purpose: anything that is not exactly "Bearer <token68>" is malformed, so an
// attacker cannot make two components see two different tokens in one header.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "auth/status.h"

namespace portcullis::auth {

// `authorization_value` is the field value with surrounding OWS already removed by the
// HTTP parser. On Ok, `token` views into it. Checks, in order:
//   longer than "Bearer " + max_token_bytes -> TokenTooLarge (before anything else)
//   empty -> TokenMissing
//   scheme not "Bearer" (any case), not followed by exactly one SP, empty token, or a
//   token outside token68 (ALPHA DIGIT - . _ ~ + / then only trailing '=') -> AuthHeaderMalformed
//   token longer than max_token_bytes -> TokenTooLarge
AuthStatus extract_bearer(std::string_view authorization_value, size_t max_token_bytes, std::string_view& token);

// The value of the first cookie called `name` (case-sensitive) in a Cookie header
// ("a=b; c=d", RFC 6265 §4.2.1), without surrounding double quotes. nullopt if absent.
std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace portcullis::auth
