#include "auth/crypto/ecdsa_der.h"

#include <algorithm>
#include <cstring>

namespace portcullis::auth::crypto {
namespace {

using Bytes = std::span<const unsigned char>;

bool is_zero(Bytes v) {
  return std::all_of(v.begin(), v.end(), [](unsigned char c) { return c == 0; });
}

// Both big-endian and of equal length, so byte order is numeric order.
bool less_than(Bytes a, Bytes b) { return std::memcmp(a.data(), b.data(), a.size()) < 0; }

// Appends a minimal DER INTEGER for the positive big-endian value v (v != 0).
std::size_t put_integer(Bytes v, unsigned char* out) {
  while (v.size() > 1 && v.front() == 0) v = v.subspan(1);
  const bool pad = (v.front() & 0x80) != 0;  // keep it positive
  std::size_t n = 0;
  out[n++] = 0x02;
  out[n++] = static_cast<unsigned char>(v.size() + (pad ? 1 : 0));
  if (pad) out[n++] = 0x00;
  std::memcpy(out + n, v.data(), v.size());
  return n + v.size();
}

}  // namespace

EcdsaSigCheck ecdsa_raw_to_der(std::string_view raw, Bytes order, EcdsaDer& out) {
  const std::size_t half = order.size();
  if (half == 0 || half > 66 || raw.size() != 2 * half) return EcdsaSigCheck::WrongLength;
  const Bytes r(reinterpret_cast<const unsigned char*>(raw.data()), half);
  const Bytes s(reinterpret_cast<const unsigned char*>(raw.data()) + half, half);
  // r = s = 0 is the "psychic signature" (CVE-2022-21449); r or s >= n is non-canonical.
  if (is_zero(r) || is_zero(s) || !less_than(r, order) || !less_than(s, order)) {
    return EcdsaSigCheck::OutOfRange;
  }
  std::array<unsigned char, 2 * 69> body;
  std::size_t body_size = put_integer(r, body.data());
  body_size += put_integer(s, body.data() + body_size);

  std::size_t n = 0;
  out.bytes[n++] = 0x30;
  if (body_size >= 0x80) out.bytes[n++] = 0x81;  // long form; body_size <= 138 < 256
  out.bytes[n++] = static_cast<unsigned char>(body_size);
  std::memcpy(out.bytes.data() + n, body.data(), body_size);
  out.size = n + body_size;
  return EcdsaSigCheck::Ok;
}

}  // namespace portcullis::auth::crypto
