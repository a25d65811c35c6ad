// portcullis: flags, load config, start workers. The commands live in their modules.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "admin/admin_handler.h"
#include "cli/commands.h"
#include "cli/demo_command.h"
#include "config/gateway_config.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "net/server.h"
#include "net/tls.h"
#include "proxy/key_manager.h"
#include "config/policy_loader.h"
#include "proxy/net_settings.h"
#include "proxy/policy_store.h"
#include "proxy/proxy_handler.h"

namespace {

using namespace portcullis;

constexpr std::string_view kVersion = "0.1.0";

constexpr std::string_view kUsage =
    R"(portcullis — an authentication gateway for HTTP APIs

Usage:
  portcullis run --config gateway.yaml        serve (the default command)
  portcullis validate --config gateway.yaml   check the config; exit 1 with file:line: messages
  portcullis explain --config gateway.yaml --method GET --path /orders/7 [--host H]
                     [--token JWT | --claims '{"scope":"orders:read"}']
                                              the matched route and the decision, with the reason
  portcullis test --config gateway.yaml policies/tests.yaml
                                              run table-driven policy tests; exit 1 on a failure
  portcullis keys generate --alg ES256 --out DIR [--kid KID] [--force]
                                              a dev key pair (DIR/private.pem) and its DIR/jwks.json
  portcullis token mint --key DIR/private.pem --claims '{...}' [--ttl 15m]
                                              a signed dev token (for demos and tests only)
  portcullis demo [--listen HOST:PORT] [--admin-listen HOST:PORT]
                                              a complete local setup in one process (dev issuer,
                                              echo API, example policy); prints curl commands
  portcullis --version | --help

Flags:
  --config FILE   the gateway configuration (YAML)
)";

struct Args {
  std::string command = "run";
  std::string config;
  bool help = false;
  bool version = false;
  std::string error;
};

Args parse_args(int argc, char** argv) {
  Args a;
  int i = 1;
  if (i < argc && argv[i][0] != '-') a.command = argv[i++];
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      a.help = true;
    } else if (arg == "--version") {
      a.version = true;
    } else if (arg == "--config" || arg.starts_with("--config=")) {
      if (arg == "--config") {
        if (i + 1 >= argc) {
          a.error = "--config needs a file";
          return a;
        }
        a.config = argv[++i];
      } else {
        a.config = std::string(arg.substr(9));
      }
    } else {
      a.error = "unknown flag: " + std::string(arg);
      return a;
    }
  }
  if (a.command != "run" && a.command != "validate") a.error = "unknown command: " + a.command;
  return a;
}

