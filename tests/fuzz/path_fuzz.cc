// Fuzz target: request path normalization (http/path.h), the one canonical path the router,
// the policy and the upstream all see. Differentials: normalizing twice changes nothing; a
// path the cheap pre-check calls plain normalizes to itself; the canonical form never holds
// an empty, "." or ".." segment.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/path.h"

using portcullis::http::PathError;

namespace {

int upper_hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 unreserved, and the bytes a path segment may hold unencoded (pchar minus '%').
bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}
bool is_plain_pchar(char c) {
  return is_unreserved(c) || std::string_view("!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

void check_canonical(std::string_view path) {
  FUZZ_CHECK(!path.empty() && path.front() == '/');
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    // Only the last segment may be empty (a trailing slash).
    FUZZ_CHECK(!segment.empty() || end == path.size());
    FUZZ_CHECK(segment != "." && segment != "..");
    start = end + 1;
  }
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%') {
      // Escapes survive only for bytes that must stay encoded, with uppercase hex.
      FUZZ_CHECK(i + 2 < path.size());
      const int hi = upper_hex_value(path[i + 1]), lo = upper_hex_value(path[i + 2]);
      FUZZ_CHECK(hi >= 0 && lo >= 0);
      const int v = hi * 16 + lo;
      FUZZ_CHECK(v >= 0x20 && v != 0x7F && v != '/' && v != '\\' && !is_unreserved(static_cast<char>(v)));
      i += 2;
    } else {
      FUZZ_CHECK(c == '/' || is_plain_pchar(c));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  static std::string once, twice;  // reused, as the worker reuses its buffer

  const PathError err = portcullis::http::normalize_path(raw, once);
  FUZZ_CHECK(!portcullis::http::to_string(err).empty());
  const bool plain = !portcullis::http::path_needs_normalization(raw);
  if (plain) {
    // The proxy then uses the raw view without normalizing: it must already be canonical.
    FUZZ_CHECK(err == PathError::None);
    FUZZ_CHECK(once == raw);
  }
  if (err == PathError::None) {
    check_canonical(once);
    FUZZ_CHECK(portcullis::http::normalize_path(once, twice) == PathError::None);
    FUZZ_CHECK(twice == once);
  }
  (void)portcullis::http::query_is_valid(raw);
  return 0;
}
