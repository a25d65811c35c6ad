// portcullis explain / portcullis test: what the gateway would decide, without serving.
#include <cstdio>
#include <string>
#include <vector>

#include "auth/base64url.h"
#include "auth/jws.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "config/gateway_config.h"
#include "config/policy_loader.h"
#include "policy/simulate.h"

namespace portcullis::cli {
namespace {

constexpr std::string_view kExplainUsage =
    R"(Usage: portcullis explain --config FILE --method GET --path /orders/7 [--host H]
                          [--token JWT | --claims JSON]

Prints the route the request matches, each requirement met or not, and the decision (the
HTTP status and why), without serving anything. --claims gives the token's claims as JSON;
--token takes them from a JWT (its signature is NOT checked here: explain runs offline).
Without either, the request carries no token.
)";

constexpr std::string_view kTestUsage =
    R"(Usage: portcullis test --config FILE CASES.yaml

Runs table-driven policy tests: each case is a request (method, path, host, headers) with
a token given as claims (or none / invalid) and the expected status (and route). Prints one
line per case; exits 1 if any case fails.
)";

int usage(std::string_view text, std::string_view why) {
  std::fprintf(stderr, "portcullis: %.*s\n\n%.*s", static_cast<int>(why.size()), why.data(),
               static_cast<int>(text.size()), text.data());
  return 2;
}

// Loads gateway.yaml and its policies; prints errors. Null on failure.
std::shared_ptr<const policy::PolicySet> load(const std::string& config_path) {
  config::LoadResult cfg = config::load_gateway_config(config_path);
  for (const auto& e : cfg.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!cfg.ok()) return nullptr;
  config::PolicyLoadResult pol = config::load_policies(cfg.config->policies, *cfg.config);
  for (const auto& e : pol.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!pol.ok()) return nullptr;
  return pol.policies;
}

std::vector<std::string_view> to_args(int argc, char** argv) { return {argv, argv + argc}; }

}  // namespace

int explain_main(int argc, char** argv) {
  static constexpr FlagSpec kFlags[] = {{"config", true}, {"method", true}, {"path", true}, {"host", true},
                                        {"token", true},  {"claims", true}, {"help", false}};
  std::vector<std::string_view> args = to_args(argc, argv);
  ParsedFlags f = parse_flags(args, kFlags);
  if (f.has("help")) {
    std::fputs(kExplainUsage.data(), stdout);
    return 0;
  }
  if (!f.error.empty()) return usage(kExplainUsage, f.error);
  if (!f.get("config") || !f.get("path")) return usage(kExplainUsage, "--config and --path are required");
  if (f.has("token") && f.has("claims")) return usage(kExplainUsage, "give --token or --claims, not both");
  auto set = load(*f.get("config"));
  if (!set) return 1;

  policy::SimRequest req;
  req.method = f.get("method").value_or("GET");
  req.target = *f.get("path");
  req.host = f.get("host").value_or("");
  policy::SimToken token;
  if (auto claims = f.get("claims")) {
    token.kind = policy::SimToken::Kind::Claims;
    token.claims_json = *claims;
  } else if (auto jwt = f.get("token")) {
    auth::JwsSegments seg;
    std::string payload;
    if (auth::split_compact(*jwt, seg) != auth::AuthStatus::Ok || !auth::base64url_decode(seg.payload, payload)) {
      token.kind = policy::SimToken::Kind::Invalid;
    } else {
      token.kind = policy::SimToken::Kind::Claims;
      token.claims_json = payload;
      std::puts("note: the token's signature is not checked by explain");
    }
  }
  policy::Decision d = policy::simulate(*set, req, token, true);
  for (const std::string& line : d.explain) std::printf("%s\n", line.c_str());
  std::printf("decision: %d %s%s%s\n", d.status, std::string(policy::to_string(d.reason)).c_str(),
              d.route ? " (route " : "", d.route ? (d.route->name + ")").c_str() : "");
  return 0;
}

int test_main(int argc, char** argv) {
  static constexpr FlagSpec kFlags[] = {{"config", true}, {"help", false}};
  std::vector<std::string_view> args = to_args(argc, argv);
  std::vector<std::string_view> flags;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].starts_with("--")) {
      files.emplace_back(args[i]);
      continue;
    }
    flags.push_back(args[i]);
    if (args[i] == "--config" && i + 1 < args.size()) flags.push_back(args[++i]);
  }
  ParsedFlags f = parse_flags(flags, kFlags);
  if (f.has("help")) {
    std::fputs(kTestUsage.data(), stdout);
    return 0;
  }
  if (!f.error.empty()) return usage(kTestUsage, f.error);
  if (!f.get("config") || files.size() != 1) return usage(kTestUsage, "--config FILE and one CASES.yaml are required");
  auto set = load(*f.get("config"));
  if (!set) return 1;
  config::PolicyTestsResult tests = config::load_policy_tests(files[0]);
  for (const auto& e : tests.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!tests.ok()) return 1;
  size_t passed = 0, failed = 0;
  for (const policy::TestCase& c : tests.cases) {
    policy::TestOutcome o = policy::run_test(*set, c);
    if (o.passed) {
      ++passed;
      std::printf("ok    %s\n", c.name.c_str());
    } else {
      ++failed;
      std::printf("FAIL  %s (%s:%d): %s\n", c.name.c_str(), c.file.c_str(), c.line, o.message.c_str());
    }
  }
  std::printf("policy tests: %zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace portcullis::cli
