// Small header utilities shared by the parsers, the proxy's header rewriting and policy.
#pragma once

#include <string_view>

#include "core/ascii.h"

namespace portcullis::http {

// ASCII case-insensitive equality (header names, tokens). Inline: the header rewriting calls
// it about a hundred times per request, and most calls end at the size comparison.
inline bool iequals(std::string_view a, std::string_view b) { return ascii_iequals(a, b); }

// ASCII case-insensitive prefix test.
bool istarts_with(std::string_view s, std::string_view prefix);

// Case-insensitive AND '_' == '-': how a WSGI/PHP upstream would see the name. Used to strip
// every spelling of a configured identity header (oauth2-proxy CVE-2025-64484).
bool same_header_name_loose(std::string_view a, std::string_view b);

// Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, HTTP2-Settings and any name
// starting with "proxy-" (case-insensitive). Names listed in Connection are the caller's job.
bool is_hop_by_hop(std::string_view name);

// Strips leading and trailing SP / HTAB.
std::string_view trim_ows(std::string_view s);

// Calls f(element) for every OWS-trimmed, non-empty element of a comma-separated list
// (RFC 9110 §5.6.1). No quoted-string awareness: for token lists only.
template <class F>
void for_each_list_element(std::string_view comma_list, F&& f) {
  while (!comma_list.empty()) {
    const size_t comma = comma_list.find(',');
    std::string_view element = trim_ows(comma_list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    comma_list.remove_prefix(comma + 1);
  }
}

// True if one element of the comma list equals token, case-insensitively.
bool list_contains_token(std::string_view comma_list, std::string_view token);

}  // namespace portcullis::http
