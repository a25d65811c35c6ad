#include "cli/demo_plan.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_test_util.h"
#include "cli/demo_command.h"
#include "cli/demo_services.h"
#include "config/gateway_config.h"
#include "config/policy_loader.h"
#include "http/request_head.h"
#include "policy/simulate.h"

namespace portcullis::cli::demo {
namespace {

constexpr int64_t kNow = 1'700'000'000;

Addresses sample_addresses() {
  Addresses a;
  a.listen = "127.0.0.1:8080";
  a.admin_listen = "127.0.0.1:9901";
  a.issuer_port = 40001;
  a.echo_port = 40002;
  return a;
}

struct Loaded {
  config::LoadResult config;
  config::PolicyLoadResult policies;
};

Loaded load(const Addresses& a) {
  Loaded l;
  l.config = config::parse_gateway_config(gateway_yaml(a), std::string(kConfigName), ".");
  for (const auto& e : l.config.errors) INFO(e.to_string());
  REQUIRE(l.config.ok());
  l.policies = config::parse_policy_text(kPolicyYaml, std::string(kPolicyName), *l.config.config);
  for (const auto& e : l.policies.errors) INFO(e.to_string());
  REQUIRE(l.policies.ok());
  return l;
}

TEST_CASE("the embedded policy is policies/orders.yaml, byte for byte") {
  const auto path = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / ".." / "policies" / "orders.yaml";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path.string());
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == kPolicyYaml);
}

TEST_CASE("the embedded gateway.yaml validates and points at the demo's own services") {
  const Loaded l = load(sample_addresses());
  const config::GatewayConfig& cfg = *l.config.config;
  CHECK(cfg.listen.host == "127.0.0.1");
  CHECK(cfg.listen.port == 8080);
  CHECK(cfg.admin_host == "127.0.0.1");
  CHECK(cfg.admin_port == 9901);
  CHECK(cfg.workers == 1);
  REQUIRE(cfg.upstreams.size() == 1);
  CHECK(cfg.upstreams[0].name == "default");
  CHECK(cfg.upstreams[0].host == "127.0.0.1");
  CHECK(cfg.upstreams[0].port == 40002);
  REQUIRE(cfg.issuers.size() == 1);
  const config::IssuerConfig& iss = cfg.issuers[0];
  CHECK(iss.name == "corp");  // the name the policy's routes list
  CHECK(iss.issuer == issuer_url(40001));
  CHECK(iss.jwks_uri == "http://127.0.0.1:40001/jwks.json");
  CHECK(iss.jwks_file.empty());
  CHECK_FALSE(iss.discovery);
  CHECK(iss.audiences == std::vector<std::string>{"orders-api"});
  CHECK(iss.algorithms == std::vector<std::string>{"ES256"});
  CHECK(cfg.identity_headers.claims.size() == 2);

  std::vector<std::string> routes;
  for (const auto& r : l.policies.policies->routes) routes.push_back(r.name);
  CHECK(routes == std::vector<std::string>{"health", "orders-read", "orders-write", "admin", "tenant-acme"});
}

TEST_CASE("listen flags: host:port, IPv6 bracketed, anything else refused") {
  CHECK(normalize_listen_flag("127.0.0.1:0") == "127.0.0.1:0");
  CHECK(normalize_listen_flag("localhost:8080") == "localhost:8080");
  CHECK(normalize_listen_flag("[::1]:8080") == "[::1]:8080");
  CHECK(normalize_listen_flag("0.0.0.0:8080") == "0.0.0.0:8080");
  for (const char* bad : {"", "8080", "127.0.0.1", "127.0.0.1:99999", "::1:8080", "a b:1", "x\":1", "h:1\nq: 2"}) {
    CAPTURE(bad);
    CHECK(normalize_listen_flag(bad).empty());
  }

  Addresses a = sample_addresses();
  a.listen = normalize_listen_flag("[::1]:0");
  a.admin_listen = normalize_listen_flag("localhost:0");
  const Loaded l = load(a);
  CHECK(l.config.config->listen.host == "::1");
  CHECK(l.config.config->listen.port == 0);
  CHECK(l.config.config->admin_host == "localhost");
}

TEST_CASE("client URLs: wildcard hosts are reached on loopback, IPv6 is bracketed") {
  CHECK(client_base_url("127.0.0.1", 8080) == "http://127.0.0.1:8080");
  CHECK(client_base_url("0.0.0.0", 8080) == "http://127.0.0.1:8080");
  CHECK(client_base_url("::", 8080) == "http://[::1]:8080");
  CHECK(client_base_url("::1", 9) == "http://[::1]:9");
  CHECK(client_base_url("localhost", 1) == "http://localhost:1");
}

