#include "proxy/key_manager.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <rapidjson/document.h>

#include "auth/json.h"
#include "config/gateway_config.h"
#include "config/values.h"
#include "fetch/fetcher.h"
#include "log/log.h"
#include "net/worker.h"
#include "proxy/issuer_fetch.h"
#include "proxy/refresh_schedule.h"

namespace portcullis::proxy {
namespace {

constexpr auto kFileCheckInterval = std::chrono::seconds(1);
constexpr size_t kMaxDiscoveryBytes = 256 * 1024;

bool url_allowed(std::string_view url) {
  // The rule the config applies to configured URLs, with the same parser: https, or http on
  // a loopback host; no userinfo ("http://127.0.0.1:1@remote.example/" is remote.example).
  std::string why;
  const std::optional<config::Url> u = config::parse_url(url, why);
  return u && (u->scheme == "https" || config::is_loopback_host(u->host));
}

}  // namespace

KeyManager::KeyManager(std::shared_ptr<const config::GatewayConfig> config, metrics::Metrics& metrics)
    : config_(std::move(config)), metrics_(metrics) {
  for (const config::IssuerConfig& c : config_->issuers) {
    Issuer is;
    is.cfg = &c;
    if (!c.secret_file.empty()) {
      is.source = Source::Secret;
    } else if (!c.jwks_file.empty()) {
      is.source = Source::File;
    } else if (c.discovery) {
      is.source = Source::Discovery;
    } else {
      is.source = Source::Uri;
      is.jwks_uri = c.jwks_uri;
    }
    issuers_.push_back(std::move(is));
  }
  published_.resize(issuers_.size());
  wanted_.resize(issuers_.size());
  introspection_endpoints_.resize(issuers_.size());
}

KeyManager::~KeyManager() { stop(); }

void KeyManager::stop() {
  for (Issuer& is : issuers_) {
    if (is.in_flight) is.in_flight->cancel();
    is.in_flight.reset();
  }
  fetcher_.reset();
}

void KeyManager::start(net::Worker& control) {
  for (size_t i = 0; i < issuers_.size(); ++i) {
    if (issuers_[i].source == Source::File || issuers_[i].source == Source::Secret) load_file(i, true);
  }
  fetcher_ = fetch::Fetcher::create(control.base());
  control.add_tick([this] { tick(); });
  control.add_on_stop([this] { stop(); });
}

std::shared_ptr<const auth::KeySet> KeyManager::keys(size_t issuer) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return published_[issuer];
}

std::string KeyManager::introspection_endpoint(size_t issuer) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return introspection_endpoints_[issuer];
}

bool KeyManager::ready() const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& set : published_) {
    if (!set) return false;
  }
  return true;
}

void KeyManager::request_refresh(size_t issuer) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wanted_[issuer] = true;
  }
  refresh_requested_.store(true, std::memory_order_release);
}

KeyManager::Clock::duration KeyManager::with_jitter(Clock::duration d) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return jittered(d, unit(rng_));
}

void KeyManager::tick() {
  const Clock::time_point now = Clock::now();
  if (refresh_requested_.exchange(false, std::memory_order_acq_rel)) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < issuers_.size(); ++i) {
      if (wanted_[i]) issuers_[i].refresh_wanted = true;
      wanted_[i] = false;
    }
  }
  for (size_t i = 0; i < issuers_.size(); ++i) {
    Issuer& is = issuers_[i];
    if (is.source == Source::File || is.source == Source::Secret) {
      if (now >= is.next_stat) {
        is.next_stat = now + kFileCheckInterval;
        load_file(i, false);
      }
      if (is.refresh_wanted) {
        is.refresh_wanted = false;
        finish_attempt(i);  // a file has no "refetch": answer the waiting requests now
      }
      continue;
    }
    if (is.in_flight) continue;
    if (is.refresh_wanted) {
      const auto min_gap = is.cfg->jwks_min_refetch;
      if (!is.attempted || now - is.last_attempt >= min_gap) {
        begin_fetch(i);
      } else {
        // Rate-limited: no fetch storm from unknown kids. Waiting requests fail as unknown.
        is.refresh_wanted = false;
        metrics_.jwks_refresh.Add({{"issuer", is.cfg->name}, {"result", "rate_limited"}}).Increment();
        finish_attempt(i);
      }
      continue;
    }
    if (!is.attempted || now >= is.next_refresh) begin_fetch(i);
  }
}

