#include "proxy/introspector.h"

#include <algorithm>
#include <ctime>
#include <limits>

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include "auth/introspection.h"
#include "core/clock.h"
#include "fetch/fetcher.h"
#include "log/log.h"
#include "net/worker.h"
#include "proxy/file_stamp.h"
#include "proxy/issuer_fetch.h"
#include "proxy/key_manager.h"

namespace portcullis::proxy {
namespace {

using Verdict = IntrospectionEntry::Verdict;
using Mode = config::IntrospectionConfig::Mode;

constexpr int64_t kFailureHoldSeconds = 1;  // a failing endpoint is not asked by every request
constexpr int64_t kPeriodicRetrySeconds = 2;
constexpr int64_t kIdleRetireSeconds = 60;
constexpr size_t kMinEntriesPerIssuer = 10000;
// Calls waiting for a free slot, per issuer: beyond this a flood of distinct tokens against a
// slow endpoint is refused at once (503) instead of growing the queue and the registry (queued
// entries are busy, so never retired) at the flood's rate.
constexpr size_t kMinQueuedCalls = 256;
constexpr size_t kQueuedCallsPerSlot = 32;
constexpr auto kSecretCheckInterval = std::chrono::seconds(1);
// How late a periodic re-check may start after it is due (the bar is interval + 1 s).
constexpr auto kSweepInterval = std::chrono::milliseconds(250);

int64_t seconds(std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

// Kubernetes Secrets and editors leave a trailing newline; it is never part of a secret.
std::string trim_line_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

struct Introspector::Issuer {
  const config::IssuerConfig* cfg = nullptr;
  const config::IntrospectionConfig* in = nullptr;  // nullptr: introspection off
  auth::ClaimRules rules;
  size_t max_entries = kMinEntriesPerIssuer;
  size_t max_queued = kMinQueuedCalls;
  // Keys view the entry's own token; an entry is erased from here before it is freed.
  std::unordered_map<std::string_view, std::shared_ptr<IntrospectionEntry>> entries;
  std::deque<std::shared_ptr<IntrospectionEntry>> queue;
  size_t calls = 0;     // in flight
  std::string secret;   // control thread (and start-up) only
  FileStamp secret_stamp;
};

Introspector::Introspector(std::shared_ptr<const config::GatewayConfig> config, const KeyManager& keys,
                           metrics::Metrics& metrics)
    : config_(std::move(config)), keys_(keys), metrics_(metrics) {
  for (const config::IssuerConfig& c : config_->issuers) {
    auto is = std::make_unique<Issuer>();
    is->cfg = &c;
    if (c.introspection) is->in = &*c.introspection;
    is->rules.issuer = c.issuer;
    is->rules.audiences = c.audiences;
    is->rules.leeway_seconds = seconds(c.leeway);
    is->rules.scope_claim = c.scope_claim;
    is->max_entries = std::max(kMinEntriesPerIssuer, 2 * config_->token_cache_size * std::max(1u, config_->workers));
    if (is->in) is->max_queued = std::max(kMinQueuedCalls, kQueuedCallsPerSlot * is->in->max_concurrent);
    issuers_.push_back(std::move(is));
  }
}

Introspector::~Introspector() { stop(); }

bool Introspector::enabled(size_t issuer) const { return issuer < issuers_.size() && issuers_[issuer]->in != nullptr; }

Mode Introspector::mode(size_t issuer) const { return issuers_[issuer]->in->mode; }

std::string Introspector::load_secrets() {
  for (auto& is : issuers_) {
    if (!is->in) continue;
    const std::string& path = is->in->client_secret_file;
    std::optional<FileStamp> stamp = stamp_of(path);
    std::string error;
    std::string secret = stamp ? trim_line_end(config::read_file(path, error, 64 * 1024)) : std::string();
    if (!stamp) error = "cannot read " + path;
    if (error.empty() && secret.empty()) error = path + " is empty";
    if (!error.empty()) return "issuer " + is->cfg->name + ": introspection client secret: " + error;
    is->secret = std::move(secret);
    is->secret_stamp = *stamp;
  }
  return {};
}

void Introspector::reload_secrets() {
  for (auto& is : issuers_) {
    if (!is->in) continue;
    const std::string& path = is->in->client_secret_file;
    std::optional<FileStamp> stamp = stamp_of(path);
    if (!stamp || *stamp == is->secret_stamp) continue;
    std::string error;
    std::string secret = trim_line_end(config::read_file(path, error, 64 * 1024));
    if (!error.empty() || secret.empty()) {
      // Keep the old secret: a half-written file must not lock every client out.
      log::warn("introspection secret not reloaded", {log::str("issuer", is->cfg->name),
                                                      log::str("detail", error.empty() ? path + " is empty" : error)});
      continue;
    }
    is->secret_stamp = *stamp;
    if (secret != is->secret) {
      is->secret = std::move(secret);
      log::info("introspection secret reloaded", {log::str("issuer", is->cfg->name)});
    }
  }
}

void Introspector::start(net::Worker& control) {
  control_ = &control;
  fetcher_ = fetch::Fetcher::create(control.base());
  control.add_tick([this] { tick(); });
  control.add_on_stop([this] { stop(); });
}

void Introspector::stop() {
  fetcher_.reset();  // cancels every call without callbacks
  control_ = nullptr;
}

size_t Introspector::entries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t n = 0;
  for (const auto& is : issuers_) n += is->entries.size();
  return n;
}

std::shared_ptr<IntrospectionEntry> Introspector::attach(size_t issuer, std::string_view token, int64_t now,
                                                         int64_t keep_refusal_until) {
  Issuer& is = *issuers_[issuer];
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = is.entries.find(token); it != is.entries.end()) {
    it->second->last_used.store(now, std::memory_order_relaxed);
    it->second->keep_refusal_until = std::max(it->second->keep_refusal_until, keep_refusal_until);
    return it->second;
  }
  auto entry = std::make_shared<IntrospectionEntry>(issuer, std::string(token));
  entry->last_used.store(now, std::memory_order_relaxed);
  entry->keep_refusal_until = keep_refusal_until;
  is.entries.emplace(entry->token, entry);
  // Checked in the background; with the queue full, the sweep queues it once there is room.
  if (is.in->mode == Mode::Periodic) enqueue_locked(entry);
  return entry;
}

IntrospectionView Introspector::view(const IntrospectionEntry& entry, int64_t now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  IntrospectionView v;
  v.verdict = entry.verdict.load(std::memory_order_relaxed);
  v.refused_status = entry.refused_status;
  v.identity = entry.identity;
  v.fresh = v.verdict != Verdict::Pending && now < entry.fresh_until;
  return v;
}

bool Introspector::await(const std::shared_ptr<IntrospectionEntry>& entry, const std::function<void()>* notify) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!enqueue_locked(entry)) {
    settle(*entry, auth::AuthStatus::IntrospectionFailed, nullptr, 0, "queue_full");
    metrics_.introspection.Add({{"issuer", issuers_[entry->issuer]->cfg->name}, {"result", "queue_full"}}).Increment();
    return false;
  }
  if (std::find(entry->waiters.begin(), entry->waiters.end(), notify) == entry->waiters.end()) {
    entry->waiters.push_back(notify);
  }
  return true;
}