TEST_CASE("token claims: allowed and wrong-audience live for ttl, expired is past its exp") {
  const std::string iss = issuer_url(40001);
  auto parse = [](const std::string& json) {
    rapidjson::Document d;
    REQUIRE(auth::parse_json_object(json, d) == auth::AuthStatus::Ok);
    return d;
  };
  const rapidjson::Document allowed = parse(token_claims(TokenKind::Allowed, iss, kNow, 3600));
  CHECK(testing::str(allowed, "iss") == iss);
  CHECK(testing::str(allowed, "aud") == "orders-api");
  CHECK(testing::str(allowed, "sub") == "alice");
  CHECK(testing::str(allowed, "scope") == "orders:read");
  CHECK(allowed["iat"].GetInt64() == kNow);
  CHECK(allowed["exp"].GetInt64() == kNow + 3600);

  const rapidjson::Document expired = parse(token_claims(TokenKind::Expired, iss, kNow, 3600));
  CHECK(testing::str(expired, "aud") == "orders-api");
  CHECK(expired["exp"].GetInt64() < kNow - 60);  // well past any leeway
  CHECK(expired["iat"].GetInt64() < expired["exp"].GetInt64());

  const rapidjson::Document other = parse(token_claims(TokenKind::WrongAudience, iss, kNow, 3600));
  CHECK(testing::str(other, "aud") == "billing-api");
  CHECK(other["exp"].GetInt64() == kNow + 3600);
}

TEST_CASE("every annotated answer is the one the embedded policy gives") {
  const Loaded l = load(sample_addresses());
  const std::string claims = token_claims(TokenKind::Allowed, issuer_url(40001), kNow, 3600);
  const std::vector<Try> list = tries();
  REQUIRE(list.size() == 11);
  for (const Try& t : list) {
    if (t.admin_port) continue;  // the metrics command is not a gateway decision
    CAPTURE(t.note);
    policy::SimRequest req;
    req.method = t.method;
    req.target = t.target;
    req.headers = t.headers;
    policy::SimToken tok;
    switch (t.token) {
      case TokenKind::None: tok.kind = policy::SimToken::Kind::None; break;
      case TokenKind::Allowed:
        tok.kind = policy::SimToken::Kind::Claims;
        tok.claims_json = claims;
        break;
      // Signature, exp and aud are checked by the verifier, which answers 401 (the
      // integration test shows the gateway's own answer).
      case TokenKind::Expired:
      case TokenKind::WrongAudience: tok.kind = policy::SimToken::Kind::Invalid; break;
    }
    const policy::Decision d = policy::simulate(*l.policies.policies, req, tok, false);
    CHECK(d.status == t.status);
    if (t.status == 403 || t.status == 401) CHECK_FALSE(d.www_authenticate.empty());
    if (t.status == 405) CHECK(t.note.find("Allow: " + d.allow) != std::string::npos);
  }
}

TEST_CASE("the list covers each decision the issue asks for") {
  std::vector<int> statuses;
  bool allowed = false, expired = false, wrong_audience = false, metrics = false;
  for (const Try& t : tries()) {
    statuses.push_back(t.status);
    allowed = allowed || (t.token == TokenKind::Allowed && t.status == 200);
    expired = expired || (t.token == TokenKind::Expired && t.status == 401);
    wrong_audience = wrong_audience || (t.token == TokenKind::WrongAudience && t.status == 401);
    metrics = metrics || (t.admin_port && t.target == "/metrics");
  }
  CHECK(statuses == std::vector<int>{200, 401, 200, 403, 401, 401, 404, 405, 403, 200, 0});
  CHECK(allowed);
  CHECK(expired);
  CHECK(wrong_audience);
  CHECK(metrics);
}

TEST_CASE("curl commands") {
  const std::string gw = "http://127.0.0.1:8080", admin = "http://127.0.0.1:9901";
  Try t;
  t.target = "/healthz";
  CHECK(curl_command(t, gw, admin) == "curl -si http://127.0.0.1:8080/healthz");

  t.method = "POST";
  t.target = "/orders";
  t.token = TokenKind::Allowed;
  CHECK(curl_command(t, gw, admin) ==
        "curl -si -X POST http://127.0.0.1:8080/orders -H \"Authorization: Bearer $TOKEN\"");

  t.method = "GET";
  t.target = "/orders/../admin";
  t.token = TokenKind::Expired;
  t.headers = {{"X-Auth-Subject", "root"}};
  CHECK(curl_command(t, gw, admin) ==
        "curl -si --path-as-is http://127.0.0.1:8080/orders/../admin -H \"Authorization: Bearer $EXPIRED_TOKEN\" "
        "-H 'X-Auth-Subject: root'");

  Try m;
  m.status = 0;
  m.target = "/metrics";
  m.admin_port = true;
  m.pipe = "grep x";
  CHECK(curl_command(m, "http://[::1]:8080", "http://[::1]:9901") == "curl -s -g 'http://[::1]:9901/metrics' | grep x");
}

