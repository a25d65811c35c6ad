#include "auth/extractor.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace portcullis::auth {
namespace {

constexpr std::string_view kScheme = "bearer";

// A table, not a chain of comparisons: every byte of every token passes through here.
constexpr std::array<bool, 256> kToken68 = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
  }
  return t;
}();

bool is_token68_char(char c) { return kToken68[static_cast<unsigned char>(c)]; }

// Sixteen bytes at a time with GCC/clang vector extensions (SSE2 on x86-64, NEON on arm64,
// plain code elsewhere): every byte a letter, '-', '.', '/', a digit or '_' - what a JWT is
// made of. A byte outside that set (or '+', '~', '=') leaves the rest to the table.
using Bytes16 = unsigned char __attribute__((vector_size(16)));

bool common_token68_16(const char* p) {
  Bytes16 v;
  std::memcpy(&v, p, sizeof v);
  const Bytes16 folded = v | 0x20;  // 'A'-'Z' -> 'a'-'z'; nothing else lands there
  const auto letter = (Bytes16)(folded - 'a') <= 'z' - 'a';
  const auto dash_to_digit = (Bytes16)(v - '-') <= '9' - '-';  // - . / 0-9
  const auto ok = letter | dash_to_digit | (v == '_');
  uint64_t halves[2];
  std::memcpy(halves, &ok, sizeof halves);
  return (halves[0] & halves[1]) == ~uint64_t{0};
}

bool is_token68(std::string_view t) {
  size_t i = 0;
  while (i + 16 <= t.size() && common_token68_16(t.data() + i)) i += 16;
  while (i < t.size() && is_token68_char(t[i])) ++i;
  if (i == 0) return false;
  while (i < t.size() && t[i] == '=') ++i;
  return i == t.size();
}

std::string_view trim_sp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

AuthStatus extract_bearer(std::string_view value, size_t max_token_bytes, std::string_view& token) {
  token = {};
  // Bound the work first: nothing below runs over an oversized header.
  if (value.size() > kScheme.size() + 1 + max_token_bytes) return AuthStatus::TokenTooLarge;
  if (value.empty()) return AuthStatus::TokenMissing;
  if (value.size() < kScheme.size() + 2) return AuthStatus::AuthHeaderMalformed;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return AuthStatus::AuthHeaderMalformed;
  }
  if (value[kScheme.size()] != ' ') return AuthStatus::AuthHeaderMalformed;
  const std::string_view t = value.substr(kScheme.size() + 1);
  if (!is_token68(t)) return AuthStatus::AuthHeaderMalformed;  // also: a second SP, a second token
  if (t.size() > max_token_bytes) return AuthStatus::TokenTooLarge;
  token = t;
  return AuthStatus::Ok;
}

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
  if (name.empty()) return std::nullopt;
  while (!header.empty()) {
    const size_t semi = header.find(';');
    const std::string_view pair = trim_sp(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim_sp(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim_sp(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace portcullis::auth
