#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "auth/crypto/signer.h"
#include "auth/crypto/verify.h"
#include "auth/jwks.h"
#include "cli/cli_test_util.h"
#include "cli/command_io.h"
#include "cli/commands.h"
#include "core/clock.h"

namespace portcullis::cli {
namespace {

using namespace testing;
using auth::Alg;

constexpr int64_t kNow = 1'700'000'000;

struct Run {
  int code;
  std::string out, err;
};

Run keys(std::vector<std::string_view> args) {
  Capture out, err;
  const int code = run_keys(args, Io{out.file(), err.file(), nullptr});
  return {code, out.str(), err.str()};
}

Run token(std::vector<std::string_view> args) {
  static const ManualClock clock(kNow);
  Capture out, err;
  const int code = run_token(args, Io{out.file(), err.file(), &clock});
  return {code, out.str(), err.str()};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

unsigned mode_of(const std::string& path) {
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// The token printed on stdout, verified against the jwks.json `keys generate` wrote.
auth::AuthStatus verify_with_jwks(const std::string& jwks_path, const Run& r, Alg* alg_out = nullptr) {
  REQUIRE(r.code == 0);
  REQUIRE(r.out.ends_with('\n'));
  const std::string compact = r.out.substr(0, r.out.size() - 1);
  REQUIRE(compact.find('\n') == std::string::npos);
  const DecodedToken d = decode(compact);
  const Alg alg = *auth::alg_from_string(str(d.header, "alg"));
  if (alg_out) *alg_out = alg;
  const auth::JwksParseResult set = auth::parse_jwks(slurp(jwks_path), 1 << 20);
  REQUIRE(set.keys.size() == 1);
  CHECK(set.keys[0].kid == std::optional<std::string>(str(d.header, "kid")));
  Result<auth::crypto::KeyPtr> vk = auth::crypto::build_verification_key(set.keys[0]);
  REQUIRE(vk.ok());
  return auth::crypto::verify_signature(alg, **vk, d.signing_input, d.signature);
}

TEST_CASE("keys generate writes private.pem, public.pem and jwks.json, then token mint signs for it") {
  for (std::string_view alg : {"RS256", "PS384", "ES256", "ES384", "ES512", "EdDSA"}) {
    SUBCASE(std::string(alg).c_str()) {
      ScratchDir tmp;
      const std::string dir = tmp / "nested/keys";
      const Run g = keys({"generate", "--alg", alg, "--out", dir});
      REQUIRE_MESSAGE(g.code == 0, g.err);
      CHECK(g.err.empty());
      CHECK(mode_of(tmp / "nested") == 0700);
      CHECK(mode_of(dir) == 0700);
      CHECK(mode_of(dir + "/private.pem") == 0600);
      CHECK(mode_of(dir + "/public.pem") == 0644);
      CHECK(mode_of(dir + "/jwks.json") == 0644);
      CHECK(slurp(dir + "/private.pem").starts_with("-----BEGIN PRIVATE KEY-----"));
      CHECK(slurp(dir + "/public.pem").starts_with("-----BEGIN PUBLIC KEY-----"));
      CHECK(std::filesystem::directory_iterator(dir) != std::filesystem::directory_iterator());
      CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 3);

      // The kid printed is the RFC 7638 thumbprint of the key in the PEM.
      Result<auth::crypto::SigningKey> key = auth::crypto::SigningKey::from_pem(slurp(dir + "/private.pem"));
      REQUIRE(key.ok());
      const std::string kid = *key->thumbprint();
      CHECK(g.out == "wrote " + dir + "/private.pem (private key, mode 0600)\nwrote " + dir + "/public.pem\nwrote " +
                         dir + "/jwks.json\nalg: " + std::string(alg) + "\nkid: " + kid + "\n");
      const auth::JwksParseResult set = auth::parse_jwks(slurp(dir + "/jwks.json"), 1 << 20);
      REQUIRE(set.keys.size() == 1);
      CHECK(set.keys[0].kid == std::optional<std::string>(kid));
      CHECK(set.keys[0].alg == auth::alg_from_string(alg));

      // Mint with defaults: alg and kid come from the jwks.json next to the key.
      const Run t = token({"mint", "--key", dir + "/private.pem", "--claims", R"({"sub":"alice"})"});
      CHECK(t.err == "portcullis token: warning: minted tokens are for tests and demos only\n");
      Alg used{};
      CHECK(verify_with_jwks(dir + "/jwks.json", t, &used) == auth::AuthStatus::Ok);
      CHECK(used == *auth::alg_from_string(alg));
    }
  }
}

TEST_CASE("token mint defaults without a jwks.json: alg from the key type, kid = thumbprint") {
  struct Row {
    Alg gen;
    const char* expected_alg;
  };
  const Row rows[] = {{Alg::PS256, "RS256"}, {Alg::ES256, "ES256"}, {Alg::ES384, "ES384"},
                      {Alg::ES512, "ES512"}, {Alg::EdDSA, "EdDSA"}};
  for (const Row& r : rows) {
    SUBCASE(r.expected_alg) {
      ScratchDir tmp;
      Result<auth::crypto::SigningKey> key = auth::crypto::SigningKey::generate(r.gen);
      REQUIRE(key.ok());
      spit(tmp / "k.pem", *key->private_pem());
      const Run t = token({"mint", "--key", tmp / "k.pem", "--claims", "{}", "--ttl", "1h"});
      REQUIRE_MESSAGE(t.code == 0, t.err);
      const DecodedToken d = decode(t.out.substr(0, t.out.size() - 1));
      CHECK(names(d.header) == std::vector<std::string>{"alg", "typ", "kid"});
      CHECK(str(d.header, "alg") == r.expected_alg);
      CHECK(str(d.header, "typ") == "JWT");
      CHECK(str(d.header, "kid") == *key->thumbprint());
      CHECK(d.payload["iat"].GetInt64() == kNow);
      CHECK(d.payload["exp"].GetInt64() == kNow + 3600);
    }
  }
}

TEST_CASE("token mint flags: --kid, --alg, --header, --ttl 0, --secret-file") {
  ScratchDir tmp;
  REQUIRE(keys({"generate", "--alg", "RS256", "--out", tmp.path(), "--kid", "custom"}).code == 0);
  const std::string key = tmp / "private.pem";
  SUBCASE("--kid given at generate time is the mint default") {
    const Run t = token({"mint", "--key", key, "--claims", "{}"});
    CHECK(verify_with_jwks(tmp / "jwks.json", t) == auth::AuthStatus::Ok);
  }
  SUBCASE("--kid, --header and --ttl 0") {
    const Run t = token({"mint", "--key", key, "--claims", R"({"scope":"orders:read"})", "--kid", "other", "--header",
                         R"({"typ":"at+jwt"})", "--ttl", "0"});
    REQUIRE(t.code == 0);
    const DecodedToken d = decode(t.out.substr(0, t.out.size() - 1));
    CHECK(str(d.header, "kid") == "other");
    CHECK(str(d.header, "typ") == "at+jwt");
    CHECK_FALSE(d.payload.HasMember("exp"));
    CHECK(str(d.payload, "scope") == "orders:read");
  }
  SUBCASE("--alg PS512 with an RSA key (the JWK pins RS256, so the gateway would refuse it)") {
    const Run t = token({"mint", "--key", key, "--claims", "{}", "--alg", "PS512"});
    REQUIRE(t.code == 0);
    const DecodedToken d = decode(t.out.substr(0, t.out.size() - 1));
    CHECK(str(d.header, "alg") == "PS512");
    Result<auth::crypto::KeyPtr> vk =
        auth::crypto::build_verification_key(*auth::crypto::SigningKey::from_pem(slurp(key))->public_params());
    REQUIRE(vk.ok());
    CHECK(auth::crypto::verify_signature(Alg::PS512, **vk, d.signing_input, d.signature) == auth::AuthStatus::Ok);
  }
  SUBCASE("--secret-file, trailing newline ignored as the gateway does") {
    const std::string secret(48, 'z');
    const std::string secret_path = tmp / "secret";
    spit(secret_path, secret + "\n");
    for (std::string_view alg : {"", "HS256", "HS384"}) {
      std::vector<std::string_view> args{"mint", "--secret-file", secret_path, "--claims", "{}"};
      if (!alg.empty()) args.insert(args.end(), {"--alg", alg});
      const Run t = token(args);
      REQUIRE_MESSAGE(t.code == 0, t.err);
      const DecodedToken d = decode(t.out.substr(0, t.out.size() - 1));
      CHECK(names(d.header) == std::vector<std::string>{"alg", "typ"});
      const Alg used = *auth::alg_from_string(str(d.header, "alg"));
      CHECK(used == (alg.empty() ? Alg::HS256 : *auth::alg_from_string(alg)));
      Result<auth::crypto::KeyPtr> vk = auth::crypto::build_hmac_key(secret, std::nullopt);
      REQUIRE(vk.ok());
      CHECK(auth::crypto::verify_signature(used, **vk, d.signing_input, d.signature) == auth::AuthStatus::Ok);
    }
  }
}

TEST_CASE("keys generate refuses to overwrite private.pem unless --force") {
  ScratchDir tmp;
  REQUIRE(keys({"generate", "--out", tmp.path()}).code == 0);
  const std::string before = slurp(tmp / "private.pem");
  const Run again = keys({"generate", "--out", tmp.path()});
  CHECK(again.code == 1);
  CHECK(again.out.empty());
  CHECK(again.err == "portcullis keys: " + tmp.path() + "/private.pem already exists; use --force to replace it\n");
  CHECK(slurp(tmp / "private.pem") == before);
  const Run forced = keys({"generate", "--out", tmp.path(), "--force", "--alg", "EdDSA"});
  CHECK(forced.code == 0);
  CHECK(slurp(tmp / "private.pem") != before);
  CHECK(mode_of(tmp / "private.pem") == 0600);
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path()), std::filesystem::directory_iterator()) == 3);
}

