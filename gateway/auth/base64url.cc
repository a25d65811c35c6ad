#include "auth/base64url.h"

#include <array>
#include <cstdint>

namespace portcullis::auth {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
  return table;
}

constexpr std::array<uint8_t, 256> kDecode = make_table();

// The same table once per position in a group of four, each value already shifted to its
// place in the group's 24 bits, and bit 31 set for characters outside the alphabet: a group
// decodes with four loads and three ORs, and one test after the loop finds any bad one.
constexpr uint32_t kBadBit = 0x80000000u;
using ShiftedTable = std::array<uint32_t, 256>;
constexpr ShiftedTable make_shifted(int shift) {
  ShiftedTable table{};
  for (size_t c = 0; c < 256; ++c) table[c] = kDecode[c] == kInvalid ? kBadBit : uint32_t{kDecode[c]} << shift;
  return table;
}
constexpr std::array<ShiftedTable, 4> kShifted = {make_shifted(18), make_shifted(12), make_shifted(6),
                                                  make_shifted(0)};

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) {
  const size_t rem = in.size() % 4;
  if (rem == 1) return false;  // 6 bits cannot form a byte
  const size_t old_size = out.size();
  const size_t full = in.size() / 4;
  out.resize(old_size + full * 3 + (rem == 0 ? 0 : rem - 1));
  auto* dst = reinterpret_cast<unsigned char*>(out.data()) + old_size;
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());

  uint32_t seen = 0;
  for (size_t i = 0; i < full; ++i, src += 4, dst += 3) {
    const uint32_t v = kShifted[0][src[0]] | kShifted[1][src[1]] | kShifted[2][src[2]] | kShifted[3][src[3]];
    seen |= v;
    dst[0] = static_cast<unsigned char>(v >> 16);
    dst[1] = static_cast<unsigned char>(v >> 8);
    dst[2] = static_cast<unsigned char>(v);
  }
  if (seen & kBadBit) {
    out.resize(old_size);
    return false;
  }

  if (rem == 2) {
    const uint8_t a = kDecode[src[0]], b = kDecode[src[1]];
    // The last character carries 4 unused bits: they must be zero (canonical form).
    if (((a | b) & 0xC0) || (b & 0x0F)) {
      out.resize(old_size);
      return false;
    }
    dst[0] = static_cast<unsigned char>((a << 2) | (b >> 4));
  } else if (rem == 3) {
    const uint8_t a = kDecode[src[0]], b = kDecode[src[1]], c = kDecode[src[2]];
    if (((a | b | c) & 0xC0) || (c & 0x03)) {  // 2 unused bits
      out.resize(old_size);
      return false;
    }
    const uint32_t v = (uint32_t{a} << 12) | (uint32_t{b} << 6) | c;
    dst[0] = static_cast<unsigned char>(v >> 10);
    dst[1] = static_cast<unsigned char>(v >> 2);
  }
  return true;
}

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rem = in.size() - i;
  if (rem == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rem == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

}  // namespace portcullis::auth
