// The identity headers injected for an authenticated request (subject, issuer, scopes and
// mapped claims), and the names stripped from every client request.
#pragma once

#include <string>
#include <vector>

#include "auth/claims.h"
#include "config/gateway_config.h"
#include "http/forward.h"

namespace portcullis::proxy {

// Every configured identity header name: stripped from client requests on every route.
std::vector<std::string> identity_header_names(const config::IdentityHeaders& cfg);

// Appends the identity headers for `identity` to `out`. A mapped claim whose value holds a
// control character (or is an object) is left out and its name appended to `dropped`.
void build_identity_headers(const config::IdentityHeaders& cfg, const auth::Identity& identity,
                            std::vector<http::HeaderField>& out, std::vector<std::string_view>& dropped);

}  // namespace portcullis::proxy
