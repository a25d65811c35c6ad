#include "proxy/policy_store.h"

#include <glob.h>

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include "log/log.h"
#include "net/worker.h"

namespace portcullis::proxy {
namespace {

constexpr unsigned kTicksPerFileCheck = 10;  // worker ticks are 100 ms

}  // namespace

PolicyStore::PolicyStore(std::shared_ptr<const config::GatewayConfig> config, metrics::Metrics& metrics,
                         std::shared_ptr<const policy::PolicySet> fixed)
    : config_(std::move(config)), metrics_(metrics), fixed_(fixed != nullptr), current_(std::move(fixed)) {
  if (fixed_) version_.store(1, std::memory_order_release);
}

std::vector<config::ConfigError> PolicyStore::load_initial() {
  if (fixed_) return {};
  seen_ = stamps();
  config::PolicyLoadResult r = config::load_policies(config_->policies, *config_);
  if (!r.ok()) return r.errors;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = std::move(r.policies);
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
  return {};
}

void PolicyStore::start(net::Worker& control) {
  if (enabled() && !fixed_) control.add_tick([this] { tick(); });
}

std::shared_ptr<const policy::PolicySet> PolicyStore::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

std::vector<PolicyStore::Stamp> PolicyStore::stamps() const {
  std::vector<Stamp> out;
  for (const std::string& pattern : config_->policies) {
    glob_t g{};
    if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        struct stat st{};
        Stamp s;
        s.path = g.gl_pathv[i];
        if (::stat(g.gl_pathv[i], &st) == 0) {  // follows symlinks: a ConfigMap swap shows
          s.dev = st.st_dev;
          s.ino = st.st_ino;
          s.size = st.st_size;
          s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
        }
        out.push_back(std::move(s));
      }
    }
    globfree(&g);
  }
  return out;
}

void PolicyStore::tick() {
  if (reload_requested_.exchange(false, std::memory_order_acq_rel)) {
    seen_ = stamps();
    reload("signal");
    return;
  }
  if (++ticks_ % kTicksPerFileCheck != 0) return;
  std::vector<Stamp> now = stamps();
  if (now == seen_) return;
  seen_ = std::move(now);
  reload("file change");
}

bool PolicyStore::reload(const char* trigger) {
  config::PolicyLoadResult r = config::load_policies(config_->policies, *config_);
  if (!r.ok()) {
    metrics_.config_reload.Add({{"result", "failure"}}).Increment();
    for (const config::ConfigError& e : r.errors) {
      log::error("policy reload refused, keeping the previous policies",
                 {log::str("trigger", trigger), log::str("error", e.to_string())});
    }
    return false;
  }
  size_t routes = r.policies->routes.size();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = std::move(r.policies);
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
  metrics_.config_reload.Add({{"result", "success"}}).Increment();
  log::info("policies reloaded", {log::str("trigger", trigger), log::num("routes", static_cast<int64_t>(routes))});
  return true;
}

}  // namespace portcullis::proxy