TEST_CASE("the printed block: where things are, the token variables, each command under its answer") {
  Banner b;
  b.gateway_url = "http://127.0.0.1:8080";
  b.admin_url = "http://127.0.0.1:9901";
  b.issuer_url = issuer_url(40001);
  b.echo_url = "http://127.0.0.1:40002";
  b.routes = {"health", "orders-read"};
  b.tokens_expire = "2023-11-14 23:13:20 UTC";
  Tokens tokens{"aaa.bbb.ccc", "ddd.eee.fff", "ggg.hhh.iii"};
  const std::string text = render(b, tries(), tokens);
  CHECK(text.find("TOKEN=aaa.bbb.ccc\n") != std::string::npos);
  CHECK(text.find("\nEXPIRED_TOKEN=ddd.eee.fff\n") != std::string::npos);
  CHECK(text.find("\nBILLING_TOKEN=ggg.hhh.iii\n") != std::string::npos);
  CHECK(text.find("routes: health, orders-read\n") != std::string::npos);
  CHECK(text.find("http://127.0.0.1:40001/jwks.json") != std::string::npos);
  CHECK(text.find("valid until 2023-11-14 23:13:20 UTC") != std::string::npos);
  for (const Try& t : tries()) {
    const std::string heading = t.status ? "# " + std::to_string(t.status) + ": " + t.note : "# " + t.note;
    CHECK(text.find(heading + "\n" + curl_command(t, b.gateway_url, b.admin_url) + "\n") != std::string::npos);
  }
}

// --- the local services' handlers, without sockets -----------------------------------

struct ParsedRequest {
  std::string raw;
  http::RequestHead head;
  http::RequestInfo info;
};

std::unique_ptr<ParsedRequest> parse(std::string raw) {
  auto p = std::make_unique<ParsedRequest>();
  p->raw = std::move(raw);
  size_t scan_from = 0;
  REQUIRE(http::parse_request_head(p->raw, 16384, p->head, scan_from) == http::HeadStatus::Complete);
  REQUIRE(http::analyze_request(p->head, p->info).ok());
  return p;
}

struct NoReceiver final : net::DecisionReceiver {
  void onDecision() override { FAIL("the demo's handlers answer synchronously"); }
};

net::Decision decide(net::RequestHandler& h, const ParsedRequest& p) {
  net::RequestView view{p.head, p.info, p.info.path, "127.0.0.1", "0123", false};
  net::Decision d;
  NoReceiver receiver;
  CHECK(h.decide(view, d, receiver) == nullptr);
  CHECK(d.kind == net::Decision::Kind::Respond);
  return d;
}

TEST_CASE("the dev issuer serves its JWKS at /jwks.json and nothing else") {
  DevIssuerHandler h("{\"keys\":[]}\n");
  net::Decision ok = decide(h, *parse("GET /jwks.json HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(ok.status == 200);
  CHECK(ok.content_type == "application/json");
  CHECK(ok.body == "{\"keys\":[]}\n");
  CHECK(decide(h, *parse("GET /keys HTTP/1.1\r\nHost: x\r\n\r\n")).status == 404);
  CHECK(decide(h, *parse("POST /jwks.json HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")).status == 405);
}

TEST_CASE("the echo answers with the method, target and headers it received") {
  EchoHandler h;
  auto p = parse(
      "PUT /orders/7?x=1 HTTP/1.1\r\nHost: api\r\nX-Auth-Subject: alice\r\nAccept: a\r\naccept: b\r\n"
      "X-Quote: say \"hi\"\r\n\r\n");
  net::Decision d = decide(h, *p);
  CHECK(d.status == 200);
  CHECK(d.content_type == "application/json");
  rapidjson::Document doc;
  REQUIRE_FALSE(doc.Parse(d.body.c_str()).HasParseError());
  CHECK(testing::str(doc, "method") == "PUT");
  CHECK(testing::str(doc, "path") == "/orders/7?x=1");
  const rapidjson::Value& headers = doc["headers"];
  CHECK(testing::names(headers) == std::vector<std::string>{"Host", "X-Auth-Subject", "Accept", "X-Quote"});
  CHECK(testing::str(headers, "X-Auth-Subject") == "alice");
  CHECK(testing::str(headers, "Accept") == "a, b");
  CHECK(testing::str(headers, "X-Quote") == "say \"hi\"");
}

// --- flags: refused before anything starts -------------------------------------------

int create_exit_code(std::vector<std::string_view> args, std::string& err) {
  testing::Capture out, errs;
  int code = -1;
  std::unique_ptr<Demo> d = Demo::create(args, Io{out.file(), errs.file(), nullptr}, code);
  CHECK(d == nullptr);
  err = errs.str();
  return code;
}

TEST_CASE("demo flags") {
  std::string err;
  CHECK(create_exit_code({"--help"}, err) == 0);
  CHECK(create_exit_code({"--bogus"}, err) == 2);
  CHECK(err.find("--bogus") != std::string::npos);
  CHECK(create_exit_code({"--listen", "8080"}, err) == 2);
  CHECK(err.find("--listen must be HOST:PORT") != std::string::npos);
  CHECK(create_exit_code({"--admin-listen=nowhere"}, err) == 2);
  CHECK(create_exit_code({"--ttl", "0"}, err) == 2);
  CHECK(create_exit_code({"--ttl", "10"}, err) == 2);
  CHECK(create_exit_code({"serve"}, err) == 2);
}

}  // namespace
}  // namespace portcullis::cli::demo
