// portcullis token mint: a signed dev token for demos and tests.
#include <cstdlib>
#include <string>
#include <vector>

#include "auth/crypto/signer.h"
#include "auth/jwk.h"
#include "auth/jwks.h"
#include "cli/args.h"
#include "cli/command_io.h"
#include "cli/commands.h"
#include "cli/mint.h"
#include "config/gateway_config.h"

namespace portcullis::cli {

const std::string_view kTokenUsage =
    R"(Usage: portcullis token mint --key FILE --claims JSON [--ttl 15m] [--alg ALG] [--kid KID] [--header JSON]
       portcullis token mint --secret-file FILE --claims JSON [--alg HS256] [--ttl 15m] [--kid KID] [--header JSON]

Prints a signed JWT (compact JWS) on stdout. For tests and demos only.

Flags:
  --key FILE          a PEM private key, e.g. DIR/private.pem from `portcullis keys generate`
  --secret-file FILE  an HMAC secret instead of --key (trailing newlines ignored); HS256 by default
  --claims JSON       the payload, a JSON object; "iat" (now) and "exp" (now + ttl) are added
                      unless present
  --ttl DURATION      lifetime: 30s, 15m, 1h, 2h30m (default 15m); 0 adds no "exp"
  --alg ALG           default: the alg in DIR/jwks.json next to the key, else from the key
                      (RSA RS256, P-256 ES256, P-384 ES384, P-521 ES512, Ed25519 EdDSA)
  --kid KID           default: the kid in DIR/jwks.json next to the key, else the key's
                      RFC 7638 thumbprint; no kid with --secret-file
  --header JSON       header members merged over {"alg","typ":"JWT","kid"}: they replace ours
                      (the signature still uses the real alg), null removes one
  --count N           print N tokens, one per line, each with a distinct "jti" (benchmarks)
  --help              this text
)";