config::LoadResult load_or_report(const std::string& path) {
  config::LoadResult r = config::load_gateway_config(path);
  for (const config::ConfigError& e : r.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  return r;
}

int validate(const Args& args) {
  config::LoadResult r = load_or_report(args.config);
  if (!r.ok()) return 1;
  config::PolicyLoadResult p = config::load_policies(r.config->policies, *r.config);
  for (const config::ConfigError& e : p.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!p.ok()) return 1;
  std::printf("%s: ok\n", args.config.c_str());
  return 0;
}

// What `demo` adds to serving: its embedded policy instead of policy files, and a call once
// the gateway is ready (what /readyz reports), before it waits for signals.
struct ServeExtras {
  std::shared_ptr<const policy::PolicySet> fixed_policies;
  std::function<void(uint16_t port, uint16_t admin_port)> on_ready;
};

int serve(const config::LoadResult& r, const Args& args, const ServeExtras& extras);

int run(const Args& args) {
  config::LoadResult r = load_or_report(args.config);
  if (!r.ok()) return 1;
  return serve(r, args, {});
}

int demo(int argc, char** argv) {
  const std::vector<std::string_view> args(argv, argv + argc);
  int exit_code = 0;
  std::unique_ptr<cli::Demo> d = cli::Demo::create(args, cli::Io{}, exit_code);
  if (!d) return exit_code;
  Args serve_args;
  serve_args.config = std::string(cli::demo::kConfigName);
  return serve(d->config(), serve_args,
               {d->policies(), [&d](uint16_t port, uint16_t admin_port) { d->on_ready(port, admin_port); }});
}

int serve(const config::LoadResult& r, const Args& args, const ServeExtras& extras) {
  const config::GatewayConfig& cfg = *r.config;
  Result<net::NetSettings> settings = proxy::make_net_settings(cfg);
  if (!settings) {
    std::fprintf(stderr, "%s: %s\n", args.config.c_str(), settings.error().message.c_str());
    return 1;
  }
  // Every client and upstream connection is a descriptor: allow as many as the hard limit.
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  net::Server::block_signals();
  metrics::Metrics metrics;
  net::Server server(std::move(settings.value()), metrics);
  proxy::KeyManager keys(r.config, metrics);
  proxy::Introspector introspector(r.config, keys, metrics);
  if (std::string err = introspector.load_secrets(); !err.empty()) {
    std::fprintf(stderr, "%s: %s\n", args.config.c_str(), err.c_str());
    return 1;
  }
  // An issuer's CA file is read by every fetch; one that cannot be loaded would only show
  // as keys that never load, so refuse to start instead (as for an upstream's).
  for (const config::IssuerConfig& is : cfg.issuers) {
    if (is.ca_file.empty()) continue;
    if (Result<net::SslContext> ctx = net::make_upstream_tls(is.ca_file); !ctx) {
      std::fprintf(stderr, "%s: issuer %s: tls.ca_file: %s\n", args.config.c_str(), is.name.c_str(),
                   ctx.error().message.c_str());
      return 1;
    }
  }
  proxy::PolicyStore policies(r.config, metrics, extras.fixed_policies);
  if (policies.enabled()) {
    std::vector<config::ConfigError> errors = policies.load_initial();
    for (const config::ConfigError& e : errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    if (!errors.empty()) return 1;
  }
  // After every key refresh attempt, each worker re-checks the requests it parked for it.
  keys.subscribe([&server](size_t issuer) {
    for (auto& w : server.workers()) {
      net::Worker* worker = w.get();
      worker->post([worker, issuer] { static_cast<proxy::ProxyHandler&>(worker->handler()).on_keys_refreshed(issuer); });
    }
  });
  auto proxy_factory = [&](net::Worker& worker) {
    // Told from the control loop when an introspection call this worker waits for ends.
    auto notify = [&worker] {
      net::Worker* w = &worker;
      w->post([w] { static_cast<proxy::ProxyHandler&>(w->handler()).on_introspected(); });
    };
    auto handler = std::make_unique<proxy::ProxyHandler>(cfg, &keys, &policies, worker.stats(), &introspector, notify);
    proxy::ProxyHandler* h = handler.get();
    worker.add_tick([h] { h->expire_parked(); });
    return handler;
  };
  // The admin loop is also the control loop: key fetches and refreshes run there.
  auto admin_factory = [&](net::Worker& control) {
    keys.start(control);
    introspector.start(control);
    policies.start(control);
    return std::make_unique<admin::AdminHandler>(
        metrics, [&keys, &policies] { return keys.ready() && (!policies.enabled() || policies.loaded()); },
        server.shared().draining);
  };
  if (auto err = server.start({cfg.listen.host, cfg.listen.port}, {cfg.admin_host, cfg.admin_port}, cfg.workers,
                              proxy_factory, admin_factory)) {
    log::error("cannot start", {log::str("error", err->message)});
    return 1;
  }
  auto host_port = [](const std::string& host, uint16_t port) {
    bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  };
  log::info("listening", {log::str("listen", host_port(cfg.listen.host, server.port())),
                          log::str("admin", host_port(cfg.admin_host, server.admin_port())),
                          log::num("workers", static_cast<int64_t>(cfg.workers)),
                          log::str("version", kVersion)});
  if (extras.on_ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!(keys.ready() && (!policies.enabled() || policies.loaded()))) {  // what /readyz checks
      if (std::chrono::steady_clock::now() >= deadline) {
        log::error("not ready within 15s: the issuer's keys did not load");
        server.shutdown();  // before the key manager and policies the loops use go away
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    extras.on_ready(server.port(), server.admin_port());
  }
  server.run_until_signal([&policies] { policies.request_reload(); });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "keys") return cli::keys_main(argc - 2, argv + 2);
  if (argc >= 2 && std::string_view(argv[1]) == "token") return cli::token_main(argc - 2, argv + 2);
  if (argc >= 2 && std::string_view(argv[1]) == "explain") return cli::explain_main(argc - 2, argv + 2);
  if (argc >= 2 && std::string_view(argv[1]) == "test") return cli::test_main(argc - 2, argv + 2);
  if (argc >= 2 && std::string_view(argv[1]) == "demo") return demo(argc - 2, argv + 2);
  Args args = parse_args(argc, argv);
  if (args.help) {
    std::fputs(kUsage.data(), stdout);
    return 0;
  }
  if (args.version) {
    std::printf("portcullis %s\n", kVersion.data());
    return 0;
  }
  if (!args.error.empty()) {
    std::fprintf(stderr, "portcullis: %s\n\n%s", args.error.c_str(), kUsage.data());
    return 2;
  }
  if (args.config.empty()) {
    std::fprintf(stderr, "portcullis: --config is required\n");
    return 2;
  }
  if (args.command == "validate") return validate(args);
  return run(args);
}
