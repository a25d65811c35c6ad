// Scalar value grammars used by gateway.yaml: durations, sizes, host:port, URLs, header names.
// Pure functions without yaml-cpp, so other modules (CLI flags, policy loader) can reuse them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace portcullis::config {

using Millis = std::chrono::milliseconds;

// "500ms", "30s", "10m", "1h" and combinations in decreasing unit order ("1h30m", "1m30s").
// Bare numbers are not durations (nullopt); so are signs, fractions, spaces and repeated units.
std::optional<Millis> parse_duration(std::string_view text);

// True when `text` is all digits: the caller forgot the unit (used to word the error).
bool is_bare_number(std::string_view text);

// Shortest exact spelling parse_duration accepts: 90000ms -> "1m30s", 0 -> "0s".
std::string format_duration(Millis d);

// "16384", "16384B", "512KiB", "1MiB", "1GiB", "1TiB" (1024-based) and "KB", "MB", "GB", "TB"
// (1000-based). Units are case-sensitive; no spaces, signs or fractions.
std::optional<uint64_t> parse_size(std::string_view text);

// "1KiB" when exact in a binary unit, else the plain byte count.
std::string format_size(uint64_t bytes);

// "0.0.0.0:8080", "[::1]:8080", "localhost:0". The host comes back without brackets.
// The port is required; an IPv6 host must be bracketed.
std::optional<std::pair<std::string, uint16_t>> parse_host_port(std::string_view text);

// 127.0.0.0/8 (dotted quad), ::1 (any spelling, also IPv4-mapped 127/8), "localhost"
// (any case). Brackets around an IPv6 literal are allowed.
bool is_loopback_host(std::string_view host);

// A hostname (letters, digits, '-', '.', '_') or an IP literal (IPv6 without brackets).
bool is_valid_host(std::string_view host);

// An absolute http(s) URL, split. Rejects userinfo, fragments, empty hosts, bad ports,
// whitespace and control characters. Scheme is lowercased; host has no brackets.
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  uint16_t port = 0;   // explicit port, else 80 / 443
  bool explicit_port = false;
  std::string path;    // "" or starting with '/'
  std::string query;   // without '?'; empty when absent
  bool has_query = false;
};
// On failure returns nullopt and sets `why` to a short reason.
std::optional<Url> parse_url(std::string_view text, std::string& why);

// RFC 9110 token characters (header field names, cookie names).
bool is_token(std::string_view text);

// Lowercase with '_' folded to '-': how identity headers are compared (PRODUCT.md).
std::string fold_header_name(std::string_view name);

}  // namespace portcullis::config