TEST_CASE("keys generate fails cleanly when DIR cannot be a directory") {
  ScratchDir tmp;
  spit(tmp / "file", "x");
  const Run r = keys({"generate", "--out", tmp / "file"});
  CHECK(r.code == 1);
  CHECK(r.err == "portcullis keys: " + (tmp / "file") + " is not a directory\n");
}

TEST_CASE("keys usage errors exit 2 with the usage on stderr") {
  struct Row {
    const char* name;
    std::vector<std::string_view> args;
    const char* error;
  };
  const Row rows[] = {
      {"no command", {}, "missing command (generate)"},
      {"unknown command", {"rotate"}, "unknown command: rotate"},
      {"unknown flag", {"generate", "--out", "/nonexistent/x", "--bits", "4096"}, "unknown flag: --bits"},
      {"missing --out", {"generate", "--alg", "ES256"}, "--out DIR is required"},
      {"empty --out", {"generate", "--out="}, "--out DIR is required"},
      {"missing value", {"generate", "--out"}, "--out needs a value"},
      {"unknown alg", {"generate", "--out", "/nonexistent/x", "--alg", "es256"}, "unknown --alg es256"},
      {"alg none", {"generate", "--out", "/nonexistent/x", "--alg", "none"}, "unknown --alg none"},
      {"HMAC alg", {"generate", "--out", "/nonexistent/x", "--alg", "HS256"},
       "HS256 uses a shared secret, not a key pair (mint with --secret-file)"},
      {"empty kid", {"generate", "--out", "/nonexistent/x", "--kid", ""}, "--kid must not be empty"},
      {"positional", {"generate", "/tmp/x"}, "unexpected argument: /tmp/x"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      const Run run = keys(r.args);
      CHECK(run.code == 2);
      CHECK(run.out.empty());
      CHECK(run.err == "portcullis keys: " + std::string(r.error) + "\n\n" + std::string(kKeysUsage));
    }
  }
}

