// Runs every applicable Wycheproof raw-signature vector through the same path a JWS takes:
// build_verification_key (from the vector's public key) + verify_signature (over `msg`).
//
// "acceptable" vectors: the only ones in these files are RSA PKCS#1 v1.5 signatures whose
// DigestInfo lacks the NULL parameter (flag MissingNull). We require them to be REJECTED:
// RFC 8017 §9.2 encodes the NULL, and a strict encoding check leaves no room for variants.
//
// "not applicable" vectors are counted with a reason, never dropped silently: RSA keys under
// 2048 bits (Portcullis refuses them, which the test also checks) and RSA-PSS or ECDSA
// parameters other than those RFC 7518 fixes for a JWS algorithm.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "crypto/crypto_test_support.h"

namespace portcullis::auth::crypto {
namespace {

using namespace testing;
namespace fs = std::filesystem;
using Json = rapidjson::Value;

std::optional<fs::path> wycheproof_dir() {
  for (const char* env : {"PORTCULLIS_TESTDATA", "PORTCULLIS_TESTDATA_DEFAULT"}) {
    const char* root = std::getenv(env);
    if (root != nullptr && *root != '\0' && fs::is_directory(fs::path(root) / "wycheproof")) {
      return fs::path(root) / "wycheproof";
    }
  }
  const fs::path relative = "../shared/testdata/wycheproof";
  if (fs::is_directory(relative)) return relative;
  return std::nullopt;
}

enum class Kind { Ecdsa, RsaPkcs1, RsaPss, EdDsa };

struct FileSpec {
  const char* file;
  Kind kind;
  Alg alg;
  Curve crv;
  const char* sha;  // the hash RFC 7518 fixes for `alg` (Wycheproof spelling)
  std::size_t size; // ECDSA coordinate bytes / PSS salt bytes
};

constexpr FileSpec kFiles[] = {
    {"ecdsa_secp256r1_sha256_p1363_test.json", Kind::Ecdsa, Alg::ES256, Curve::P256, "SHA-256", 32},
    {"ecdsa_secp384r1_sha384_p1363_test.json", Kind::Ecdsa, Alg::ES384, Curve::P384, "SHA-384", 48},
    {"ecdsa_secp521r1_sha512_p1363_test.json", Kind::Ecdsa, Alg::ES512, Curve::P521, "SHA-512", 66},
    {"rsa_signature_2048_sha256_test.json", Kind::RsaPkcs1, Alg::RS256, Curve::None, "SHA-256", 0},
    {"rsa_pss_2048_sha256_mgf1_32_test.json", Kind::RsaPss, Alg::PS256, Curve::None, "SHA-256", 32},
    {"ed25519_test.json", Kind::EdDsa, Alg::EdDSA, Curve::Ed25519, nullptr, 0},
};

std::string str(const Json& obj, const char* member) {
  auto it = obj.FindMember(member);
  return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}
int integer(const Json& obj, const char* member) {
  auto it = obj.FindMember(member);
  return it != obj.MemberEnd() && it->value.IsInt() ? it->value.GetInt() : -1;
}

// Wycheproof hex integers may carry a sign octet or be short; JWK coordinates are fixed-size.
std::string fixed_width(std::string v, std::size_t size) {
  const std::size_t first = v.find_first_not_of('\0');
  v = first == std::string::npos ? std::string() : v.substr(first);
  return v.size() >= size ? v : std::string(size - v.size(), '\0') + v;
}

// Why a group does not apply to JWS, or empty when it does.
std::string not_applicable(const FileSpec& spec, const Json& group) {
  if (spec.sha != nullptr && str(group, "sha") != spec.sha) {
    return "hash " + str(group, "sha") + " is not the one " + std::string(name(spec.alg)) + " uses";
  }
  if (spec.kind == Kind::RsaPkcs1 || spec.kind == Kind::RsaPss) {
    if (integer(group, "keySize") < 2048) return "RSA key under 2048 bits (refused by Portcullis)";
  }
  if (spec.kind == Kind::RsaPss) {
    if (str(group, "mgf") != "MGF1" || str(group, "mgfSha") != spec.sha ||
        integer(group, "sLen") != static_cast<int>(spec.size)) {
      return "PSS parameters differ from RFC 7518 §3.5 (MGF1 with the same hash, salt = hash length)";
    }
  }
  return "";
}

JwkParams key_of(const FileSpec& spec, const Json& group) {
  const Json& pk = group["publicKey"];
  JwkParams p;
  switch (spec.kind) {
    case Kind::Ecdsa:
      p.kty = KeyType::EC;
      p.crv = spec.crv;
      p.x = fixed_width(hex(str(pk, "wx")), spec.size);
      p.y = fixed_width(hex(str(pk, "wy")), spec.size);
      break;
    case Kind::RsaPkcs1:
    case Kind::RsaPss:
      p.kty = KeyType::RSA;
      p.n = hex(str(pk, "modulus"));
      p.e = hex(str(pk, "publicExponent"));
      break;
    case Kind::EdDsa:
      p.kty = KeyType::OKP;
      p.crv = Curve::Ed25519;
      p.x = hex(str(pk, "pk"));
      break;
  }
  return p;
}

struct Tally {
  int total = 0, ran = 0, passed = 0;
  std::map<std::string, int> not_applicable;  // reason -> vectors
  std::map<std::string, int> rejections;      // status of each rejected vector
  int acceptable = 0;
};

void run_file(const FileSpec& spec, const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), ("cannot read " + path.string()));
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.HasMember("testGroups"));

  Tally tally;
  for (const Json& group : doc["testGroups"].GetArray()) {
    const Json& tests = group["tests"];
    tally.total += static_cast<int>(tests.Size());
    const std::string why_not = not_applicable(spec, group);
    const JwkParams params = key_of(spec, group);
    auto key = build_verification_key(params);
    if (!why_not.empty()) {
      tally.not_applicable[why_not] += static_cast<int>(tests.Size());
      if (integer(group, "keySize") > 0 && integer(group, "keySize") < 2048) CHECK_FALSE(key.ok());
      continue;
    }
    REQUIRE_MESSAGE(key.ok(), (std::string(spec.file) + ": key refused: " + (key.ok() ? "" : key.error().message)));
    for (const Json& test : tests.GetArray()) {
      const std::string result = str(test, "result");
      const AuthStatus status = verify_signature(spec.alg, **key, hex(str(test, "msg")), hex(str(test, "sig")));
      // Valid must verify; invalid and (our choice, see top) acceptable must not.
      const bool want_ok = result == "valid";
      const bool agree = (status == AuthStatus::Ok) == want_ok;
      ++tally.ran;
      if (agree) ++tally.passed;
      if (result == "acceptable") ++tally.acceptable;
      if (status != AuthStatus::Ok) ++tally.rejections[std::string(name(status))];
      if (!agree) {
        std::ostringstream what;
        what << spec.file << " tcId " << integer(test, "tcId") << " (" << str(test, "comment")
             << ") expected " << result << ", got " << name(status);
        FAIL_CHECK(what.str());
      }
    }
  }

  std::ostringstream summary;
  summary << spec.file << ": " << tally.total << " vectors, " << tally.ran << " ran, " << tally.passed
          << " passed";
  if (tally.acceptable > 0) summary << " (" << tally.acceptable << " 'acceptable' required to fail)";
  for (const auto& [status, count] : tally.rejections) summary << "; " << count << " rejected as " << status;
  for (const auto& [reason, count] : tally.not_applicable) summary << "; " << count << " not applicable: " << reason;
  MESSAGE(summary.str());
  CHECK(doc["numberOfTests"].GetInt() == tally.total);
  CHECK(tally.ran > 0);
  CHECK(tally.passed == tally.ran);
}

