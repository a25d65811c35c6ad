// Wycheproof's JOSE vectors and the RFC 7520 §4 examples, through the FULL verification
// path that verify_token uses for keys and signatures:
//   parse_jws_raw_payload -> KeySet::from_jwks (the vector's public JWK/JWKS) ->
//   verify_jws_signature (kid lookup / kid-less candidates, key fit, crypto::verify_signature).
// The Wycheproof payloads are not JWT claim sets, so the claim step of verify_token is the
// only one left out; verify_jws_signature is the very function verify_token calls next.
//
// Every vector must agree with its `result`, except the ones listed below that Portcullis
// refuses on purpose although they are "valid". "acceptable" (none in the current files)
// is counted and allowed either way.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "auth/base64url.h"
#include "auth/crypto/verify.h"
#include "auth/jws.h"
#include "auth/key_set.h"
#include "auth/verifier.h"
#include "auth_test_util.h"

using namespace portcullis::auth;

namespace {

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

struct OctKey {
  std::optional<std::string> kid;
  std::string k;  // decoded secret
};

struct Vector {
  int id = 0;
  std::string result;  // valid / invalid / acceptable
  std::string comment;
  std::string jws;
  std::string jwks;              // what the issuer publishes: the group's public key(s), else its private ones
  std::vector<OctKey> secrets;   // the group's oct keys, to cross-check HMAC with a configured secret
};

// The group's key as a JWKS document: {"keys":[...]} as given, or one JWK wrapped.
std::string as_jwks(const rapidjson::Value& keys) {
  if (keys.IsObject() && keys.HasMember("keys")) return to_json(keys);
  return "{\"keys\":[" + to_json(keys) + "]}";
}

void collect_secrets(const rapidjson::Value& keys, std::vector<OctKey>& out) {
  auto add = [&](const rapidjson::Value& jwk) {
    if (!jwk.IsObject() || !jwk.HasMember("kty") || !jwk["kty"].IsString()) return;
    if (std::string(jwk["kty"].GetString()) != "oct" || !jwk.HasMember("k") || !jwk["k"].IsString()) return;
    OctKey key;
    if (jwk.HasMember("kid") && jwk["kid"].IsString()) key.kid = jwk["kid"].GetString();
    if (base64url_decode(jwk["k"].GetString(), key.k)) out.push_back(std::move(key));
  };
  if (keys.IsObject() && keys.HasMember("keys") && keys["keys"].IsArray()) {
    for (const auto& k : keys["keys"].GetArray()) add(k);
  } else {
    add(keys);
  }
}

std::optional<std::vector<Vector>> load(const char* file) {
  const auto dir = portcullis::auth::testing::testdata_dir();
  if (!dir) return std::nullopt;
  const auto text = portcullis::auth::testing::read_file(*dir / "wycheproof" / file);
  if (!text) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(text->data(), text->size());
  REQUIRE_FALSE(doc.HasParseError());
  std::vector<Vector> out;
  for (const auto& group : doc["testGroups"].GetArray()) {
    // A verifier is configured with public keys; a group with only a private key (the HMAC
    // groups, and Wycheproof's mixed key sets) is handed over as is, and the key set must
    // refuse what it cannot use (private members, oct keys).
    const rapidjson::Value* keys = group.HasMember("public") ? &group["public"] : &group["private"];
    const std::string jwks = as_jwks(*keys);
    std::vector<OctKey> secrets;
    if (group.HasMember("private")) collect_secrets(group["private"], secrets);
    for (const auto& t : group["tests"].GetArray()) {
      Vector v;
      v.id = t["tcId"].GetInt();
      v.result = t["result"].GetString();
      v.comment = t["comment"].GetString();
      // A JSON-serialized JWS is handed over as its JSON text: only compact JWS is accepted.
      v.jws = t["jws"].IsString() ? t["jws"].GetString() : to_json(t["jws"]);
      v.jwks = jwks;
      v.secrets = secrets;
      out.push_back(std::move(v));
    }
  }
  return out;
}

struct Verdict {
  AuthStatus status = AuthStatus::Ok;
  std::string skipped;  // KeySet report: the keys left out and why
};

// The full path minus claims: parse, build the issuer's key set, select and verify.
Verdict run(std::string_view token, std::string_view jwks) {
  Verdict v;
  ParsedJws jws;
  std::string payload;
  v.status = parse_jws_raw_payload(token, jws, payload);
  if (v.status != AuthStatus::Ok) return v;
  KeySet::Report report;
  const auto keys = KeySet::from_jwks(jwks, 1 << 20, report);
  for (const std::string& s : report.skipped) v.skipped += s + "; ";
  if (!keys) {  // the document itself is refused: the issuer has no keys
    v.skipped += report.error;
    v.status = AuthStatus::KeysNotLoaded;
    return v;
  }
  const KeySet::Entry* by = nullptr;
  v.status = verify_jws_signature(jws, *keys, by);
  if (v.status == AuthStatus::Ok) CHECK(by != nullptr);
  return v;
}

// The same token checked against the group's HMAC secret configured as the issuer's
// secret (KeySet::from_secret): shows the crypto agrees with Wycheproof even where the
// JWKS route is refused on purpose. nullopt: no oct key for this token, or the secret is
// refused (shorter than 32 bytes).
std::optional<AuthStatus> run_with_secret(const Vector& v) {
  ParsedJws jws;
  std::string payload;
  if (parse_jws_raw_payload(v.jws, jws, payload) != AuthStatus::Ok) return std::nullopt;
  const OctKey* secret = nullptr;
  for (const OctKey& k : v.secrets) {
    if (!jws.kid || k.kid == jws.kid) {
      secret = &k;
      break;
    }
  }
  if (secret == nullptr) return std::nullopt;
  KeySet::Report report;
  const auto keys = KeySet::from_secret(secret->k, report);
  if (!keys) return std::nullopt;
  const KeySet::Entry* by = nullptr;
  return verify_jws_signature(jws, *keys, by);
}

struct Refusal {
  AuthStatus status;
  const char* reason;
};

std::string ids(const std::vector<int>& v) {
  std::string s;
  for (int id : v) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

struct Tally {
  int run = 0, agreed = 0, acceptable = 0, secret_checked = 0;
  std::map<std::string, std::vector<int>> refused;  // reason -> tcIds
};

// Runs every vector; `on_purpose` lists the "valid" vectors we refuse, with the exact status.
// `secret_verifies` lists "invalid" vectors whose flaw lies in the published key set, not in
// the token: with the secret configured instead, their MAC verifies, as it should.
Tally run_file(const std::vector<Vector>& vectors, const std::map<int, Refusal>& on_purpose,
               const std::set<int>& secret_verifies) {
  Tally t;
  std::set<int> seen_refusals;
  for (const Vector& v : vectors) {
    CAPTURE(v.id);
    CAPTURE(v.comment);
    CAPTURE(v.result);
    const Verdict verdict = run(v.jws, v.jwks);
    CAPTURE(to_string(verdict.status));
    CAPTURE(verdict.skipped);
    ++t.run;
    const bool accepted = verdict.status == AuthStatus::Ok;
    if (auto it = on_purpose.find(v.id); it != on_purpose.end()) {
      seen_refusals.insert(v.id);
      CHECK(v.result == "valid");  // the list only holds valid vectors we refuse
      CHECK(verdict.status == it->second.status);
      t.refused[it->second.reason].push_back(v.id);
    } else if (v.result == "valid") {
      CHECK(accepted);
      t.agreed += accepted ? 1 : 0;
    } else if (v.result == "invalid") {
      CHECK_FALSE(accepted);
      t.agreed += accepted ? 0 : 1;
    } else {
      CHECK(v.result == "acceptable");
      ++t.acceptable;
    }
    // HMAC cross-check with a configured secret: agrees with `result` wherever it applies.
    if (const auto st = run_with_secret(v)) {
      ++t.secret_checked;
      if (v.result == "valid" || secret_verifies.count(v.id)) {
        CHECK(*st == AuthStatus::Ok);
      } else if (v.result == "invalid") {
        CHECK(*st != AuthStatus::Ok);
      }
    }
  }
  CHECK(seen_refusals.size() == on_purpose.size());  // no stale entry in the list
  return t;
}

void report(const char* file, const Tally& t) {
  std::ostringstream s;
  s << file << ": " << t.run << " vectors run, " << t.agreed << " agreed with `result`, " << t.acceptable
    << " acceptable; refused on purpose:";
  int total = 0;
  for (const auto& [reason, list] : t.refused) {
    s << "\n  - " << reason << ": tcId " << ids(list);
    total += static_cast<int>(list.size());
  }
  s << "\n  (" << total << " in all); HMAC vectors re-checked with the secret configured: " << t.secret_checked;
  MESSAGE(s.str());
}

const char* kHmacInJwks = "HMAC (oct) key published in a JWKS: never taken from a JWKS (alg confusion)";
const char* kKeyAlgPinned = "key pinned to another alg (RFC 7520 RS/PS key with \"alg\":\"PS256\", token PS384)";
const char* kKeyAlgUnknown = "key's own alg is not a JWS algorithm (\"ES521\"): key skipped";
const char* kStrictBase64 = "non-canonical base64url ('?' inside a segment)";

}  // namespace

// json_web_key_test.json. Refused on purpose although "valid":
//   2, 13, 14, 15  HMAC (oct) keys published in a JWKS: a JWKS never supplies an HMAC key
//                  (the alg-confusion door); the same tokens verify once the secret is
//                  configured through KeySet::from_secret (checked below).
// "invalid" vectors whose flaw is the key set, so the configured secret does verify them:
//   1 (a key set mixing secret and public keys), 4 (two keys, one kid), 25, 26 (AES keys).
TEST_CASE("Wycheproof json_web_key_test.json: every vector through KeySet::from_jwks and verification") {
  const auto vectors = load("json_web_key_test.json");
  if (!vectors) {
    MESSAGE("SKIPPED (loud): wycheproof/json_web_key_test.json not found; set PORTCULLIS_TESTDATA");
    return;
  }
  const std::map<int, Refusal> on_purpose = {
      {2, {AuthStatus::JwksKidNotFound, kHmacInJwks}},
      {13, {AuthStatus::JwksKidNotFound, kHmacInJwks}},
      {14, {AuthStatus::JwksKidNotFound, kHmacInJwks}},
      {15, {AuthStatus::JwksKidNotFound, kHmacInJwks}},
  };
  const Tally t = run_file(*vectors, on_purpose, {1, 4, 25, 26});
  CHECK(t.run == 26);
  CHECK(t.agreed + t.acceptable + 4 == t.run);

  // The invalid ones are refused for the right reason: status, and why the key was left out.
  const std::map<int, std::pair<AuthStatus, const char*>> reasons = {
      {1, {AuthStatus::JwksKidNotFound, "symmetric oct key"}},
      {3, {AuthStatus::JwksKidNotFound, "symmetric oct key"}},
      {4, {AuthStatus::JwksKidAmbiguous, ""}},
      {6, {AuthStatus::JwksKidNotFound, "use is not sig"}},
      {7, {AuthStatus::JwksKidNotFound, "ROCA"}},
      {8, {AuthStatus::JwksKidNotFound, "2048"}},
      {9, {AuthStatus::JwksKidNotFound, "exponent"}},
      {10, {AuthStatus::JwksKidNotFound, "symmetric oct key"}},
      {16, {AuthStatus::JwksKidNotFound, "symmetric oct key"}},
      {19, {AuthStatus::JwksKidNotFound, "alg is not a supported JWS algorithm"}},
      {20, {AuthStatus::JwksKidNotFound, "alg is not a supported JWS algorithm"}},
      {21, {AuthStatus::JwksKidNotFound, "use is not sig"}},
      {22, {AuthStatus::JwksKidNotFound, "curve"}},
      {23, {AuthStatus::JwksKidNotFound, "EC key x missing or of the wrong size"}},
      {24, {AuthStatus::JwksKidNotFound, "RSA key without a valid n"}},
      {25, {AuthStatus::JwksKidNotFound, "symmetric oct key"}},
  };
  for (const Vector& v : *vectors) {
    auto it = reasons.find(v.id);
    if (it == reasons.end()) continue;
    CAPTURE(v.id);
    const Verdict verdict = run(v.jws, v.jwks);
    CAPTURE(verdict.skipped);
    CHECK(verdict.status == it->second.first);
    CHECK(verdict.skipped.find(it->second.second) != std::string::npos);
  }
  report("json_web_key_test.json", t);
}

// json_web_signature_test.json. Refused on purpose although "valid":
//   1, 348, 352, 357, 358, 359, 376, 377  HMAC (oct) keys published in a JWKS (as above);
//       each verifies with the secret configured through KeySet::from_secret.
//   346, 350  RFC 7520 Figure 20 is PS384, but the vector's public key says "alg":"PS256":
//       a key's own alg pins it (JwksKidAlgMismatch).
//   347, 351  the key says "alg":"ES521", which is no JWS algorithm: the key is skipped.
//   372, 373  a '?' inserted in the header / payload: strict base64url refuses it, where a
//       lenient decoder skips it (two encodings of one token are a parser differential).
// "invalid" vectors that the configured secret verifies: 367, 370 ("invalidBase64Padding")
// carry exactly the bytes of the valid tcId 357 -- the padding their comments describe is not
// in the file -- so a correct verifier must accept them with the secret (and does).
TEST_CASE("Wycheproof json_web_signature_test.json: every vector through KeySet::from_jwks and verification") {
  const auto vectors = load("json_web_signature_test.json");
  if (!vectors) {
    MESSAGE("SKIPPED (loud): wycheproof/json_web_signature_test.json not found; set PORTCULLIS_TESTDATA");
    return;
  }
  std::map<int, Refusal> on_purpose = {
      {346, {AuthStatus::JwksKidAlgMismatch, kKeyAlgPinned}},
      {350, {AuthStatus::JwksKidAlgMismatch, kKeyAlgPinned}},
      {347, {AuthStatus::JwksKidNotFound, kKeyAlgUnknown}},
      {351, {AuthStatus::JwksKidNotFound, kKeyAlgUnknown}},
      {372, {AuthStatus::JwtBadBase64, kStrictBase64}},
      {373, {AuthStatus::JwtBadBase64, kStrictBase64}},
  };
  for (int id : {1, 348, 352, 357, 358, 359, 376, 377}) on_purpose[id] = {AuthStatus::JwksKidNotFound, kHmacInJwks};
  const Tally t = run_file(*vectors, on_purpose, {367, 370});
  CHECK(t.run == 401);
  CHECK(t.agreed + t.acceptable + 14 == t.run);

  // Named attacks stop at the right step, with the exact status.
  const std::map<int, AuthStatus> expected = {
      {3, AuthStatus::JwtSignatureMalformed},  // missing signature
      {4, AuthStatus::JwtBadSegmentCount},     // missing signature and separator
      {13, AuthStatus::JwtBadSegmentCount},    // empty string
      {16, AuthStatus::JwtAlgNone},            // alg none, no signature
      {17, AuthStatus::JwtBadSegmentCount},    // JSON serialization
      {31, AuthStatus::JwksKidAlgMismatch},    // HS256 "signed" with the EC public key's bytes
      {32, AuthStatus::JwtSignatureInvalid},   // the token's own jwk header is ignored
      {341, AuthStatus::JwtAlgNone},
      {342, AuthStatus::JwtAlgNone},
      {343, AuthStatus::JwtAlgNone},
      {344, AuthStatus::JwtAlgNone},
      {360, AuthStatus::JwtBadBase64},         // spaces in the MAC
      {365, AuthStatus::JwtBadBase64},         // spaces in the header
      {374, AuthStatus::JwtBadBase64},         // modified unused bits
  };
  for (const Vector& v : *vectors) {
    auto it = expected.find(v.id);
    if (it == expected.end()) continue;
    CAPTURE(v.id);
    CAPTURE(v.comment);
    CHECK(run(v.jws, v.jwks).status == it->second);
  }
  report("json_web_signature_test.json", t);
}

// RFC 7520 §4.1 (RS256), §4.3 (ES512), §4.4 (HS256) examples: the keys of §3.3, §3.2, §3.5
// and the compact serializations, base64url values only.
namespace {

constexpr const char* kRfcPayload =
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5k"
    "IGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";

constexpr const char* kRfcRsaJwks =
    R"({"keys":[{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":")"
    "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_"
    "NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC"
    "0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw"
    R"(","e":"AQAB"}]})";

