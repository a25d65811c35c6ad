#include "cli/demo_plan.h"

#include <cctype>
#include <string_view>

#include "config/values.h"

namespace portcullis::cli::demo {

// Kept identical to policies/orders.yaml by tests/unit/cli/demo_plan_test.cc.
const std::string_view kPolicyYaml = R"yaml(# Policy for a legacy orders API behind Portcullis.
#
# Routes are tried in file order; the first whose host, path and method match wins. Paths are
# matched after normalization (dot segments resolved, repeated slashes merged), never with the
# query string, case-sensitively, and path_prefix ends at segment boundaries (/orders covers
# /orders and /orders/7, not /ordersX). A request no route matches gets 404.
#
# Check it with:  portcullis validate --config gateway.yaml
# Test it with:   portcullis test --config gateway.yaml policies/tests.yaml

routes:
  # Liveness probe for the load balancer: no token needed, and any token is ignored.
  - name: health
    match: {path: /healthz, methods: [GET]}
    auth: none

  # Reading orders needs orders:read (HEAD is listed explicitly: it is not implied by GET).
  - name: orders-read
    match: {path_prefix: /orders, methods: [GET, HEAD]}
    upstream: default
    issuers: [corp]
    require:
      scopes: {all_of: ["orders:read"]}

  # Creating and changing orders needs orders:write. DELETE is not routed: it gets 405.
  - name: orders-write
    match: {path_prefix: /orders, methods: [POST, PUT, PATCH]}
    issuers: [corp]
    require:
      scopes: {all_of: ["orders:write"]}

  # The back office: any method, for tokens whose roles array holds "admin".
  - name: admin
    match: {path_prefix: /admin}
    issuers: [corp]
    require:
      claims:
        roles: {contains: admin}

  # ACME's tenant area: only tokens issued for tenant acme.
  - name: tenant-acme
    match: {path_prefix: /tenants/acme, methods: [GET, POST]}
    issuers: [corp]
    require:
      claims:
        tenant_id: {equals: acme}

default: deny
)yaml";

namespace {

std::string host_port(std::string_view host, uint16_t port) {
  const bool ipv6 = host.find(':') != std::string_view::npos;
  std::string out = ipv6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

// A shell word: left bare when it holds nothing the shell would interpret, else single-quoted
// (no value the demo prints contains a single quote).
std::string shell_word(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    const bool safe = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ||
                      c == '/' || c == ':' || c == '=' || c == ',';
    plain = plain && safe;
  }
  return plain ? std::string(s) : "'" + std::string(s) + "'";
}

bool has_dot_segment(std::string_view target) {
  return target.find("/./") != std::string_view::npos || target.find("/../") != std::string_view::npos ||
         target.ends_with("/.") || target.ends_with("/..");
}

}  // namespace

std::string issuer_url(uint16_t issuer_port) { return "http://" + host_port("127.0.0.1", issuer_port); }

std::string gateway_yaml(const Addresses& a) {
  const std::string issuer = issuer_url(a.issuer_port);
  std::string y;
  y += "# portcullis demo: the gateway in front of the built-in echo API, trusting the in-memory\n";
  y += "# dev issuer, with the routes of policies/orders.yaml.\n";
  y += "listen: \"" + a.listen + "\"\n";
  y += "admin_listen: \"" + a.admin_listen + "\"\n";
  y += "workers: 1\n";
  y += "upstreams:\n";
  y += "  default: {url: \"http://" + host_port("127.0.0.1", a.echo_port) + "\", timeout: 10s}\n";
  y += "issuers:\n";
  y += "  - name: corp\n";
  y += "    issuer: \"" + issuer + "\"\n";
  y += "    jwks_uri: \"" + issuer + std::string(kJwksPath) + "\"\n";
  y += "    audiences: [" + std::string(kAudience) + "]\n";
  y += "    algorithms: [ES256]\n";
  y += "identity_headers:\n";
  y += "  claims: {email: X-Auth-Email, tenant_id: X-Auth-Tenant}\n";
  y += "policies: [orders.yaml]\n";
  y += "drain_timeout: 5s\n";
  return y;
}

std::string normalize_listen_flag(std::string_view text) {
  const auto parsed = config::parse_host_port(text);
  if (!parsed || !config::is_valid_host(parsed->first)) return {};
  return host_port(parsed->first, parsed->second);
}

std::string client_base_url(std::string_view host, uint16_t port) {
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  return "http://" + host_port(host, port);
}

std::string token_claims(TokenKind kind, std::string_view issuer, int64_t now, int64_t ttl_seconds) {
  const bool expired = kind == TokenKind::Expired;
  const std::string_view audience = kind == TokenKind::WrongAudience ? std::string_view("billing-api") : kAudience;
  const int64_t iat = expired ? now - 7200 : now;
  const int64_t exp = expired ? now - 3600 : now + ttl_seconds;
  std::string c = "{\"iss\":\"" + std::string(issuer) + "\",\"sub\":\"alice\",\"aud\":\"" + std::string(audience) +
                  "\",\"scope\":\"orders:read\",\"email\":\"alice@example.com\",\"tenant_id\":\"acme\"";
  c += ",\"iat\":" + std::to_string(iat) + ",\"exp\":" + std::to_string(exp) + "}";
  return c;
}