TEST_CASE("token usage errors exit 2 with the usage on stderr") {
  ScratchDir tmp;
  REQUIRE(keys({"generate", "--alg", "ES256", "--out", tmp.path()}).code == 0);
  const std::string key = tmp / "private.pem";
  struct Row {
    const char* name;
    std::vector<std::string_view> args;
    std::string error;
  };
  const Row rows[] = {
      {"no command", {}, "missing command (mint)"},
      {"unknown command", {"verify"}, "unknown command: verify"},
      {"unknown flag", {"mint", "--key", key, "--claims", "{}", "--exp", "5"}, "unknown flag: --exp"},
      {"no key", {"mint", "--claims", "{}"}, "--key FILE (or --secret-file FILE) is required"},
      {"key and secret", {"mint", "--key", key, "--secret-file", key, "--claims", "{}"},
       "--key and --secret-file exclude each other"},
      {"no claims", {"mint", "--key", key}, "--claims JSON is required"},
      {"claims not an object", {"mint", "--key", key, "--claims", "[]"},
       "--claims must be a JSON object, e.g. '{\"sub\":\"alice\"}'"},
      {"claims not JSON", {"mint", "--key", key, "--claims", "sub=alice"}, "--claims is not valid JSON"},
      {"header not an object", {"mint", "--key", key, "--claims", "{}", "--header", "1"},
       "--header must be a JSON object, e.g. '{\"sub\":\"alice\"}'"},
      {"unknown alg", {"mint", "--key", key, "--claims", "{}", "--alg", "ES257"}, "unknown --alg ES257"},
      {"alg none", {"mint", "--key", key, "--claims", "{}", "--alg", "none"}, "unknown --alg none"},
      {"alg unfit for the key", {"mint", "--key", key, "--claims", "{}", "--alg", "RS256"},
       "RS256 cannot be used with the key in " + key},
      {"HMAC alg with a key", {"mint", "--key", key, "--claims", "{}", "--alg", "HS256"},
       "HS256 needs --secret-file, not --key"},
      {"asymmetric alg with a secret", {"mint", "--secret-file", key, "--claims", "{}", "--alg", "ES256"},
       "--secret-file signs only HS256, HS384 or HS512"},
      {"bad ttl", {"mint", "--key", key, "--claims", "{}", "--ttl", "15"}, "--ttl needs a unit, e.g. 15s"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      const Run run = token(r.args);
      CHECK(run.code == 2);
      CHECK(run.out.empty());
      CHECK(run.err == "portcullis token: " + r.error + "\n\n" + std::string(kTokenUsage));
    }
  }
}