constexpr const char* kRfcRs256Header = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
constexpr const char* kRfcRs256Signature =
    "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78"
    "185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3"
    "IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg";

constexpr const char* kRfcEcJwks =
    R"({"keys":[{"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521",)"
    R"("x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",)"
    R"("y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}]})";
constexpr const char* kRfcEs512Header = "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
constexpr const char* kRfcEs512Signature =
    "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7"
    "XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";

constexpr const char* kRfcHmacK = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";
constexpr const char* kRfcHs256Header =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9";
constexpr const char* kRfcHs256Signature = "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

std::string compact(const char* header, const char* signature) {
  return std::string(header) + "." + kRfcPayload + "." + signature;
}

// Both routes: the verifier's key selection, and crypto::verify_signature with the key the
// kid names.
void check_rfc_example(const std::string& token, const KeySet& keys, Alg alg) {
  ParsedJws jws;
  std::string payload;
  REQUIRE(parse_jws_raw_payload(token, jws, payload) == AuthStatus::Ok);
  CHECK(jws.alg == alg);
  CHECK(payload.rfind("It\xE2\x80\x99s a dangerous business, Frodo", 0) == 0);
  const KeySet::Entry* by = nullptr;
  CHECK(verify_jws_signature(jws, keys, by) == AuthStatus::Ok);
  REQUIRE(jws.kid);
  const KeySet::Entry* entry = keys.find(*jws.kid);
  REQUIRE(entry != nullptr);
  CHECK(by == entry);
  CHECK(crypto::verify_signature(alg, *entry->key, jws.signing_input, jws.signature) == AuthStatus::Ok);

  // One payload character changed ('S' -> 'T'): the signature no longer covers it.
  std::string tampered = token;
  tampered[tampered.find('.') + 1] = 'T';
  REQUIRE(parse_jws_raw_payload(tampered, jws, payload) == AuthStatus::Ok);
  CHECK(verify_jws_signature(jws, keys, by) == AuthStatus::JwtSignatureInvalid);
}

}  // namespace