namespace {

constexpr FlagSpec kMintFlags[] = {{"key", true}, {"secret-file", true}, {"claims", true}, {"ttl", true},
                                   {"alg", true}, {"kid", true},         {"header", true},
                                   {"count", true}};

constexpr std::size_t kMaxKeyFileBytes = 1u << 20;
constexpr std::size_t kMaxSecretBytes = 64 * 1024;  // as the gateway reads secret_file

// What `keys generate` wrote next to this key, if anything: the JWK with the same
// thumbprint carries the kid and alg a gateway using that jwks.json expects.
struct Published {
  std::optional<std::string> kid;
  std::optional<auth::Alg> alg;
};

Published published_next_to(const std::string& key_path, const auth::crypto::SigningKey& key) {
  const std::size_t slash = key_path.rfind('/');
  const std::string jwks_path = (slash == std::string::npos ? std::string() : key_path.substr(0, slash + 1)) + "jwks.json";
  std::string error;
  const std::string text = config::read_file(jwks_path, error, kMaxKeyFileBytes);
  if (!error.empty()) return {};
  Result<std::string> mine = key.thumbprint();
  if (!mine) return {};
  for (const auth::JwkParams& jwk : auth::parse_jwks(text, kMaxKeyFileBytes).keys) {
    Result<std::string> theirs = auth::crypto::jwk_thumbprint(jwk);
    if (theirs && *theirs == *mine) return {jwk.kid, jwk.alg};
  }
  return {};
}

int mint(std::span<const std::string_view> args, const Io& io) {
  const ParsedFlags flags = parse_flags(args, kMintFlags);
  if (flags.has("help")) {
    std::fputs(kTokenUsage.data(), io.out);
    return 0;
  }
  if (!flags.error.empty()) return usage_error(io, "token", kTokenUsage, flags.error);
  const std::optional<std::string> key_path = flags.get("key");
  const std::optional<std::string> secret_path = flags.get("secret-file");
  const std::optional<std::string> claims = flags.get("claims");
  if (key_path && secret_path) return usage_error(io, "token", kTokenUsage, "--key and --secret-file exclude each other");
  if (!key_path && !secret_path) return usage_error(io, "token", kTokenUsage, "--key FILE (or --secret-file FILE) is required");
  if (!claims) return usage_error(io, "token", kTokenUsage, "--claims JSON is required");

  std::optional<auth::Alg> alg;
  if (const auto name = flags.get("alg")) {
    alg = auth::alg_from_string(*name);
    if (!alg) return usage_error(io, "token", kTokenUsage, "unknown --alg " + *name);
    if (secret_path && !auth::is_hmac(*alg)) return usage_error(io, "token", kTokenUsage, "--secret-file signs only HS256, HS384 or HS512");
    if (key_path && auth::is_hmac(*alg)) return usage_error(io, "token", kTokenUsage, *name + " needs --secret-file, not --key");
  }
  Result<int64_t> ttl = parse_ttl(flags.get("ttl").value_or("15m"));
  if (!ttl) return usage_error(io, "token", kTokenUsage, ttl.error().message);
  const std::optional<std::string> header = flags.get("header");

  MintRequest req;
  req.claims_json = *claims;
  req.header_json = header ? std::string_view(*header) : std::string_view();
  req.kid = flags.get("kid");
  req.ttl_seconds = *ttl;
  const SystemClock system_clock;
  req.now = (io.clock != nullptr ? io.clock : &system_clock)->unix_seconds();

  std::string error;
  std::string secret;
  std::optional<auth::crypto::SigningKey> key;
  if (secret_path) {
    secret = config::read_file(*secret_path, error, kMaxSecretBytes);
    if (!error.empty()) return failure(io, "token", *secret_path + ": " + error);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();  // as the gateway does
    req.alg = alg.value_or(auth::Alg::HS256);
    req.secret = secret;
  } else {
    const std::string pem = config::read_file(*key_path, error, kMaxKeyFileBytes);
    if (!error.empty()) return failure(io, "token", *key_path + ": " + error);
    Result<auth::crypto::SigningKey> loaded = auth::crypto::SigningKey::from_pem(pem);
    if (!loaded) return failure(io, "token", *key_path + ": " + loaded.error().message);
    key.emplace(std::move(loaded.value()));
    const Published published = published_next_to(*key_path, *key);
    req.alg = alg ? *alg : published.alg.value_or(key->default_alg());
    if (!key->fits(req.alg)) {
      return usage_error(io, "token", kTokenUsage, std::string(auth::to_string(req.alg)) + " cannot be used with the key in " + *key_path);
    }
    if (!req.kid) req.kid = published.kid;
    if (!req.kid) {
      Result<std::string> thumbprint = key->thumbprint();
      if (!thumbprint) return failure(io, "token", thumbprint.error().message);
      req.kid = std::move(thumbprint.value());
    }
    req.key = &*key;
  }

  // --count N: N tokens, one per line, each with its own "jti" (benchmarks need many
  // distinct tokens; one process is much faster than N).
  long count = 1;
  if (auto c = flags.get("count")) {
    char* end = nullptr;
    std::string text(*c);
    count = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || count < 1 || count > 1000000) {
      return usage_error(io, "token", kTokenUsage, "--count takes a whole number from 1 to 1000000");
    }
  }
  std::string_view claims_text = *claims;
  size_t open = claims_text.find_first_not_of(" \t\r\n");
  std::string numbered;
  for (long i = 0; i < count; ++i) {
    if (count > 1 && open != std::string_view::npos && claims_text[open] == '{') {
      size_t next = claims_text.find_first_not_of(" \t\r\n", open + 1);
      bool empty_object = next != std::string_view::npos && claims_text[next] == '}';
      numbered = "{\"jti\":\"" + std::to_string(i) + "\"" + (empty_object ? "" : ",") +
                 std::string(claims_text.substr(open + 1));
      req.claims_json = numbered;
    }
    Result<std::string> token = mint_token(req);
    if (!token) {
      // Bad --claims / --header text is the caller's mistake; anything else is a failure.
      const bool usage = token.error().message.starts_with("--");
      if (usage) return usage_error(io, "token", kTokenUsage, token.error().message);
      return failure(io, "token", token.error().message);
    }
    if (i == 0) std::fputs("portcullis token: warning: minted tokens are for tests and demos only\n", io.err);
    std::fprintf(io.out, "%s\n", token->c_str());
  }
  return 0;
}

}  // namespace

int run_token(std::span<const std::string_view> args, const Io& io) {
  if (args.empty()) return usage_error(io, "token", kTokenUsage, "missing command (mint)");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kTokenUsage.data(), io.out);
    return 0;
  }
  if (args[0] != "mint") return usage_error(io, "token", kTokenUsage, "unknown command: " + std::string(args[0]));
  return mint(args.subspan(1), io);
}

int token_main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv, argv + argc);
  return run_token(args, Io{});
}

}  // namespace portcullis::cli
