#include "auth/jwks.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>

#include <rapidjson/document.h>

#include "auth/base64url.h"
#include "auth/json.h"

namespace portcullis::auth {
namespace {

using Value = rapidjson::Value;

constexpr std::array<const char*, 8> kPrivateMembers = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"};

// Parsing one entry: either a key, or the reason it was skipped.
struct Outcome {
  std::optional<JwkParams> key;
  const char* reason = nullptr;
};

Outcome skip(const char* reason) { return Outcome{std::nullopt, reason}; }

// A required base64url member decoded strictly into `out`; false if absent or invalid.
bool read_b64(const Value& obj, const char* name, std::string& out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return false;
  out.clear();
  return base64url_decode(json_string_view(it->value), out);
}

bool is_string_equal(const Value& v, std::string_view s) { return v.IsString() && json_string_view(v) == s; }

size_t coordinate_bytes(Curve crv) {
  switch (crv) {
    case Curve::P256: return 32;
    case Curve::P384: return 48;
    case Curve::P521: return 66;
    case Curve::Ed25519: return 32;
    case Curve::None: return 0;
  }
  return 0;
}

Outcome parse_rsa(const Value& obj, JwkParams key) {
  if (!read_b64(obj, "n", key.n) || key.n.empty()) return skip("RSA key without a valid n");
  if (!read_b64(obj, "e", key.e) || key.e.empty()) return skip("RSA key without a valid e");
  if (key.n.size() > kMaxRsaModulusBytes + 1) return skip("RSA modulus too large");
  if (key.e.size() > kMaxRsaExponentBytes) return skip("RSA exponent too large");
  return Outcome{std::move(key), nullptr};
}

Outcome parse_ec(const Value& obj, JwkParams key) {
  auto crv = obj.FindMember("crv");
  if (crv == obj.MemberEnd() || !crv->value.IsString()) return skip("EC key without crv");
  const std::string_view name = json_string_view(crv->value);
  if (name == "P-256") {
    key.crv = Curve::P256;
  } else if (name == "P-384") {
    key.crv = Curve::P384;
  } else if (name == "P-521") {
    key.crv = Curve::P521;
  } else {
    return skip("unsupported EC curve");
  }
  // RFC 7518 §6.2.1.2: coordinates are exactly the curve's size, leading zeros kept.
  const size_t size = coordinate_bytes(key.crv);
  if (!read_b64(obj, "x", key.x) || key.x.size() != size) return skip("EC key x missing or of the wrong size");
  if (!read_b64(obj, "y", key.y) || key.y.size() != size) return skip("EC key y missing or of the wrong size");
  return Outcome{std::move(key), nullptr};
}

Outcome parse_okp(const Value& obj, JwkParams key) {
  auto crv = obj.FindMember("crv");
  if (crv == obj.MemberEnd() || !crv->value.IsString()) return skip("OKP key without crv");
  if (json_string_view(crv->value) != "Ed25519") return skip("unsupported OKP curve");
  key.crv = Curve::Ed25519;
  if (!read_b64(obj, "x", key.x) || key.x.size() != 32) return skip("Ed25519 key x missing or not 32 bytes");
  return Outcome{std::move(key), nullptr};
}

Outcome parse_entry(const Value& obj) {
  if (!obj.IsObject()) return skip("entry is not an object");
  JwkParams key;
  if (auto kid = obj.FindMember("kid"); kid != obj.MemberEnd()) {
    if (!kid->value.IsString()) return skip("kid is not a string");
    key.kid = std::string(json_string_view(kid->value));
  }
  auto kty = obj.FindMember("kty");
  if (kty == obj.MemberEnd() || !kty->value.IsString()) return skip("kty missing or not a string");
  const std::string_view kty_name = json_string_view(kty->value);
  // An HMAC secret published in a JWKS is either a leak or a key-confusion setup.
  if (kty_name == "oct") return skip("symmetric oct key");
  for (const char* member : kPrivateMembers) {
    if (obj.HasMember(member)) return skip("carries private key material");
  }

  if (auto use = obj.FindMember("use"); use != obj.MemberEnd() && !is_string_equal(use->value, "sig")) {
    return skip("use is not sig");
  }
  if (auto ops = obj.FindMember("key_ops"); ops != obj.MemberEnd()) {
    if (!ops->value.IsArray()) return skip("key_ops is not an array");
    bool verify = false;
    for (const auto& op : ops->value.GetArray()) {
      if (!op.IsString()) return skip("key_ops holds a non-string");
      verify = verify || json_string_view(op) == "verify";
    }
    if (!verify) return skip("key_ops lacks verify");
  }
  if (auto alg = obj.FindMember("alg"); alg != obj.MemberEnd()) {
    if (!alg->value.IsString()) return skip("alg is not a string");
    key.alg = alg_from_string(json_string_view(alg->value));
    if (!key.alg) return skip("alg is not a supported JWS algorithm");
  }

  Outcome out;
  if (kty_name == "RSA") {
    key.kty = KeyType::RSA;
    out = parse_rsa(obj, std::move(key));
  } else if (kty_name == "EC") {
    key.kty = KeyType::EC;
    out = parse_ec(obj, std::move(key));
  } else if (kty_name == "OKP") {
    key.kty = KeyType::OKP;
    out = parse_okp(obj, std::move(key));
  } else {
    return skip("unsupported kty");
  }
  if (out.key && out.key->alg && !key_fits_alg(*out.key, *out.key->alg)) return skip("alg does not fit the key");
  return out;
}

std::string kid_of(const Value& entry) {
  if (!entry.IsObject()) return {};
  auto kid = entry.FindMember("kid");
  if (kid == entry.MemberEnd() || !kid->value.IsString()) return {};
  return std::string(json_string_view(kid->value));
}

}  // namespace

bool key_fits_alg(const JwkParams& key, Alg alg) {
  if (key.alg && *key.alg != alg) return false;
  switch (alg) {
    case Alg::RS256:
    case Alg::RS384:
    case Alg::RS512:
    case Alg::PS256:
    case Alg::PS384:
    case Alg::PS512: return key.kty == KeyType::RSA;
    case Alg::ES256: return key.kty == KeyType::EC && key.crv == Curve::P256;
    case Alg::ES384: return key.kty == KeyType::EC && key.crv == Curve::P384;
    case Alg::ES512: return key.kty == KeyType::EC && key.crv == Curve::P521;
    case Alg::EdDSA: return key.kty == KeyType::OKP && key.crv == Curve::Ed25519;
    case Alg::HS256:
    case Alg::HS384:
    case Alg::HS512: return key.kty == KeyType::Oct;
  }
  return false;
}

JwksParseResult parse_jwks(std::string_view json, size_t max_bytes) {
  JwksParseResult result;
  rapidjson::Document doc;
  const AuthStatus st = parse_json_object(json, doc, JsonLimits{max_bytes, 16});
  if (st != AuthStatus::Ok) {
    result.error = std::string("JWKS is not strict JSON: ") + std::string(to_string(st));
    return result;
  }
  const rapidjson::Value& root = doc;  // const iterators: clang's C++20 mode finds == on mutable ones ambiguous
  auto keys = root.FindMember("keys");
  if (keys == root.MemberEnd()) {
    result.error = "JWKS has no \"keys\" member";
    return result;
  }
  if (!keys->value.IsArray()) {
    result.error = "JWKS \"keys\" is not an array";
    return result;
  }
  const auto entries = keys->value.GetArray();

  // Kids held by more than one entry (whatever else is wrong with the entries): a token
  // naming one of them could be meant for either key, so neither is used.
  std::map<std::string, size_t> kid_count;
  for (const auto& entry : entries) {
    if (!entry.IsObject()) continue;
    if (auto kid = entry.FindMember("kid"); kid != entry.MemberEnd() && kid->value.IsString()) {
      ++kid_count[std::string(json_string_view(kid->value))];
    }
  }
  for (const auto& [kid, count] : kid_count) {
    if (count > 1) result.ambiguous_kids.push_back(kid);
  }

  size_t index = 0;
  for (const auto& entry : entries) {
    std::string kid = kid_of(entry);
    if (index++ >= kMaxJwksKeys) {
      result.skipped.push_back({std::move(kid), "too many keys in the JWKS"});
      continue;
    }
    Outcome out = parse_entry(entry);
    if (!out.key) {
      result.skipped.push_back({std::move(kid), out.reason});
      continue;
    }
    if (out.key->kid && kid_count[*out.key->kid] > 1) {
      result.skipped.push_back({std::move(kid), "duplicate kid"});
      continue;
    }
    result.keys.push_back(std::move(*out.key));
  }
  return result;
}

}  // namespace portcullis::auth