bool Introspector::enqueue_locked(const std::shared_ptr<IntrospectionEntry>& entry) {
  if (entry->in_flight || entry->queued) return true;  // one call per token at a time
  Issuer& is = *issuers_[entry->issuer];
  if (is.queue.size() >= is.max_queued) return false;
  entry->queued = true;
  is.queue.push_back(entry);
  // Wake the control loop once, not once per request.
  if (control_ != nullptr && !pump_posted_.exchange(true, std::memory_order_acq_rel)) {
    control_->post([this] {
      pump_posted_.store(false, std::memory_order_release);
      pump();
    });
  }
  return true;
}

void Introspector::pump() {
  if (!fetcher_) return;
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  std::vector<std::shared_ptr<IntrospectionEntry>> starting;
  do {
    pump_again_ = false;
    take_startable(starting);
    for (auto& e : starting) begin_call(e);
  } while (pump_again_ && fetcher_);
  pumping_ = false;
}

// Moves the queued entries that fit under each issuer's max_concurrent into `out`, in flight.
void Introspector::take_startable(std::vector<std::shared_ptr<IntrospectionEntry>>& out) {
  out.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& is : issuers_) {
    while (!is->queue.empty() && is->calls < is->in->max_concurrent) {
      std::shared_ptr<IntrospectionEntry> e = std::move(is->queue.front());
      is->queue.pop_front();
      e->queued = false;
      e->in_flight = true;
      ++is->calls;
      out.push_back(std::move(e));
    }
  }
}

