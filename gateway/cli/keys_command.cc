// portcullis keys generate: a dev key pair and the JWKS an issuer's jwks_file can point at.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "auth/crypto/signer.h"
#include "auth/jwk.h"
#include "cli/args.h"
#include "cli/command_io.h"
#include "cli/commands.h"

namespace portcullis::cli {

const std::string_view kKeysUsage =
    R"(Usage: portcullis keys generate --alg ALG --out DIR [--kid KID] [--force]

Writes a development key pair and its JWKS (for tests and demos, not production):
  DIR/private.pem   the private key, PKCS#8 PEM, mode 0600
  DIR/public.pem    the public key, SubjectPublicKeyInfo PEM
  DIR/jwks.json     {"keys":[the public JWK]}, for an issuer's jwks_file
DIR is created with mode 0700 when missing.

Flags:
  --alg ALG   RS256 RS384 RS512 PS256 PS384 PS512 (RSA 2048), ES256 ES384 ES512
              (P-256, P-384, P-521) or EdDSA (Ed25519); default ES256
  --out DIR   the directory to write to (required)
  --kid KID   the key id in jwks.json; default: the key's RFC 7638 thumbprint
  --force     replace an existing DIR/private.pem
  --help      this text
)";

namespace {

constexpr FlagSpec kGenerateFlags[] = {
    {"alg", true}, {"out", true}, {"kid", true}, {"force", false}};

// mkdir -p, each created level 0700 (a key directory is nobody else's business).
bool make_dirs(const std::string& dir, std::string& error) {
  for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      error = "cannot create " + prefix + ": " + std::strerror(errno);
      return false;
    }
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = dir + " is not a directory";
    return false;
  }
  return true;
}

// Writes through a temporary file and rename(2): a gateway watching jwks.json never reads
// half a file, and the mode is set before any byte of a private key is written.
bool write_file(const std::string& path, std::string_view content, mode_t mode, std::string& error) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    error = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::fchmod(fd, mode) == 0;  // umask must not loosen or tighten what we promise
  for (std::size_t done = 0; ok && done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot write " + path + ": " + std::strerror(ok ? errno : saved);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::string join(const std::string& dir, std::string_view name) {
  return (dir.ends_with('/') ? dir : dir + "/") + std::string(name);
}

int generate(std::span<const std::string_view> args, const Io& io) {
  const ParsedFlags flags = parse_flags(args, kGenerateFlags);
  if (flags.has("help")) {
    std::fputs(kKeysUsage.data(), io.out);
    return 0;
  }
  if (!flags.error.empty()) return usage_error(io, "keys", kKeysUsage, flags.error);
  const std::optional<std::string> out = flags.get("out");
  if (!out || out->empty()) return usage_error(io, "keys", kKeysUsage, "--out DIR is required");
  const std::string alg_name = flags.get("alg").value_or("ES256");
  const std::optional<auth::Alg> alg = auth::alg_from_string(alg_name);
  if (!alg) return usage_error(io, "keys", kKeysUsage, "unknown --alg " + alg_name);
  if (auth::is_hmac(*alg)) {
    return usage_error(io, "keys", kKeysUsage, alg_name + " uses a shared secret, not a key pair (mint with --secret-file)");
  }
  const std::optional<std::string> kid_flag = flags.get("kid");
  if (kid_flag && kid_flag->empty()) return usage_error(io, "keys", kKeysUsage, "--kid must not be empty");

  const std::string dir = *out;
  const std::string private_path = join(dir, "private.pem");
  struct stat st{};
  if (!flags.has("force") && ::lstat(private_path.c_str(), &st) == 0) {
    return failure(io, "keys", private_path + " already exists; use --force to replace it");
  }

  Result<auth::crypto::SigningKey> key = auth::crypto::SigningKey::generate(*alg);
  if (!key) return failure(io, "keys", key.error().message);
  Result<auth::JwkParams> jwk = key->public_params();
  if (!jwk) return failure(io, "keys", jwk.error().message);
  Result<std::string> thumbprint = auth::crypto::jwk_thumbprint(*jwk);
  if (!thumbprint) return failure(io, "keys", thumbprint.error().message);
  jwk->alg = *alg;
  jwk->kid = kid_flag.value_or(*thumbprint);
  Result<std::string> jwk_json = auth::crypto::public_jwk_json(*jwk);
  Result<std::string> private_pem = key->private_pem();
  Result<std::string> public_pem = key->public_pem();
  if (!jwk_json) return failure(io, "keys", jwk_json.error().message);
  if (!private_pem) return failure(io, "keys", private_pem.error().message);
  if (!public_pem) return failure(io, "keys", public_pem.error().message);

  std::string error;
  if (!make_dirs(dir, error)) return failure(io, "keys", error);
  const std::string public_path = join(dir, "public.pem");
  const std::string jwks_path = join(dir, "jwks.json");
  if (!write_file(private_path, *private_pem, 0600, error) || !write_file(public_path, *public_pem, 0644, error) ||
      !write_file(jwks_path, "{\"keys\":[" + *jwk_json + "]}\n", 0644, error)) {
    return failure(io, "keys", error);
  }
  std::fprintf(io.out, "wrote %s (private key, mode 0600)\n", private_path.c_str());
  std::fprintf(io.out, "wrote %s\n", public_path.c_str());
  std::fprintf(io.out, "wrote %s\n", jwks_path.c_str());
  std::fprintf(io.out, "alg: %s\nkid: %s\n", alg_name.c_str(), jwk->kid->c_str());
  return 0;
}

}  // namespace

int run_keys(std::span<const std::string_view> args, const Io& io) {
  if (args.empty()) return usage_error(io, "keys", kKeysUsage, "missing command (generate)");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kKeysUsage.data(), io.out);
    return 0;
  }
  if (args[0] != "generate") return usage_error(io, "keys", kKeysUsage, "unknown command: " + std::string(args[0]));
  return generate(args.subspan(1), io);
}

int keys_main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv, argv + argc);
  return run_keys(args, Io{});
}

}  // namespace portcullis::cli
