// What `portcullis demo` serves and prints, as pure functions: the embedded gateway.yaml and
// example policy, the claims of the tokens it mints, and the curl commands with the answer
// each one gets. demo_command.cc adds the I/O (key, listeners, the gateway itself); tests
// check every annotated answer against the policy offline, and the integration test runs
// the printed commands against the real binary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portcullis::cli::demo {

// policies/orders.yaml, verbatim (a unit test keeps the two identical): the routes the
// printed commands exercise.
extern const std::string_view kPolicyYaml;
// How the embedded policy file is named in errors and logs.
inline constexpr std::string_view kPolicyName = "orders.yaml (embedded)";
inline constexpr std::string_view kConfigName = "gateway.yaml (embedded in portcullis demo)";
inline constexpr std::string_view kAudience = "orders-api";
inline constexpr std::string_view kJwksPath = "/jwks.json";

// The addresses the demo's gateway.yaml is written for. listen / admin_listen are host:port
// texts as parse_host_port accepts them (IPv6 hosts bracketed).
struct Addresses {
  std::string listen = "127.0.0.1:8080";
  std::string admin_listen = "127.0.0.1:9901";
  uint16_t issuer_port = 0;  // the in-memory dev issuer (JWKS) on 127.0.0.1
  uint16_t echo_port = 0;    // the built-in echo upstream on 127.0.0.1
};

// "http://127.0.0.1:PORT": the dev issuer's "iss", and where its JWKS is served.
std::string issuer_url(uint16_t issuer_port);

// The demo's gateway.yaml: one worker, the echo as upstreams.default, one issuer ("corp")
// whose keys come from the dev issuer's jwks_uri (fetched by the key manager like any
// other), identity headers for email and tenant_id, and the embedded policy.
std::string gateway_yaml(const Addresses& addresses);

// host:port for a flag value, or "" when it is not one (IPv6 hosts come back bracketed).
std::string normalize_listen_flag(std::string_view text);

// The base URL a client on this machine uses for a bound address: wildcard hosts (0.0.0.0,
// ::) are reached on loopback; IPv6 hosts are bracketed.
std::string client_base_url(std::string_view host, uint16_t port);

// The tokens the commands use. Each is minted with the dev key at start-up.
enum class TokenKind { None, Allowed, Expired, WrongAudience };

// The claims of a token (JSON object text): sub alice, scope orders:read, email, tenant_id
// acme; Allowed and WrongAudience expire at now + ttl, Expired expired an hour ago.
std::string token_claims(TokenKind kind, std::string_view issuer, int64_t now, int64_t ttl_seconds);

// The shell variable a printed command reads the token from ("TOKEN", "EXPIRED_TOKEN",
// "BILLING_TOKEN"; "" for None).
std::string_view token_variable(TokenKind kind);

struct Tokens {
  std::string allowed, expired, wrong_audience;
};

// One command the demo prints. `status` is the answer it gets (0 for the metrics command,
// which prints a metric instead of a status line); `note` says why, in a few words.
struct Try {
  int status = 200;
  std::string note;
  std::string method = "GET";
  std::string target;        // sent as is (dot segments included: curl gets --path-as-is)
  TokenKind token = TokenKind::None;
  std::vector<std::pair<std::string, std::string>> headers;  // more request headers
  bool admin_port = false;   // to the admin port instead of the gateway
  std::string pipe;          // a shell filter for the output, e.g. "grep ..."
};

// The commands, in the order they are printed: public 200, no token 401, allowed 200,
// missing scope 403, expired 401, wrong audience 401, no route 404, wrong method 405, a
// dot-segment trick 403, a spoofed identity header, and the metrics.
std::vector<Try> tries();

// The shell command for one Try ("curl -si ..."), ready to paste once the token variables
// are set (-H "Authorization: Bearer $TOKEN").
std::string curl_command(const Try& t, std::string_view gateway_url, std::string_view admin_url);

struct Banner {
  std::string gateway_url, admin_url, issuer_url, echo_url;
  std::vector<std::string> routes;  // route names, in file order
  std::string tokens_expire;        // e.g. "2026-03-01 15:04:05 UTC"
};

// Everything printed once the gateway is ready: where things are, the token variables
// ("TOKEN=eyJ..."), each command with its annotation ("# 401: ..."), then how to stop.
std::string render(const Banner& banner, const std::vector<Try>& list, const Tokens& tokens);

}  // namespace portcullis::cli::demo