TEST_CASE("Wycheproof groups outside JWS are counted as not applicable, with a reason") {
  const FileSpec& es256 = kFiles[0];
  const FileSpec& rs256 = kFiles[3];
  const FileSpec& ps256 = kFiles[4];
  struct Row {
    const char* name;
    const FileSpec& spec;
    const char* group;
    const char* reason;  // fragment; "" = applicable
  };
  const Row rows[] = {
      {"RSA 2048 SHA-256", rs256, R"({"sha":"SHA-256","keySize":2048})", ""},
      {"RSA 1024", rs256, R"({"sha":"SHA-256","keySize":1024})", "under 2048 bits"},
      {"RSA SHA-1", rs256, R"({"sha":"SHA-1","keySize":2048})", "hash SHA-1"},
      {"PSS as in RFC 7518", ps256, R"({"sha":"SHA-256","keySize":2048,"mgf":"MGF1","mgfSha":"SHA-256","sLen":32})", ""},
      {"PSS salt 20", ps256, R"({"sha":"SHA-256","keySize":2048,"mgf":"MGF1","mgfSha":"SHA-256","sLen":20})",
       "PSS parameters"},
      {"PSS salt 0", ps256, R"({"sha":"SHA-256","keySize":2048,"mgf":"MGF1","mgfSha":"SHA-256","sLen":0})",
       "PSS parameters"},
      {"PSS MGF1 SHA-1", ps256, R"({"sha":"SHA-256","keySize":2048,"mgf":"MGF1","mgfSha":"SHA-1","sLen":32})",
       "PSS parameters"},
      {"PSS 1024", ps256, R"({"sha":"SHA-256","keySize":1024,"mgf":"MGF1","mgfSha":"SHA-256","sLen":32})",
       "under 2048 bits"},
      {"P-256 with SHA-512", es256, R"({"sha":"SHA-512"})", "hash SHA-512"},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      rapidjson::Document group;
      group.Parse(row.group);
      REQUIRE_FALSE(group.HasParseError());
      const std::string why = not_applicable(row.spec, group);
      if (*row.reason == '\0') {
        CHECK(why.empty());
      } else {
        CHECK_MESSAGE(why.find(row.reason) != std::string::npos, why);
      }
    }
  }
}

TEST_CASE("Wycheproof raw-signature vectors agree with build_verification_key + verify_signature") {
  const std::optional<fs::path> dir = wycheproof_dir();
  if (!dir) {
    MESSAGE("SKIPPED: no Wycheproof vectors (set PORTCULLIS_TESTDATA or run from ctest)");
    return;
  }
  for (const FileSpec& spec : kFiles) {
    SUBCASE(spec.file) {
      const fs::path path = *dir / spec.file;
      if (!fs::exists(path)) {
        MESSAGE(("SKIPPED: missing " + path.string()));
        return;
      }
      run_file(spec, path);
    }
  }
}

}  // namespace
}  // namespace portcullis::auth::crypto
