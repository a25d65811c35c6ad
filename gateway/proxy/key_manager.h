// Keeps every issuer's key set current, off the request path. Runs on the control loop
// (the admin worker): discovery, JWKS fetches with libcurl multi, background refresh with
// jitter, stale-on-error, rate-limited refetch for unknown kids, jwks_file and secret_file
// reload on change. Workers read the published sets; reading is one atomic load per request
// unless something changed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "auth/key_set.h"
#include "config/gateway_config.h"
#include "metrics/metrics.h"
#include "proxy/file_stamp.h"

namespace portcullis::fetch {
class Fetcher;
class FetchHandle;
struct FetchResult;
}  // namespace portcullis::fetch

namespace portcullis::net {
class Worker;
}

namespace portcullis::proxy {

class KeyManager {
 public:
  KeyManager(std::shared_ptr<const config::GatewayConfig> config, metrics::Metrics& metrics);
  ~KeyManager();

  // Called after each refresh attempt of an issuer finishes (success or not, or refused by
  // the rate limit), on the control thread. Register before start().
  void subscribe(std::function<void(size_t issuer)> on_refreshed) { subscribers_.push_back(std::move(on_refreshed)); }
  // Loads file and secret sources now (so errors show at start-up), then runs on `control`.
  void start(net::Worker& control);
  // On the control thread when its loop ends: cancels fetches, frees the fetcher.
  void stop();

  // Thread-safe.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  std::shared_ptr<const auth::KeySet> keys(size_t issuer) const;
  bool ready() const;
  void request_refresh(size_t issuer);
  size_t issuer_count() const { return issuers_.size(); }
  // The discovery document's introspection_endpoint ("" until discovery named a usable one).
  std::string introspection_endpoint(size_t issuer) const;

 private:
  using Clock = std::chrono::steady_clock;
  enum class Source { Discovery, Uri, File, Secret };
  struct Issuer {
    const config::IssuerConfig* cfg = nullptr;
    Source source = Source::Uri;
    std::string jwks_uri;  // configured, or from discovery
    std::shared_ptr<fetch::FetchHandle> in_flight;
    Clock::time_point next_refresh{};
    Clock::time_point last_attempt{};
    bool attempted = false;
    bool refresh_wanted = false;
    unsigned failures = 0;
    FileStamp stamp;
    Clock::time_point next_stat{};
    std::shared_ptr<const auth::KeySet> current;  // control thread's copy
  };

  void tick();
  void begin_fetch(size_t i);
  void on_discovery(size_t i, fetch::FetchResult&& r);
  void fetch_jwks(size_t i);
  void on_jwks(size_t i, fetch::FetchResult&& r);
  void load_file(size_t i, bool initial);
  void fetch_failed(size_t i, std::string_view result, std::string_view detail);
  void publish(size_t i, std::shared_ptr<const auth::KeySet> set, std::string_view result);
  void finish_attempt(size_t i);
  Clock::duration with_jitter(Clock::duration d);  // proxy::jittered with a random placement

  std::shared_ptr<const config::GatewayConfig> config_;
  metrics::Metrics& metrics_;
  std::vector<Issuer> issuers_;
  std::vector<std::function<void(size_t)>> subscribers_;
  std::unique_ptr<fetch::Fetcher> fetcher_;
  std::mt19937_64 rng_{std::random_device{}()};

  mutable std::mutex mutex_;  // guards published_, wanted_, introspection_endpoints_ (never taken per request)
  std::vector<std::shared_ptr<const auth::KeySet>> published_;
  std::vector<bool> wanted_;
  std::vector<std::string> introspection_endpoints_;
  std::atomic<uint64_t> version_{0};
  std::atomic<bool> refresh_requested_{false};
};

}  // namespace portcullis::proxy
