#include "auth/extractor.h"

#include <array>

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

bool is_token68(std::string_view t) {
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  size_t i = 0;
  // Eight bytes per test, not a branch per byte: a JWT is hundreds of token68 bytes.
  for (; i + 8 <= t.size(); i += 8) {
    if (!(kToken68[p[i]] & kToken68[p[i + 1]] & kToken68[p[i + 2]] & kToken68[p[i + 3]] & kToken68[p[i + 4]] &
          kToken68[p[i + 5]] & kToken68[p[i + 6]] & kToken68[p[i + 7]])) {
      break;
    }
  }
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
