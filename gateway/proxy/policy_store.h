// The live policy set: loaded at start-up, reloaded on SIGHUP and when any policy file
// changes (checked every second on the control loop; a Kubernetes ConfigMap update swaps a
// symlinked directory, which changes what stat() follows). A set that fails to load keeps
// the old one. Workers pick up a new set with one atomic load per request.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "config/gateway_config.h"
#include "config/policy_loader.h"
#include "metrics/metrics.h"

namespace portcullis::net {
class Worker;
}

namespace portcullis::proxy {

class PolicyStore {
 public:
  // `fixed`: a set compiled elsewhere (`portcullis demo` embeds its policy), live at once and
  // never reloaded; the config's `policies` patterns are then not read.
  PolicyStore(std::shared_ptr<const config::GatewayConfig> config, metrics::Metrics& metrics,
              std::shared_ptr<const policy::PolicySet> fixed = nullptr);

  // Loads the policies now; the errors, if any, are returned (and nothing is live).
  std::vector<config::ConfigError> load_initial();
  void start(net::Worker& control);
  // Thread-safe: ask for a reload at the next control tick (SIGHUP).
  void request_reload() { reload_requested_.store(true, std::memory_order_release); }

  // Thread-safe.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  std::shared_ptr<const policy::PolicySet> current() const;
  bool loaded() const { return version() > 0; }
  bool enabled() const { return fixed_ || !config_->policies.empty(); }

 private:
  struct Stamp {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  void tick();
  bool reload(const char* trigger);
  std::vector<Stamp> stamps() const;

  std::shared_ptr<const config::GatewayConfig> config_;
  metrics::Metrics& metrics_;
  bool fixed_ = false;
  std::vector<Stamp> seen_;
  unsigned ticks_ = 0;
  std::atomic<bool> reload_requested_{false};
  mutable std::mutex mutex_;  // guards current_ (never taken per request)
  std::shared_ptr<const policy::PolicySet> current_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace portcullis::proxy