std::string Introspector::endpoint(size_t issuer) const {
  const Issuer& is = *issuers_[issuer];
  return is.in->endpoint.empty() ? keys_.introspection_endpoint(issuer) : is.in->endpoint;
}

void Introspector::begin_call(const std::shared_ptr<IntrospectionEntry>& entry) {
  Issuer& is = *issuers_[entry->issuer];
  fetch::FetchRequest req = issuer_request(*is.cfg, endpoint(entry->issuer), auth::kMaxIntrospectionAnswerBytes);
  if (req.url.empty()) {
    fetch::FetchResult none;
    none.error = fetch::FetchError::BadUrl;
    none.detail = "the discovery document has not named an introspection_endpoint (yet)";
    on_answer(entry, std::move(none));
    return;
  }
  req.method = "POST";
  req.headers.emplace_back("Accept", "application/json");
  if (is.in->auth_method == config::IntrospectionConfig::AuthMethod::ClientSecretPost) {
    req.body = auth::introspection_request_body(entry->token, is.in->client_id, is.secret);
  } else {
    req.body = auth::introspection_request_body(entry->token, {}, {});
    auth::form_urlencode(is.in->client_id, req.basic_user);  // RFC 6749 §2.3.1
    auth::form_urlencode(is.secret, req.basic_password);
  }
  fetcher_->fetch(std::move(req), [this, entry](fetch::FetchResult&& r) { on_answer(entry, std::move(r)); });
}

void Introspector::on_answer(const std::shared_ptr<IntrospectionEntry>& entry, fetch::FetchResult&& r) {
  Issuer& is = *issuers_[entry->issuer];
  const int64_t now = unix_now();
  std::string_view result;
  auth::IntrospectionAnswer answer;
  if (r.error == fetch::FetchError::Timeout) {
    result = "timeout";
  } else if (r.error != fetch::FetchError::None || r.status != 200) {
    result = "error";
  } else {
    answer = auth::parse_introspection_response(r.body, is.rules, now);
    switch (answer.status) {
      case auth::AuthStatus::Ok: result = "active"; break;
      case auth::AuthStatus::TokenInactive: result = "inactive"; break;
      case auth::AuthStatus::IntrospectionFailed: result = "malformed"; break;
      default: result = "invalid"; break;  // active, but not for us (aud, iss, exp...)
    }
  }
  if (result == "timeout" || result == "error" || result == "malformed") {
    std::string detail = r.error != fetch::FetchError::None ? std::string(fetch::to_string(r.error)) + ": " + r.detail
                         : r.status != 200 ? "HTTP " + std::to_string(r.status)
                                           : "not an RFC 7662 answer";
    log::warn("introspection failed", {log::str("issuer", is.cfg->name), log::str("result", result),
                                       log::str("detail", detail)});
    answer.status = auth::AuthStatus::IntrospectionFailed;
  }
  metrics_.introspection.Add({{"issuer", is.cfg->name}, {"result", std::string(result)}}).Increment();

  std::vector<const std::function<void()>*> waiters;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --is.calls;
    entry->in_flight = false;
    settle(*entry, answer.status, std::move(answer.identity), answer.expires_at, result);
    waiters.swap(entry->waiters);
  }
  for (const std::function<void()>* notify : waiters) (*notify)();
  pump();
}