std::string_view token_variable(TokenKind kind) {
  switch (kind) {
    case TokenKind::Allowed: return "TOKEN";
    case TokenKind::Expired: return "EXPIRED_TOKEN";
    case TokenKind::WrongAudience: return "BILLING_TOKEN";
    case TokenKind::None: break;
  }
  return {};
}

std::vector<Try> tries() {
  using K = TokenKind;
  std::vector<Try> t;
  t.push_back({200, "the public route: /healthz needs no token (route \"health\", auth: none)", "GET", "/healthz",
               K::None, {}, false, ""});
  t.push_back({401, "no token on a route that needs one (WWW-Authenticate: Bearer realm=\"portcullis\")", "GET",
               "/orders/7", K::None, {}, false, ""});
  t.push_back({200,
               "alice's token has orders:read; the echo API shows the identity headers the gateway added "
               "(X-Auth-Subject: alice, X-Auth-Scopes, X-Auth-Email, X-Auth-Tenant)",
               "GET", "/orders/7", K::Allowed, {}, false, ""});
  t.push_back({403,
               "the same token cannot write: POST needs orders:write "
               "(error=\"insufficient_scope\", scope=\"orders:write\")",
               "POST", "/orders", K::Allowed, {}, false, ""});
  t.push_back({401, "an expired token (error_description=\"token expired\")", "GET", "/orders/7", K::Expired, {},
               false, ""});
  t.push_back({401, "a token for another audience, billing-api (error_description=\"audience not accepted\")", "GET",
               "/orders/7", K::WrongAudience, {}, false, ""});
  t.push_back({404, "no route matches /internal: default deny ({\"error\":\"no_route\"})", "GET", "/internal",
               K::Allowed, {}, false, ""});
  t.push_back({405, "/orders/7 is routed, but not for DELETE (Allow: GET, HEAD, POST, PUT, PATCH)", "DELETE",
               "/orders/7", K::Allowed, {}, false, ""});
  t.push_back({403, "/orders/../admin is /admin once normalized, and /admin needs the admin role", "GET",
               "/orders/../admin", K::Allowed, {}, false, ""});
  t.push_back({200, "a spoofed X-Auth-Subject never reaches the API: the echo shows X-Auth-Subject: alice", "GET",
               "/orders/7", K::Allowed, {{"X-Auth-Subject", "root"}}, false, ""});
  t.push_back({0,
               "metrics: every answer above, counted by route, decision and code "
               "(workers publish about once a second)",
               "GET", "/metrics", K::None, {}, true, "grep '^portcullis_requests_total'"});
  return t;
}

std::string curl_command(const Try& t, std::string_view gateway_url, std::string_view admin_url) {
  const std::string url = std::string(t.admin_port ? admin_url : gateway_url) + t.target;
  std::string c = t.status == 0 ? "curl -s" : "curl -si";
  if (url.find('[') != std::string::npos) c += " -g";  // an IPv6 literal is not a curl glob
  if (t.method != "GET") c += " -X " + t.method;
  if (has_dot_segment(t.target)) c += " --path-as-is";  // else curl resolves the dots itself
  c += " " + shell_word(url);
  if (t.token != TokenKind::None) c += " -H \"Authorization: Bearer $" + std::string(token_variable(t.token)) + "\"";
  for (const auto& [name, value] : t.headers) c += " -H " + shell_word(name + ": " + value);
  if (!t.pipe.empty()) c += " | " + t.pipe;
  return c;
}

std::string render(const Banner& b, const std::vector<Try>& list, const Tokens& tokens) {
  std::string out;
  out += "\nPortcullis demo is running: one process, nothing read from disk.\n";
  out += "  gateway     " + b.gateway_url + "\n";
  out += "  admin       " + b.admin_url + "/healthz  /readyz  /metrics\n";
  out += "  dev issuer  " + b.issuer_url + "  (ES256 key made at start; its JWKS is served from memory at " +
         b.issuer_url + std::string(kJwksPath) + ")\n";
  out += "  echo API    " + b.echo_url + "  (answers with the method, path and headers it received)\n";
  out += "  policy      policies/orders.yaml (embedded), routes:";
  for (size_t i = 0; i < b.routes.size(); ++i) out += (i == 0 ? " " : ", ") + b.routes[i];
  out += "\n\nIn another terminal, paste the tokens first (signed by the dev issuer just now, valid until " +
         b.tokens_expire + "),\nthen any of the commands below them.\n\n";
  out += "# alice: scope orders:read, email alice@example.com, tenant_id acme, aud orders-api\n";
  out += std::string(token_variable(TokenKind::Allowed)) + "=" + tokens.allowed + "\n";
  out += "# the same claims, expired an hour ago\n";
  out += std::string(token_variable(TokenKind::Expired)) + "=" + tokens.expired + "\n";
  out += "# the same claims for another API (aud billing-api)\n";
  out += std::string(token_variable(TokenKind::WrongAudience)) + "=" + tokens.wrong_audience + "\n";
  for (const Try& t : list) {
    out += "\n# ";
    if (t.status != 0) out += std::to_string(t.status) + ": ";
    out += t.note + "\n";
    out += curl_command(t, b.gateway_url, b.admin_url) + "\n";
  }
  out += "\nEach request is logged below as one JSON line. Ctrl-C stops the demo.\n\n";
  return out;
}

}  // namespace portcullis::cli::demo