void KeyManager::begin_fetch(size_t i) {
  Issuer& is = issuers_[i];
  is.attempted = true;
  is.last_attempt = Clock::now();
  is.refresh_wanted = false;
  if (is.source == Source::Discovery && is.jwks_uri.empty()) {
    std::string base = is.cfg->issuer;
    while (!base.empty() && base.back() == '/') base.pop_back();
    fetch::FetchRequest req = issuer_request(*is.cfg, base + "/.well-known/openid-configuration", kMaxDiscoveryBytes);
    req.headers.push_back({"Accept", "application/json"});
    is.in_flight = fetcher_->fetch(std::move(req), [this, i](fetch::FetchResult&& r) { on_discovery(i, std::move(r)); });
    return;
  }
  fetch_jwks(i);
}

void KeyManager::on_discovery(size_t i, fetch::FetchResult&& r) {
  Issuer& is = issuers_[i];
  is.in_flight.reset();
  if (r.error != fetch::FetchError::None) {
    fetch_failed(i, "discovery_error", std::string(fetch::to_string(r.error)) + ": " + r.detail);
    return;
  }
  if (r.status != 200) {
    fetch_failed(i, "discovery_error", "discovery answered HTTP " + std::to_string(r.status));
    return;
  }
  rapidjson::Document doc;
  if (auth::parse_json_object(r.body, doc, {kMaxDiscoveryBytes, 16}) != auth::AuthStatus::Ok) {
    fetch_failed(i, "discovery_error", "discovery document is not a JSON object");
    return;
  }
  auto str = [&](const char* key) -> std::string {
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                         : std::string();
  };
  // OpenID Connect Discovery §4.3: the document's issuer must be exactly the configured one.
  if (str("issuer") != is.cfg->issuer) {
    fetch_failed(i, "discovery_error", "discovery document names another issuer");
    return;
  }
  std::string jwks_uri = str("jwks_uri");
  if (jwks_uri.empty() || !url_allowed(jwks_uri)) {
    fetch_failed(i, "discovery_error", "discovery document has no usable jwks_uri (https, or http on loopback)");
    return;
  }
  is.jwks_uri = std::move(jwks_uri);
  if (std::string endpoint = str("introspection_endpoint"); !endpoint.empty() && url_allowed(endpoint)) {
    std::lock_guard<std::mutex> lock(mutex_);
    introspection_endpoints_[i] = std::move(endpoint);
  }
  fetch_jwks(i);
}

void KeyManager::fetch_jwks(size_t i) {
  Issuer& is = issuers_[i];
  fetch::FetchRequest req = issuer_request(*is.cfg, is.jwks_uri, is.cfg->jwks_max_bytes);
  req.headers.push_back({"Accept", "application/jwk-set+json, application/json"});
  is.in_flight = fetcher_->fetch(std::move(req), [this, i](fetch::FetchResult&& r) { on_jwks(i, std::move(r)); });
}

