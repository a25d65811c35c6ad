#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <functional>

namespace portcullis::metrics {
namespace {

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return prometheus::Histogram::BucketBoundaries(kLatencyBuckets.begin(), kLatencyBuckets.end());
}

}  // namespace

Metrics::Metrics()
    : Metrics(std::make_shared<prometheus::Registry>()) {}

Metrics::Metrics(std::shared_ptr<prometheus::Registry> r)
    : requests(prometheus::BuildCounter()
                   .Name("portcullis_requests_total")
                   .Help("Requests by route, decision and HTTP status")
                   .Register(*r)),
      request_duration(prometheus::BuildHistogram()
                           .Name("portcullis_request_duration_seconds")
                           .Help("Time from a complete request head to the end of the response")
                           .Register(*r)),
      upstream_duration(prometheus::BuildHistogram()
                            .Name("portcullis_upstream_duration_seconds")
                            .Help("Time from forwarding a request to the upstream's response head")
                            .Register(*r)),
      connections_active(prometheus::BuildGauge()
                             .Name("portcullis_connections_active")
                             .Help("Client connections currently open")
                             .Register(*r)),
      connections_rejected(prometheus::BuildCounter()
                               .Name("portcullis_connections_rejected_total")
                               .Help("Client connections closed at once because max_connections was reached")
                               .Register(*r)),
      upstream_errors(prometheus::BuildCounter()
                          .Name("portcullis_upstream_errors_total")
                          .Help("Upstream failures by upstream and kind")
                          .Register(*r)),
      auth_failures(prometheus::BuildCounter()
                        .Name("portcullis_auth_failures_total")
                        .Help("Refused tokens by issuer and reason")
                        .Register(*r)),
      token_cache(prometheus::BuildCounter()
                      .Name("portcullis_token_cache_total")
                      .Help("Verified-token cache lookups by result")
                      .Register(*r)),
      jwks_refresh(prometheus::BuildCounter()
                       .Name("portcullis_jwks_refresh_total")
                       .Help("JWKS fetches by issuer and result")
                       .Register(*r)),
      jwks_keys(prometheus::BuildGauge()
                    .Name("portcullis_jwks_keys")
                    .Help("Usable keys in each issuer's key set")
                    .Register(*r)),
      introspection(prometheus::BuildCounter()
                        .Name("portcullis_introspection_total")
                        .Help("Introspection calls by issuer and result")
                        .Register(*r)),
      config_reload(prometheus::BuildCounter()
                        .Name("portcullis_config_reload_total")
                        .Help("Policy reloads by result")
                        .Register(*r)),
      identity_claims_dropped(prometheus::BuildCounter()
                                  .Name("portcullis_identity_claims_dropped_total")
                                  .Help("Mapped claims left out of identity headers (control characters, bad type)")
                                  .Register(*r)),
      registry_(std::move(r)) {
  connections_active.Add({});
  connections_rejected.Add({});
}

Metrics::~Metrics() = default;

std::string Metrics::serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

size_t LabeledCounts::Hash::operator()(const KeyView& k) const {
  std::hash<std::string_view> h;
  size_t seed = h(k.a);
  seed ^= h(k.b) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  seed ^= h(k.c) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  return seed;
}

void LabeledCounts::add(std::string_view a, std::string_view b, std::string_view c, uint64_t n) {
  auto it = counts_.find(KeyView{a, b, c});
  if (it == counts_.end()) {
    it = counts_.emplace(Key{std::string(a), std::string(b), std::string(c)}, 0).first;
  }
  it->second += n;
}

void LocalHistogram::observe(double seconds) {
  size_t i = std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds) - kLatencyBuckets.begin();
  ++buckets_[i];
  sum_ += seconds;
  ++count_;
}

void LocalHistogram::flush_into(prometheus::Histogram& h) {
  std::vector<double> increments(buckets_.begin(), buckets_.end());
  h.ObserveMultiple(increments, sum_);
  buckets_.fill(0);
  sum_ = 0;
  count_ = 0;
}

void WorkerStats::request(std::string_view route, std::string_view outcome, int status, double seconds) {
  char code[8];
  int n = 0;
  for (int v = status, div = 100; div > 0; div /= 10) code[n++] = static_cast<char>('0' + (v / div) % 10);
  requests_.add(route, outcome, std::string_view(code, n));
  request_duration_.observe(seconds);
}

void WorkerStats::flush(Metrics& m) {
  requests_.drain([&](const std::string& route, const std::string& outcome, const std::string& code, uint64_t n) {
    m.requests.Add({{"route", route}, {"decision", outcome}, {"code", code}}).Increment(static_cast<double>(n));
  });
  if (!request_duration_.empty()) request_duration_.flush_into(m.request_duration.Add({}, latency_buckets()));
  if (!upstream_duration_.empty()) upstream_duration_.flush_into(m.upstream_duration.Add({}, latency_buckets()));
  upstream_errors_.drain([&](const std::string& upstream, const std::string& kind, const std::string&, uint64_t n) {
    m.upstream_errors.Add({{"upstream", upstream}, {"kind", kind}}).Increment(static_cast<double>(n));
  });
  auth_failures_.drain([&](const std::string& issuer, const std::string& reason, const std::string&, uint64_t n) {
    m.auth_failures.Add({{"issuer", issuer}, {"reason", reason}}).Increment(static_cast<double>(n));
  });
  if (token_cache_hits_ > 0) m.token_cache.Add({{"result", "hit"}}).Increment(static_cast<double>(token_cache_hits_));
  if (token_cache_misses_ > 0) m.token_cache.Add({{"result", "miss"}}).Increment(static_cast<double>(token_cache_misses_));
  token_cache_hits_ = token_cache_misses_ = 0;
  claims_dropped_.drain([&](const std::string& claim, const std::string&, const std::string&, uint64_t n) {
    m.identity_claims_dropped.Add({{"claim", claim}}).Increment(static_cast<double>(n));
  });
  if (connections_delta_ != 0) {
    m.connections_active.Add({}).Increment(static_cast<double>(connections_delta_));
    connections_delta_ = 0;
  }
  if (connections_rejected_ != 0) {
    m.connections_rejected.Add({}).Increment(static_cast<double>(connections_rejected_));
    connections_rejected_ = 0;
  }
}

}  // namespace portcullis::metrics
