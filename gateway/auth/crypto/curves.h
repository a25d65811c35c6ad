// Per-curve constants for the JWS ECDSA curves (internal to auth/crypto).
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "auth/jwk.h"

namespace portcullis::auth::crypto {

struct CurveInfo {
  Curve curve;
  const char* group_name;  // OpenSSL group name
  int bits;
  std::size_t coord_size;  // bytes per coordinate and per R / S (RFC 7518 §3.4)
  std::array<unsigned char, 66> order_storage;  // group order n, big-endian, coord_size bytes
  std::array<unsigned char, 66> prime_storage;  // field prime p, big-endian, coord_size bytes

  std::span<const unsigned char> order() const { return {order_storage.data(), coord_size}; }
  std::span<const unsigned char> prime() const { return {prime_storage.data(), coord_size}; }
};

// P-256, P-384 or P-521; nullptr for any other curve. The constants are read from OpenSSL
// once (thread-safe static initialisation), so they cannot drift from the library's.
const CurveInfo* curve_info(Curve curve);

}  // namespace portcullis::auth::crypto