TEST_CASE("token failures exit 1 without printing key material") {
  ScratchDir tmp;
  const std::string body = "MIIBsecretsecretsecretsecretsecretsecretsecretsec";  // not DER
  spit(tmp / "bad.pem", "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n");
  spit(tmp / "pub.pem", *auth::crypto::SigningKey::generate(Alg::ES256)->public_pem());
  spit(tmp / "short", std::string(31, 's'));
  struct Row {
    const char* name;
    std::vector<std::string_view> args;
    std::string error;
  };
  // Paths named here: the rows hold views into them.
  const std::string missing = tmp / "missing.pem", bad = tmp / "bad.pem", pub = tmp / "pub.pem", short_secret = tmp / "short";
  const Row rows[] = {
      {"missing key file", {"mint", "--key", missing, "--claims", "{}"}, missing + ": cannot open: No such file or directory"},
      {"key is a directory", {"mint", "--key", tmp.path(), "--claims", "{}"}, tmp.path() + ": is a directory, not a file"},
      {"corrupt PEM", {"mint", "--key", bad, "--claims", "{}"},
       bad + ": the PEM private key could not be read"},
      {"public key", {"mint", "--key", pub, "--claims", "{}"},
       pub + ": this is a public key; a private key is needed"},
      {"short secret", {"mint", "--secret-file", short_secret, "--claims", "{}"},
       "HS256 needs a secret of at least 32 bytes"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      const Run run = token(r.args);
      CHECK(run.code == 1);
      CHECK(run.out.empty());
      CHECK(run.err == "portcullis token: " + r.error + "\n");
      CHECK(run.err.find("secretsecret") == std::string::npos);
    }
  }
}

TEST_CASE("--help prints the usage on stdout and exits 0") {
  for (std::vector<std::string_view> args : {std::vector<std::string_view>{"--help"},
                                             std::vector<std::string_view>{"generate", "--help"},
                                             std::vector<std::string_view>{"generate", "--bogus", "-h"}}) {
    SUBCASE((std::string(args.front()) + " " + std::string(args.back())).c_str()) {
      const Run k = keys(args);
      CHECK(k.code == 0);
      CHECK(k.out == kKeysUsage);
      CHECK(k.err.empty());
      args.front() = args.front() == "generate" ? "mint" : args.front();
      const Run t = token(args);
      CHECK(t.code == 0);
      CHECK(t.out == kTokenUsage);
      CHECK(t.err.empty());
    }
  }
}

// The entry points main.cc calls, with a plain argv array (no shell, no output captured:
// both write their usage to the process's stderr).
TEST_CASE("keys_main and token_main return 2 on bad flags") {
  struct Row {
    const char* name;
    std::vector<std::string> argv;
    bool keys;
  };
  const Row rows[] = {
      {"keys unknown flag", {"generate", "--out", "/nonexistent/dir", "--nope"}, true},
      {"keys no command", {}, true},
      {"keys bad alg", {"generate", "--out", "/nonexistent/dir", "--alg", "RS1"}, true},
      {"token unknown flag", {"mint", "--key", "/nonexistent.pem", "--claims", "{}", "--nope"}, false},
      {"token missing claims", {"mint", "--key", "/nonexistent.pem"}, false},
      {"token bad ttl", {"mint", "--key", "/nonexistent.pem", "--claims", "{}", "--ttl", "soon"}, false},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      std::vector<std::string> storage = r.argv;
      std::vector<char*> argv;
      for (std::string& s : storage) argv.push_back(s.data());
      argv.push_back(nullptr);
      const int argc = static_cast<int>(storage.size());
      CHECK((r.keys ? keys_main(argc, argv.data()) : token_main(argc, argv.data())) == 2);
    }
  }
}

}  // namespace
}  // namespace portcullis::cli