void KeyManager::on_jwks(size_t i, fetch::FetchResult&& r) {
  Issuer& is = issuers_[i];
  is.in_flight.reset();
  if (r.error != fetch::FetchError::None) {
    fetch_failed(i, r.error == fetch::FetchError::TooLarge ? "too_large" : r.error == fetch::FetchError::Timeout ? "timeout" : "error",
                 std::string(fetch::to_string(r.error)) + ": " + r.detail);
    return;
  }
  if (r.status != 200) {
    fetch_failed(i, "error", "JWKS answered HTTP " + std::to_string(r.status));
    return;
  }
  if (is.current && is.current->source() == r.body) {
    publish(i, is.current, "unchanged");
    return;
  }
  auth::KeySet::Report report;
  std::shared_ptr<const auth::KeySet> set = auth::KeySet::from_jwks(r.body, is.cfg->jwks_max_bytes, report);
  for (const std::string& s : report.skipped) {
    log::warn("JWKS key skipped", {log::str("issuer", is.cfg->name), log::str("key", s)});
  }
  if (!set) {
    fetch_failed(i, "invalid", "JWKS refused: " + report.error);
    return;
  }
  if (set->size() == 0) {
    fetch_failed(i, "invalid", "JWKS holds no usable key");
    return;
  }
  publish(i, std::move(set), "success");
}

void KeyManager::load_file(size_t i, bool initial) {
  Issuer& is = issuers_[i];
  const std::string& path = is.source == Source::Secret ? is.cfg->secret_file : is.cfg->jwks_file;
  std::optional<FileStamp> stamp = stamp_of(path);
  if (!stamp) {
    if (initial || is.current) fetch_failed(i, "error", "cannot read " + path);
    return;
  }
  if (!initial && *stamp == is.stamp) return;
  is.stamp = *stamp;
  std::string error;
  std::string text = config::read_file(path, error, is.source == Source::Secret ? 64 * 1024 : is.cfg->jwks_max_bytes);
  if (!error.empty()) {
    fetch_failed(i, "error", error);
    return;
  }
  auth::KeySet::Report report;
  std::shared_ptr<const auth::KeySet> set;
  if (is.source == Source::Secret) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();  // editors add one
    set = auth::KeySet::from_secret(std::move(text), report);
  } else {
    if (is.current && is.current->source() == text) return;
    set = auth::KeySet::from_jwks(text, is.cfg->jwks_max_bytes, report);
  }
  for (const std::string& s : report.skipped) {
    log::warn("JWKS key skipped", {log::str("issuer", is.cfg->name), log::str("key", s)});
  }
  if (!set || set->size() == 0) {
    fetch_failed(i, "invalid", set ? "no usable key in " + path : report.error + " (" + path + ")");
    return;
  }
  publish(i, std::move(set), "success");
}

void KeyManager::fetch_failed(size_t i, std::string_view result, std::string_view detail) {
  Issuer& is = issuers_[i];
  ++is.failures;
  is.next_refresh = Clock::now() + with_jitter(retry_delay(is.failures, is.cfg->jwks_refresh));
  if (is.source == Source::Discovery) is.jwks_uri.clear();  // rediscover next time
  metrics_.jwks_refresh.Add({{"issuer", is.cfg->name}, {"result", std::string(result)}}).Increment();
  log::warn("key refresh failed", {log::str("issuer", is.cfg->name), log::str("result", result),
                                   log::str("detail", detail), log::str("keeping", is.current ? "last good keys" : "no keys")});
  finish_attempt(i);
}

void KeyManager::publish(size_t i, std::shared_ptr<const auth::KeySet> set, std::string_view result) {
  Issuer& is = issuers_[i];
  is.failures = 0;
  is.next_refresh = Clock::now() + with_jitter(is.cfg->jwks_refresh);
  metrics_.jwks_refresh.Add({{"issuer", is.cfg->name}, {"result", std::string(result)}}).Increment();
  metrics_.jwks_keys.Add({{"issuer", is.cfg->name}}).Set(static_cast<double>(set->size()));
  if (set != is.current) {
    is.current = set;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      published_[i] = std::move(set);
    }
    version_.fetch_add(1, std::memory_order_acq_rel);
    log::info("keys loaded", {log::str("issuer", is.cfg->name), log::num("keys", static_cast<int64_t>(is.current->size()))});
  }
  finish_attempt(i);
}

void KeyManager::finish_attempt(size_t i) {
  for (auto& f : subscribers_) f(i);
}

}  // namespace portcullis::proxy
