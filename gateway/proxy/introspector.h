// RFC 7662 introspection, shared by every worker: one entry per (issuer, token) holding the
// latest verdict, and the calls that refresh it. Calls run on the control loop (libcurl
// multi through fetch::Fetcher); workers only look entries up and, when they must wait,
// register to be told once the call in flight is done. So concurrent requests with the same
// new token -- on any worker -- share one call, and the number of calls in flight per issuer
// is bounded (max_concurrent; the rest queue).
//
// Verdicts are cached until the earlier of the token's exp and `cache_ttl` (inactive ones
// for `inactive_cache_ttl`); in periodic mode every entry still in use is re-checked in the
// background every `interval`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <sys/stat.h>

#include "auth/claims.h"
#include "auth/introspection.h"
#include "auth/status.h"
#include "config/gateway_config.h"
#include "metrics/metrics.h"

namespace portcullis::fetch {
class Fetcher;
class FetchHandle;
struct FetchResult;
}  // namespace portcullis::fetch

namespace portcullis::net {
class Worker;
}

namespace portcullis::proxy {

class KeyManager;

using auth::IntrospectionEntry;

// A worker's view of an entry, read under the registry's mutex.
struct IntrospectionView {
  IntrospectionEntry::Verdict verdict = IntrospectionEntry::Verdict::Pending;
  auth::AuthStatus refused_status = auth::AuthStatus::TokenInactive;
  std::shared_ptr<const auth::Identity> identity;
  bool fresh = false;  // the verdict may be used without asking the endpoint again
};

class Introspector {
 public:
  Introspector(std::shared_ptr<const config::GatewayConfig> config, const KeyManager& keys, metrics::Metrics& metrics);
  ~Introspector();

  // Reads every client_secret_file now, so a missing secret fails start-up. "" when fine.
  std::string load_secrets();
  // Runs the calls and the periodic sweep on `control`'s loop (the admin worker).
  void start(net::Worker& control);
  // On the control thread when its loop ends: cancels calls, frees the fetcher.
  void stop();

  bool enabled(size_t issuer) const;
  config::IntrospectionConfig::Mode mode(size_t issuer) const;

  // Thread-safe. The entry for this token (created Pending when new). In periodic mode a new
  // entry is checked in the background at once, without anyone waiting for it.
  // `keep_refusal_until`: how long a refusal of this token outlives its idleness (a JWT's
  // exp; 0 for opaque tokens, which are asked again anyway).
  std::shared_ptr<IntrospectionEntry> attach(size_t issuer, std::string_view token, int64_t now,
                                             int64_t keep_refusal_until = 0);
  // Thread-safe: the entry's verdict and whether it is still fresh at `now`.
  IntrospectionView view(const IntrospectionEntry& entry, int64_t now) const;
  // Thread-safe: makes sure a call for `entry` is in flight or queued, and arranges for
  // `notify` (thread-safe, e.g. posting to a worker) to be called when it ends. `notify`
  // must outlive the call (workers own theirs for their whole life). False when the issuer's
  // queue is full: the entry is then settled as a failed call (on_error decides; view() says
  // what) and nothing will notify.
  bool await(const std::shared_ptr<IntrospectionEntry>& entry, const std::function<void()>* notify);

  size_t entries() const;

 private:
  struct Issuer;
  void tick();
  void sweep(int64_t now);
  void reload_secrets();
  bool enqueue_locked(const std::shared_ptr<IntrospectionEntry>& entry);  // false: queue full
  void pump();  // control thread: start queued calls while under max_concurrent
  void take_startable(std::vector<std::shared_ptr<IntrospectionEntry>>& out);
  void begin_call(const std::shared_ptr<IntrospectionEntry>& entry);
  void on_answer(const std::shared_ptr<IntrospectionEntry>& entry, fetch::FetchResult&& r);
  void settle(IntrospectionEntry& entry, auth::AuthStatus status, std::shared_ptr<const auth::Identity> identity,
              int64_t expires_at, std::string_view result);
  std::string endpoint(size_t issuer) const;

  std::shared_ptr<const config::GatewayConfig> config_;
  const KeyManager& keys_;
  metrics::Metrics& metrics_;
  std::vector<std::unique_ptr<Issuer>> issuers_;
  net::Worker* control_ = nullptr;
  std::unique_ptr<fetch::Fetcher> fetcher_;
  std::chrono::steady_clock::time_point next_sweep_{};
  std::chrono::steady_clock::time_point next_secret_check_{};

  mutable std::mutex mutex_;  // entries, their guarded fields, queues
  std::atomic<bool> pump_posted_{false};
  // Control thread only. A call can end inside pump() (no endpoint yet: answered at once), and
  // its answer pumps again: that nested pump only asks the running one for another pass, so
  // a long queue is worked off in a loop, not in a recursion as deep as the queue.
  bool pumping_ = false;
  bool pump_again_ = false;
};

}  // namespace portcullis::proxy
