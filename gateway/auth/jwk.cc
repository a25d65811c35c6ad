#include "auth/jwk.h"

#include <array>
#include <utility>

namespace portcullis::auth {
namespace {

constexpr std::array<std::pair<std::string_view, Alg>, 13> kAlgNames{{
    {"RS256", Alg::RS256}, {"RS384", Alg::RS384}, {"RS512", Alg::RS512},
    {"PS256", Alg::PS256}, {"PS384", Alg::PS384}, {"PS512", Alg::PS512},
    {"ES256", Alg::ES256}, {"ES384", Alg::ES384}, {"ES512", Alg::ES512},
    {"EdDSA", Alg::EdDSA},
    {"HS256", Alg::HS256}, {"HS384", Alg::HS384}, {"HS512", Alg::HS512},
}};

}  // namespace

std::optional<Alg> alg_from_string(std::string_view name) {
  // Exact match only: "rs256" or "RS256 " are not algorithms (RFC 7515 §4.1.1 is
  // case-sensitive), and "none" is deliberately absent.
  for (const auto& [text, alg] : kAlgNames) {
    if (text == name) return alg;
  }
  return std::nullopt;
}

std::string_view to_string(Alg alg) {
  for (const auto& [text, value] : kAlgNames) {
    if (value == alg) return text;
  }
  return "unknown";
}

bool is_hmac(Alg alg) { return alg == Alg::HS256 || alg == Alg::HS384 || alg == Alg::HS512; }

}  // namespace portcullis::auth
