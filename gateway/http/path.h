// Canonical request paths (PRODUCT.md "Path normalization"; SECURITY.md "Paths and routing").
// The router, the policy and the upstream all see the one canonical path produced here.
#pragma once

#include <string>
#include <string_view>

namespace portcullis::http {

enum class PathError {
  None,
  NotOriginForm,         // does not start with '/'
  ForbiddenByte,         // NUL, control, space, '#', '\', '?', bytes >= 0x80, non-pchar
  BadEscape,             // '%' not followed by two hex digits
  EncodedSlash,          // %2F
  EncodedBackslash,      // %5C
  EncodedNul,            // %00
  DotSegmentWithParams,  // "..;x", ".;", "%2e%2e;", "..%3B": servers disagree on these
  EncodedControl,        // %01..%1F, %7F: never legitimate, and trimmed by some frameworks
};

std::string_view to_string(PathError e);

// raw_path: the path part of an origin-form target (no query). On None, `out` (cleared
// first, capacity reused) holds the canonical path: forbidden bytes and escapes rejected,
// %XX of unreserved characters (ALPHA DIGIT - . _ ~) decoded, other escapes kept with
// uppercase hex, repeated slashes merged, dot segments removed as RFC 3986 §5.2.4 (never above
// the root; a trailing "." or ".." leaves a trailing slash). Normalizing the output again
// yields the same output. On error `out` is unspecified.
PathError normalize_path(std::string_view raw_path, std::string& out);

// Cheap pre-check in the spirit of nginx's complex_uri flag: false means normalize_path would
// succeed and return raw_path unchanged, so the caller may use the raw view without a copy.
bool path_needs_normalization(std::string_view raw_path);

// The query is forwarded untouched; it only has to be free of control bytes, space, '#' and
// bytes >= 0x80.
bool query_is_valid(std::string_view query);

}  // namespace portcullis::http
