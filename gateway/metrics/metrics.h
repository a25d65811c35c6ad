// Prometheus metrics. The registry is shared by all threads; the request path never touches
// it: each worker counts into its own WorkerStats (plain integers) and a worker timer
// flushes them into the registry about once a second.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace portcullis::metrics {

inline constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1,     2.5,   5,     10};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::string serialize() const;  // Prometheus text exposition format
  prometheus::Registry& registry() { return *registry_; }

  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& request_duration;
  prometheus::Family<prometheus::Histogram>& upstream_duration;
  prometheus::Family<prometheus::Gauge>& connections_active;
  prometheus::Family<prometheus::Counter>& connections_rejected;
  prometheus::Family<prometheus::Counter>& upstream_errors;
  prometheus::Family<prometheus::Counter>& auth_failures;
  prometheus::Family<prometheus::Counter>& token_cache;
  prometheus::Family<prometheus::Counter>& jwks_refresh;
  prometheus::Family<prometheus::Gauge>& jwks_keys;
  prometheus::Family<prometheus::Counter>& introspection;
  prometheus::Family<prometheus::Counter>& config_reload;
  prometheus::Family<prometheus::Counter>& identity_claims_dropped;

 private:
  explicit Metrics(std::shared_ptr<prometheus::Registry> registry);
  std::shared_ptr<prometheus::Registry> registry_;
};

// Counts with labels, keyed by their label values; flushed as deltas.
class LabeledCounts {
 public:
  void add(std::string_view a, std::string_view b = {}, std::string_view c = {}, uint64_t n = 1);
  // Calls f(a, b, c, delta) for every non-zero delta and resets the deltas.
  template <class F>
  void drain(F&& f) {
    for (auto& [key, value] : counts_) {
      if (value == 0) continue;
      f(key.a, key.b, key.c, value);
      value = 0;
    }
  }

 private:
  struct Key {
    std::string a, b, c;
    bool operator==(const Key&) const = default;
  };
  struct KeyView {
    std::string_view a, b, c;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(const Key& k) const { return (*this)(KeyView{k.a, k.b, k.c}); }
    size_t operator()(const KeyView& k) const;
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(const Key& x, const Key& y) const { return x == y; }
    bool operator()(const KeyView& x, const Key& y) const { return x.a == y.a && x.b == y.b && x.c == y.c; }
    bool operator()(const Key& x, const KeyView& y) const { return (*this)(y, x); }
  };
  std::unordered_map<Key, uint64_t, Hash, Eq> counts_;
};

class LocalHistogram {
 public:
  void observe(double seconds);
  bool empty() const { return count_ == 0; }
  void flush_into(prometheus::Histogram& h);

 private:
  std::array<uint64_t, kLatencyBuckets.size() + 1> buckets_{};
  double sum_ = 0;
  uint64_t count_ = 0;
};

class WorkerStats {
 public:
  void request(std::string_view route, std::string_view outcome, int status, double seconds);
  void upstream_time(double seconds) { upstream_duration_.observe(seconds); }
  void upstream_error(std::string_view upstream, std::string_view kind) { upstream_errors_.add(upstream, kind); }
  void auth_failure(std::string_view issuer, std::string_view reason) { auth_failures_.add(issuer, reason); }
  // Plain counters, not a label lookup: one of the two runs on every authenticated request.
  void token_cache_hit() { ++token_cache_hits_; }
  void token_cache_miss() { ++token_cache_misses_; }
  void claim_dropped(std::string_view claim) { claims_dropped_.add(claim); }
  void connection_opened() { ++connections_delta_; }
  void connection_closed() { --connections_delta_; }
  void connection_rejected() { ++connections_rejected_; }

  void flush(Metrics& m);

 private:
  LabeledCounts requests_;
  LocalHistogram request_duration_;
  LocalHistogram upstream_duration_;
  LabeledCounts upstream_errors_;
  LabeledCounts auth_failures_;
  uint64_t token_cache_hits_ = 0;
  uint64_t token_cache_misses_ = 0;
  LabeledCounts claims_dropped_;
  int64_t connections_delta_ = 0;
  uint64_t connections_rejected_ = 0;
};

}  // namespace portcullis::metrics
