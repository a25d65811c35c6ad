// Eight bytes at a time: exact per-byte tests on a 64-bit word, so the parsers' hot loops can
// skip runs of ordinary bytes (a 700-byte bearer token, a long header value) in one step and
// look at single bytes only where something interesting is. Portable (no SIMD intrinsics):
// every mask below has bit 7 of a byte set exactly when that byte passes the test, with no
// carries between bytes, whatever the other bytes hold.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace portcullis::bytes8 {

constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
constexpr uint64_t kHigh = 0x8080808080808080ull;

constexpr uint64_t broadcast(uint8_t b) { return 0x0101010101010101ull * b; }

inline uint64_t load(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Bytes equal to zero.
constexpr uint64_t zero(uint64_t x) { return ~(((x & kLow7) + kLow7) | x) & kHigh; }

// Bytes equal to c.
constexpr uint64_t equal(uint64_t x, uint8_t c) { return zero(x ^ broadcast(c)); }

// Index, in memory order, of the first byte whose bit is set in a non-zero mask from above.
inline int first_marked(uint64_t mask) {
  if constexpr (std::endian::native == std::endian::little) return std::countr_zero(mask) / 8;
  return std::countl_zero(mask) / 8;
}

// Whether every byte is below 0x80 (plain ASCII).
inline bool all_ascii(std::string_view s) {
  uint64_t seen = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) seen |= load(s.data() + i);
  for (; i < s.size(); ++i) seen |= static_cast<uint8_t>(s[i]);
  return (seen & kHigh) == 0;
}

// a == b, in time that depends only on the length: a comparison against a secret (a cached
// token) leaks nothing about where the first difference is.
inline bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  uint64_t diff = 0;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) diff |= load(a.data() + i) ^ load(b.data() + i);
  for (; i < a.size(); ++i) diff |= static_cast<uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace portcullis::bytes8