TEST_CASE("RFC 7520 §4 examples verify through KeySet and crypto::verify_signature") {
  SUBCASE("§4.1 RSA v1.5 (RS256)") {
    KeySet::Report report;
    const auto keys = KeySet::from_jwks(kRfcRsaJwks, 1 << 20, report);
    REQUIRE(keys);
    REQUIRE(keys->size() == 1);
    check_rfc_example(compact(kRfcRs256Header, kRfcRs256Signature), *keys, Alg::RS256);
  }
  SUBCASE("§4.3 ECDSA (ES512)") {
    KeySet::Report report;
    const auto keys = KeySet::from_jwks(kRfcEcJwks, 1 << 20, report);
    REQUIRE(keys);
    REQUIRE(keys->size() == 1);
    check_rfc_example(compact(kRfcEs512Header, kRfcEs512Signature), *keys, Alg::ES512);
  }
  SUBCASE("§4.4 HMAC-SHA2 (HS256) with the secret configured") {
    std::string secret;
    REQUIRE(base64url_decode(kRfcHmacK, secret));
    KeySet::Report report;
    const auto keys = KeySet::from_secret(secret, report);
    REQUIRE(keys);
    // The token names kid 018c0ae5-...: the configured secret is the issuer's only key.
    check_rfc_example(compact(kRfcHs256Header, kRfcHs256Signature), *keys, Alg::HS256);
  }
  SUBCASE("§4.4 HS256 with the same key published in a JWKS is refused") {
    const std::string jwks = std::string(R"({"keys":[{"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037",)") +
                             R"("use":"sig","alg":"HS256","k":")" + kRfcHmacK + R"("}]})";
    KeySet::Report report;
    const auto keys = KeySet::from_jwks(jwks, 1 << 20, report);
    REQUIRE(keys);
    CHECK(keys->size() == 0);
    ParsedJws jws;
    std::string payload;
    const std::string token = compact(kRfcHs256Header, kRfcHs256Signature);  // the views point into it
    REQUIRE(parse_jws_raw_payload(token, jws, payload) == AuthStatus::Ok);
    const KeySet::Entry* by = nullptr;
    CHECK(verify_jws_signature(jws, *keys, by) == AuthStatus::JwksKidNotFound);
  }
  SUBCASE("the §4.1 signature does not verify as PS256 with the same key") {
    KeySet::Report report;
    const auto keys = KeySet::from_jwks(kRfcRsaJwks, 1 << 20, report);
    REQUIRE(keys);
    ParsedJws jws;
    std::string payload;
    const std::string token = compact(kRfcRs256Header, kRfcRs256Signature);  // the views point into it
    REQUIRE(parse_jws_raw_payload(token, jws, payload) == AuthStatus::Ok);
    CHECK(crypto::verify_signature(Alg::PS256, *keys->entries()[0].key, jws.signing_input, jws.signature) ==
          AuthStatus::JwtSignatureInvalid);
  }
}
