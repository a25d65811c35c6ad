// Character classes of RFC 9110 / RFC 3986, as constexpr tables so the parsers' inner loops
// are a single indexed load per byte. Internal to the http module.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "core/bytes8.h"

namespace portcullis::http::chars {

enum : uint8_t {
  kTchar = 1 << 0,       // RFC 9110 §5.6.2 token characters
  kFieldValue = 1 << 1,  // HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5)
  kUnreserved = 1 << 2,  // RFC 3986 §2.3: ALPHA DIGIT - . _ ~
  kPchar = 1 << 3,       // unreserved / sub-delims / ":" / "@" (pct-encoded handled apart)
  kHex = 1 << 4,
  kTarget = 1 << 5,      // bytes allowed in a request-target: visible ASCII (0x21..0x7E)
};

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t f = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit) f |= kTchar | kUnreserved | kPchar;
    switch (c) {
      case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
      case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        f |= kTchar;
        break;
      default:
        break;
    }
    switch (c) {
      case '-': case '.': case '_': case '~':
        f |= kUnreserved | kPchar;
        break;
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
      case ',': case ';': case '=': case ':': case '@':
        f |= kPchar;
        break;
      default:
        break;
    }
    if (c == '\t' || (c >= 0x20 && c != 0x7f)) f |= kFieldValue;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= kHex;
    if (c >= 0x21 && c <= 0x7e) f |= kTarget;
    t[static_cast<size_t>(c)] = f;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kTable = make_table();

constexpr bool has(char c, uint8_t flag) {
  return (kTable[static_cast<unsigned char>(c)] & flag) != 0;
}
constexpr bool is_tchar(char c) { return has(c, kTchar); }
constexpr bool is_field_value(char c) { return has(c, kFieldValue); }
constexpr bool is_unreserved(char c) { return has(c, kUnreserved); }
constexpr bool is_pchar_plain(char c) { return has(c, kPchar); }
constexpr bool is_hex(char c) { return has(c, kHex); }
constexpr bool is_target(char c) { return has(c, kTarget); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }

constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes of x that are CTLs: 0x00-0x1F (so HTAB, CR and LF too) and DEL. Adding one to the low
// seven bits turns DEL into 0 and 0x00-0x1F into 0x01-0x20, so one comparison finds them all.
inline uint64_t controls(uint64_t x) {
  using namespace bytes8;
  const uint64_t next = ((x & kLow7) + broadcast(1)) & kLow7;
  return ~(next + broadcast(0x80 - 0x21)) & ~x & kHigh;
}

// Every byte of s is a field-value byte. Words without a control byte (HTAB is one, so it
// takes the slow path) are skipped whole: header values are long, tabs and CTLs rare.
inline bool all_field_value(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (i + 8 <= s.size()) {
      if (controls(bytes8::load(s.data() + i)) == 0) {
        i += 8;
        continue;
      }
    }
    for (const size_t end = std::min(i + 8, s.size()); i < end; ++i) {
      if (!is_field_value(s[i])) return false;
    }
  }
  return true;
}

}  // namespace portcullis::http::chars