// Under mutex_. Decides what the entry says until the next call.
void Introspector::settle(IntrospectionEntry& e, auth::AuthStatus status, std::shared_ptr<const auth::Identity> identity,
                          int64_t expires_at, std::string_view result) {
  const config::IntrospectionConfig& in = *issuers_[e.issuer]->in;
  const int64_t now = unix_now();
  const int64_t ttl_end = now + seconds(in.cache_ttl);
  e.checked_at = now;
  if (status == auth::AuthStatus::Ok) {
    e.identity = std::move(identity);
    e.fresh_until = expires_at > 0 ? std::min(expires_at, ttl_end) : ttl_end;
    e.usable_until = expires_at > 0 ? expires_at : ttl_end;
    e.verdict.store(Verdict::Active, std::memory_order_release);
    return;
  }
  if (status != auth::AuthStatus::IntrospectionFailed) {
    e.refused_status = status;
    e.identity.reset();
    e.fresh_until = now + seconds(in.inactive_cache_ttl);
    e.verdict.store(Verdict::Refused, std::memory_order_release);
    return;
  }
  // No decision could be made.
  const bool keep = in.on_error == config::IntrospectionConfig::OnError::UseCached && e.identity &&
                    e.verdict.load(std::memory_order_relaxed) == Verdict::Active && now < e.usable_until;
  if (keep) {
    e.fresh_until = std::min(e.usable_until, now + kFailureHoldSeconds);
    log::info("introspection: using the cached answer", {log::str("issuer", issuers_[e.issuer]->cfg->name),
                                                          log::str("result", result)});
    return;
  }
  e.fresh_until = now + kFailureHoldSeconds;
  e.verdict.store(Verdict::Failed, std::memory_order_release);
}

void Introspector::tick() {
  const auto steady = std::chrono::steady_clock::now();
  if (steady >= next_secret_check_) {
    next_secret_check_ = steady + kSecretCheckInterval;
    reload_secrets();
  }
  if (steady >= next_sweep_) {
    next_sweep_ = steady + kSweepInterval;
    sweep(unix_now());
  }
  pump();  // queued before the loop ran, or left behind by max_concurrent
}

// Background re-checks (periodic mode) and retiring entries no one uses any more.
void Introspector::sweep(int64_t now) {
  std::vector<std::shared_ptr<IntrospectionEntry>> retired;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& is_ptr : issuers_) {
      Issuer& is = *is_ptr;
      if (!is.in) continue;
      const int64_t interval = std::max<int64_t>(1, seconds(is.in->interval));
      const bool periodic = is.in->mode == Mode::Periodic;
      for (auto it = is.entries.begin(); it != is.entries.end();) {
        IntrospectionEntry& e = *it->second;
        const int64_t used = e.last_used.load(std::memory_order_relaxed);
        const bool busy = e.in_flight || e.queued || !e.waiters.empty();
        const int64_t idle_limit = periodic ? 2 * interval : kIdleRetireSeconds;
        const Verdict verdict = e.verdict.load(std::memory_order_relaxed);
        const bool kept_refusal = verdict == Verdict::Refused && now < e.keep_refusal_until;
        if (!busy && !kept_refusal && now - used > idle_limit && now >= e.fresh_until) {
          e.retired.store(true, std::memory_order_release);
          retired.push_back(std::move(it->second));
          it = is.entries.erase(it);
          continue;
        }
        if (periodic && !busy) {
          // Pending and idle: new, and the queue was full when it came. Otherwise: still in
          // use (since the last check) and the last check is `interval` old; after a failed
          // check, try again soon rather than a whole interval later.
          const bool failed = verdict == Verdict::Failed;
          const int64_t due = e.checked_at + (failed ? std::min(interval, kPeriodicRetrySeconds) : interval);
          if (verdict == Verdict::Pending || (used >= e.checked_at && now >= due)) enqueue_locked(it->second);
        }
        ++it;
      }
      if (is.entries.size() > is.max_entries) {
        // Over the bound: retire the least recently used idle entries.
        std::vector<std::pair<int64_t, std::string_view>> idle;
        for (const auto& [key, e] : is.entries) {
          if (!e->in_flight && !e->queued && e->waiters.empty()) idle.emplace_back(e->last_used.load(), key);
        }
        size_t excess = std::min(idle.size(), is.entries.size() - is.max_entries);
        std::nth_element(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(excess), idle.end());
        for (size_t k = 0; k < excess; ++k) {
          auto it = is.entries.find(idle[k].second);
          it->second->retired.store(true, std::memory_order_release);
          retired.push_back(std::move(it->second));
          is.entries.erase(it);
        }
      }
    }
  }
  // `retired` is freed here, outside the lock; workers still holding an entry see `retired`.
}

}  // namespace portcullis::proxy
