// Fuzz target: compact JWS parsing and the whole offline verification of a bearer token
// (auth/jws.h, auth/verifier.h) against a fixed key set: two issuers, one with the JWKS of
// fixed_keys.h (RSA, EC P-256/384/521, Ed25519, a kid-less key), one with an HMAC secret.
//
// Input: a token as it arrives in `Authorization: Bearer`. An input starting with '{' is
// instead `header JSON \0 payload JSON \0 signature bytes`, base64url-encoded here into a
// token, so the fuzzer can also mutate the JSON itself (claims, alg, kid, crit...) rather
// than its base64url text. JSON never holds a raw NUL, so the split is unambiguous.
//
// Differentials: a token the parser accepts re-encodes to the same bytes (each segment is the
// one canonical base64url of its decoded bytes), and its header and claims, written out as
// JSON and parsed again, give equal documents; verify_token fails with parse_jws's status
// whenever parse_jws fails; a verified token parses, has an identity and a key.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "auth/base64url.h"
#include "auth/json.h"
#include "auth/jws.h"
#include "auth/key_set.h"
#include "auth/verifier.h"
#include "fixed_keys.h"
#include "fuzz_check.h"

namespace auth = portcullis::auth;

namespace {

struct Fixture {
  std::shared_ptr<const auth::KeySet> jwks;
  std::shared_ptr<const auth::KeySet> secret;
  auth::ClaimRules jwks_rules;
  auth::ClaimRules secret_rules;
  std::vector<auth::Alg> jwks_algs;
  std::vector<auth::Alg> secret_algs;
  std::vector<auth::IssuerView> issuers;
};

const Fixture& fixture() {
  static const Fixture* f = [] {
    auto* fx = new Fixture;
    auth::KeySet::Report report;
    fx->jwks = auth::KeySet::from_jwks(portcullis::fuzz::kFixedJwks, 1 << 20, report);
    FUZZ_CHECK(fx->jwks && fx->jwks->size() == 6 && report.skipped.empty());
    fx->secret = auth::KeySet::from_secret(std::string(portcullis::fuzz::kFixedHmacSecret), report);
    FUZZ_CHECK(fx->secret && fx->secret->size() == 1);

    fx->jwks_rules.issuer = "https://auth.example.com";
    fx->jwks_rules.audiences = {"orders-api", "billing-api"};
    fx->jwks_rules.leeway_seconds = 30;
    fx->secret_rules.issuer = "https://hs.example.com";
    fx->secret_rules.audiences = {"internal"};
    fx->secret_rules.require_typ = "at+jwt";
    fx->secret_rules.scope_claim = "scp";
    fx->secret_rules.require_exp = false;
    using auth::Alg;
    fx->jwks_algs = {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384,
                     Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA};
    fx->secret_algs = {Alg::HS256, Alg::HS384, Alg::HS512};
    fx->issuers = {{&fx->jwks_rules, fx->jwks_algs, fx->jwks.get()},
                   {&fx->secret_rules, fx->secret_algs, fx->secret.get()}};
    return fx;
  }();
  return *f;
}

// Builds a token from "header \0 payload \0 signature".
std::string token_from_parts(std::string_view input) {
  const size_t a = input.find('\0');
  const size_t b = a == std::string_view::npos ? a : input.find('\0', a + 1);
  const std::string_view header = input.substr(0, a);
  const std::string_view payload = a == std::string_view::npos ? std::string_view() : input.substr(a + 1, b - a - 1);
  const std::string_view signature = b == std::string_view::npos ? std::string_view() : input.substr(b + 1);
  return auth::base64url_encode(header) + "." + auth::base64url_encode(payload) + "." +
         auth::base64url_encode(signature);
}

void check_canonical_segment(std::string_view segment) {
  static std::string decoded;
  decoded.clear();
  FUZZ_CHECK(auth::base64url_decode(segment, decoded));
  FUZZ_CHECK(auth::base64url_encode(decoded) == segment);
}

// Written out and parsed again by the same strict parser: the same document.
void check_json_round_trip(const rapidjson::Value& value) {
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> writer(text);
  FUZZ_CHECK(value.Accept(writer));
  rapidjson::Document again;
  FUZZ_CHECK(auth::parse_json_object(std::string_view(text.GetString(), text.GetSize()), again) == auth::AuthStatus::Ok);
  FUZZ_CHECK(again == value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fx = fixture();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string built;
  std::string_view token = input;
  if (!input.empty() && input.front() == '{') {
    built = token_from_parts(input);
    token = built;
  }

  static auto parsed = std::make_unique<auth::ParsedJws>();
  static std::string scratch;
  const auth::AuthStatus parse_status = auth::parse_jws(token, *parsed, scratch);
  FUZZ_CHECK(!auth::to_string(parse_status).empty() && !auth::describe(parse_status).empty());
  if (parse_status == auth::AuthStatus::Ok) {
    auth::JwsSegments segments;
    FUZZ_CHECK(auth::split_compact(token, segments) == auth::AuthStatus::Ok);
    check_canonical_segment(segments.header);
    check_canonical_segment(segments.payload);
    check_canonical_segment(segments.signature);
    FUZZ_CHECK(parsed->signing_input == segments.signing_input);
    FUZZ_CHECK(auth::base64url_encode(parsed->signature) == segments.signature);
    FUZZ_CHECK(auth::alg_from_string(auth::to_string(parsed->alg)) == parsed->alg);
    check_json_round_trip(parsed->header);
    check_json_round_trip(parsed->payload);

    // The raw-payload parse accepts every token parse_jws accepts, with the same header.
    static auto raw = std::make_unique<auth::ParsedJws>();
    static std::string payload_bytes;
    FUZZ_CHECK(auth::parse_jws_raw_payload(token, *raw, payload_bytes) == auth::AuthStatus::Ok);
    FUZZ_CHECK(raw->alg == parsed->alg && raw->kid == parsed->kid && raw->typ == parsed->typ);
    FUZZ_CHECK(raw->signature == parsed->signature);
  }

  static auto verify_scratch = std::make_unique<auth::VerifyScratch>();
  auth::VerifyOutcome outcome;
  auth::verify_token(token, fx.issuers, portcullis::fuzz::kFixedNow, *verify_scratch, outcome);
  if (parse_status != auth::AuthStatus::Ok) FUZZ_CHECK(outcome.status == parse_status);
  if (outcome.status == auth::AuthStatus::Ok) {
    FUZZ_CHECK(parse_status == auth::AuthStatus::Ok);
    FUZZ_CHECK(outcome.identity != nullptr && outcome.key_id != 0);
    FUZZ_CHECK(outcome.issuer == 0 || outcome.issuer == 1);
    FUZZ_CHECK(outcome.identity->issuer == fx.issuers[static_cast<size_t>(outcome.issuer)].rules->issuer);
  }
  return 0;
}
