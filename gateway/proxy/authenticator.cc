#include "proxy/authenticator.h"

#include <ctime>
#include <random>

namespace portcullis::proxy {
namespace {

constexpr int64_t kTokenCacheMaxTtl = 3600;  // even a token without exp is re-verified hourly

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

struct Authenticator::Parked final : net::Cancelable {
  AuthWaiter* waiter = nullptr;
  PendingContext context;
  std::string token;
  size_t issuer = 0;
  std::chrono::steady_clock::time_point deadline;
  bool cancelled = false;
  void cancel() override { cancelled = true; }
};

Authenticator::Authenticator(const config::GatewayConfig& config, KeyManager& keys, metrics::WorkerStats& stats)
    : config_(config), keys_(keys), stats_(stats), cache_(config.token_cache_size, kTokenCacheMaxTtl, std::random_device{}()) {
  for (const config::IssuerConfig& c : config.issuers) {
    auth::ClaimRules r;
    r.issuer = c.issuer;
    r.audiences = c.audiences;
    r.leeway_seconds = std::chrono::duration_cast<std::chrono::seconds>(c.leeway).count();
    r.require_exp = c.require_exp;
    r.require_typ = c.require_typ;
    r.scope_claim = c.scope_claim;
    rules_.push_back(std::move(r));
    std::vector<auth::Alg> algs;
    for (const std::string& a : c.algorithms) {
      if (auto alg = auth::alg_from_string(a)) algs.push_back(*alg);
    }
    algorithms_.push_back(std::move(algs));
  }
  sets_.resize(rules_.size());
  for (size_t i = 0; i < rules_.size(); ++i) views_.push_back({&rules_[i], algorithms_[i], nullptr});
}

Authenticator::~Authenticator() = default;

const std::string& Authenticator::issuer_name(int issuer) const {
  static const std::string kNone;
  return issuer >= 0 && static_cast<size_t>(issuer) < config_.issuers.size() ? config_.issuers[issuer].name : kNone;
}

void Authenticator::sync_keys() {
  uint64_t v = keys_.version();
  if (v == seen_version_) return;
  seen_version_ = v;
  for (size_t i = 0; i < sets_.size(); ++i) {
    std::shared_ptr<const auth::KeySet> fresh = keys_.keys(i);
    if (fresh == sets_[i]) continue;
    // Cached tokens never outlive their key's presence in the key set.
    if (sets_[i]) {
      for (const auth::KeySet::Entry& old : sets_[i]->entries()) {
        bool kept = false;
        if (fresh) {
          for (const auth::KeySet::Entry& e : fresh->entries()) kept = kept || e.id == old.id;
        }
        if (!kept) cache_.erase_key(static_cast<uint32_t>(i), old.id);
      }
    }
    sets_[i] = std::move(fresh);
    views_[i].keys = sets_[i].get();
  }
}

void Authenticator::verify(std::string_view token, AuthResult& out) {
  auth::verify_token(token, views_, unix_now(), scratch_, outcome_);
  out.status = outcome_.status;
  out.issuer = outcome_.issuer;
  out.identity = outcome_.identity;
  if (out.status == auth::AuthStatus::Ok) {
    cache_.insert(token, auth::CachedAuth{outcome_.identity, static_cast<uint32_t>(outcome_.issuer), outcome_.key_id},
                  unix_now());
  }
}

net::Cancelable* Authenticator::authenticate(std::string_view token, AuthResult& out, AuthWaiter& waiter,
                                             const PendingContext& context) {
  sync_keys();
  if (const auth::CachedAuth* hit = cache_.lookup(token, unix_now())) {
    stats_.token_cache("hit");
    out.status = auth::AuthStatus::Ok;
    out.issuer = static_cast<int>(hit->issuer_index);
    out.identity = hit->identity;
    return nullptr;
  }
  stats_.token_cache("miss");
  verify(token, out);
  if (out.status != auth::AuthStatus::JwksKidNotFound || out.issuer < 0) return nullptr;
  // An unknown kid may be a key the issuer just rotated in: ask for one (rate-limited)
  // refresh and park the request on the loop until it is done.
  auto parked = std::make_unique<Parked>();
  parked->waiter = &waiter;
  parked->context = context;
  parked->token.assign(token);
  parked->issuer = static_cast<size_t>(out.issuer);
  const config::IssuerConfig& c = config_.issuers[parked->issuer];
  parked->deadline = std::chrono::steady_clock::now() + 2 * c.fetch_timeout + std::chrono::seconds(2);
  keys_.request_refresh(parked->issuer);
  parked_.push_back(std::move(parked));
  return parked_.back().get();
}

void Authenticator::on_keys_refreshed(size_t issuer) {
  std::vector<std::unique_ptr<Parked>> ready;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if ((*it)->issuer == issuer || (*it)->cancelled) {
      ready.push_back(std::move(*it));
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
  if (ready.empty()) return;
  sync_keys();
  for (auto& p : ready) {
    if (p->cancelled) continue;
    AuthResult result;
    verify(p->token, result);  // no second parking: a kid still unknown is refused
    p->waiter->onAuthenticated(result, p->context);
  }
}

void Authenticator::expire_parked() {
  if (parked_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Parked>> expired;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if ((*it)->cancelled || now >= (*it)->deadline) {
      expired.push_back(std::move(*it));
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& p : expired) {
    if (p->cancelled) continue;
    AuthResult result;
    result.status = auth::AuthStatus::JwksKidNotFound;
    result.issuer = static_cast<int>(p->issuer);
    p->waiter->onAuthenticated(result, p->context);
  }
}

}  // namespace portcullis::proxy
