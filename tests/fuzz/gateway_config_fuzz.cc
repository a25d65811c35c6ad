// Fuzz target: the gateway.yaml loader (config/gateway_config.h): YAML syntax, shape (types,
// required, unknown and duplicate keys, ranges) and meaning, each failure a file:line error.
// yaml-cpp throws; the loader must turn every exception into an error, so anything escaping
// here aborts the run. Invariants: a config comes back exactly when there is no error, every
// error has a message, and an accepted config holds what the rest of the gateway relies on.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "config/gateway_config.h"
#include "fuzz_check.h"

namespace config = portcullis::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const config::LoadResult result = config::parse_gateway_config(yaml, "gateway.yaml", "/etc/portcullis");
  FUZZ_CHECK(result.ok() == result.errors.empty());
  FUZZ_CHECK((result.config != nullptr) == result.errors.empty());
  for (const config::ConfigError& e : result.errors) {
    FUZZ_CHECK(!e.message.empty() && e.line >= 0 && e.file == "gateway.yaml");
    FUZZ_CHECK(!e.to_string().empty());
  }
  if (!result.ok()) return 0;

  const config::GatewayConfig& cfg = *result.config;
  FUZZ_CHECK(cfg.find_upstream("default") != nullptr);
  FUZZ_CHECK(cfg.workers >= 1 && cfg.workers <= 256);
  std::set<std::string> names;
  for (const config::UpstreamConfig& u : cfg.upstreams) {
    FUZZ_CHECK(!u.host.empty() && (u.scheme == "http" || u.scheme == "https"));
    FUZZ_CHECK(names.insert(u.name).second);
    FUZZ_CHECK(cfg.find_upstream(u.name) == &u);
  }
  names.clear();
  for (const config::IssuerConfig& i : cfg.issuers) {
    FUZZ_CHECK(!i.issuer.empty());
    FUZZ_CHECK(!i.audiences.empty());
    FUZZ_CHECK(!i.algorithms.empty());
    FUZZ_CHECK(names.insert(i.name).second);
    FUZZ_CHECK(cfg.find_issuer(i.name) == &i);
  }
  return 0;
}
