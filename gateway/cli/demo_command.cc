#include "cli/demo_command.h"

#include <ctime>
#include <vector>

#include "auth/crypto/signer.h"
#include "cli/args.h"
#include "cli/mint.h"
#include "config/policy_loader.h"
#include "config/values.h"
#include "net/server.h"

namespace portcullis::cli {

const std::string_view kDemoUsage =
    R"(Usage: portcullis demo [--listen HOST:PORT] [--admin-listen HOST:PORT] [--ttl 1h]

A complete local setup in one process, with nothing to configure and no file read:
  - a dev ES256 key made now, its JWKS served from memory by a dev issuer on 127.0.0.1
    (the gateway fetches it like any issuer's jwks_uri),
  - an echo API on 127.0.0.1 that answers with the method, path and headers it received,
  - the gateway in front of it with the routes of policies/orders.yaml (embedded).
Once the gateway is ready it prints curl commands with freshly minted tokens and the answer
each one gets, then logs every request. Ctrl-C (or SIGTERM) drains and stops it.

Flags:
  --listen HOST:PORT        the gateway (default 127.0.0.1:8080; port 0: the OS picks)
  --admin-listen HOST:PORT  /healthz, /readyz, /metrics (default 127.0.0.1:9901)
  --ttl DURATION            how long the printed tokens stay valid (default 1h)
  --help                    this text
)";

namespace {

constexpr FlagSpec kDemoFlags[] = {{"listen", true}, {"admin-listen", true}, {"ttl", true}};

std::string host_of(const std::string& host_port) {
  return config::parse_host_port(host_port).value_or(std::pair<std::string, uint16_t>{}).first;
}

std::string utc_time(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

std::unique_ptr<Demo> Demo::create(std::span<const std::string_view> args, const Io& io, int& exit_code) {
  exit_code = 1;
  const ParsedFlags flags = parse_flags(args, kDemoFlags);
  if (flags.has("help")) {
    std::fputs(kDemoUsage.data(), io.out);
    exit_code = 0;
    return nullptr;
  }
  if (!flags.error.empty()) {
    exit_code = usage_error(io, "demo", kDemoUsage, flags.error);
    return nullptr;
  }
  demo::Addresses addresses;
  for (auto [flag, target] :
       {std::pair{"listen", &addresses.listen}, std::pair{"admin-listen", &addresses.admin_listen}}) {
    if (std::optional<std::string> value = flags.get(flag)) {
      *target = demo::normalize_listen_flag(*value);
      if (target->empty()) {
        exit_code =
            usage_error(io, "demo", kDemoUsage, "--" + std::string(flag) + " must be HOST:PORT, e.g. 127.0.0.1:8080, not " + *value);
        return nullptr;
      }
    }
  }
  Result<int64_t> ttl = parse_ttl(flags.get("ttl").value_or("1h"));
  if (!ttl) {
    exit_code = usage_error(io, "demo", kDemoUsage, ttl.error().message);
    return nullptr;
  }
  if (*ttl <= 0) {
    exit_code = usage_error(io, "demo", kDemoUsage, "--ttl must be longer than 0s");
    return nullptr;
  }

  auto fail = [&io](std::string_view why) {
    failure(io, "demo", why);
    return std::unique_ptr<Demo>();
  };
  std::unique_ptr<Demo> d(new Demo());
  d->io_ = io;
  d->listen_host_ = host_of(addresses.listen);
  d->admin_host_ = host_of(addresses.admin_listen);

  // The dev key, its public JWK (kid: the RFC 7638 thumbprint) and the tokens.
  Result<auth::crypto::SigningKey> key = auth::crypto::SigningKey::generate(auth::Alg::ES256);
  if (!key) return fail(key.error().message);
  Result<auth::JwkParams> jwk = key->public_params();
  if (!jwk) return fail(jwk.error().message);
  Result<std::string> kid = auth::crypto::jwk_thumbprint(*jwk);
  if (!kid) return fail(kid.error().message);
  jwk->alg = auth::Alg::ES256;
  jwk->kid = *kid;
  Result<std::string> jwk_json = auth::crypto::public_jwk_json(*jwk);
  if (!jwk_json) return fail(jwk_json.error().message);

  // Threads start below: the gateway's signals must be blocked in every one of them.
  net::Server::block_signals();
  auto issuer = demo::LocalService::start(std::make_unique<demo::DevIssuerHandler>("{\"keys\":[" + *jwk_json + "]}\n"));
  if (!issuer) return fail("dev issuer: " + issuer.error().message);
  d->issuer_ = std::move(issuer.value());
  auto echo = demo::LocalService::start(std::make_unique<demo::EchoHandler>());
  if (!echo) return fail("echo API: " + echo.error().message);
  d->echo_ = std::move(echo.value());
  addresses.issuer_port = d->issuer_->port();
  addresses.echo_port = d->echo_->port();

  const std::string issuer_url = demo::issuer_url(addresses.issuer_port);
  const int64_t now = SystemClock().unix_seconds();
  d->tokens_expire_ = now + *ttl;
  for (auto [kind, out] : {std::pair{demo::TokenKind::Allowed, &d->tokens_.allowed},
                           std::pair{demo::TokenKind::Expired, &d->tokens_.expired},
                           std::pair{demo::TokenKind::WrongAudience, &d->tokens_.wrong_audience}}) {
    const std::string claims = demo::token_claims(kind, issuer_url, now, *ttl);
    MintRequest req;
    req.alg = auth::Alg::ES256;
    req.key = &key.value();
    req.kid = *kid;
    req.claims_json = claims;
    req.now = now;
    req.ttl_seconds = 0;  // the claims carry their own exp
    Result<std::string> token = mint_token(req);
    if (!token) return fail(token.error().message);
    *out = std::move(token.value());
  }

  d->config_ = config::parse_gateway_config(demo::gateway_yaml(addresses), std::string(demo::kConfigName), ".");
  for (const config::ConfigError& e : d->config_.errors) std::fprintf(io.err, "%s\n", e.to_string().c_str());
  if (!d->config_.ok()) return nullptr;
  config::PolicyLoadResult p =
      config::parse_policy_text(demo::kPolicyYaml, std::string(demo::kPolicyName), *d->config_.config);
  for (const config::ConfigError& e : p.errors) std::fprintf(io.err, "%s\n", e.to_string().c_str());
  if (!p.ok()) return nullptr;
  d->policies_ = std::move(p.policies);
  exit_code = 0;
  return d;
}

Demo::~Demo() = default;

void Demo::on_ready(uint16_t port, uint16_t admin_port) const {
  demo::Banner b;
  b.gateway_url = demo::client_base_url(listen_host_, port);
  b.admin_url = demo::client_base_url(admin_host_, admin_port);
  b.issuer_url = demo::issuer_url(issuer_->port());
  b.echo_url = demo::client_base_url("127.0.0.1", echo_->port());
  for (const auto& route : policies_->routes) b.routes.push_back(route.name);
  b.tokens_expire = utc_time(tokens_expire_);
  const std::string text = demo::render(b, demo::tries(), tokens_);
  std::fputs(text.c_str(), io_.out);
  // The access log is written straight to the descriptor: this text must be out first.
  std::fflush(io_.out);
}

}  // namespace portcullis::cli
