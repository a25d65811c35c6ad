#include "proxy/authenticator.h"

#include <ctime>
#include <random>

#include "auth/introspection.h"
#include "core/clock.h"
#include "policy/evaluate.h"

namespace portcullis::proxy {
namespace {

constexpr int64_t kTokenCacheMaxTtl = 3600;  // even a token without exp is re-verified hourly

// How long an introspection refusal of this JWT is remembered: until its exp, or for as long
// as the token cache would keep a token without one.
int64_t refusal_horizon(const auth::Identity& identity, int64_t now) {
  return identity.expires_at != 0 ? identity.expires_at : now + kTokenCacheMaxTtl;
}

}  // namespace

using Verdict = auth::IntrospectionEntry::Verdict;
using Mode = config::IntrospectionConfig::Mode;

struct Authenticator::Parked final : net::Cancelable {
  AuthWaiter* waiter = nullptr;
  PendingContext context;
  std::string token;  // waiting for keys: verified again once they are refreshed
  size_t issuer = 0;
  // Waiting for introspection instead: the shared entry, and the offline identity of a JWT
  // that already passed its offline checks (null for an opaque token).
  std::shared_ptr<auth::IntrospectionEntry> entry;
  std::shared_ptr<const auth::Identity> offline;
  std::chrono::steady_clock::time_point deadline;
  bool cancelled = false;
  void cancel() override { cancelled = true; }
};

Authenticator::Authenticator(const config::GatewayConfig& config, KeyManager& keys, Introspector* introspector,
                             std::function<void()> notify, metrics::WorkerStats& stats)
    : config_(config),
      keys_(keys),
      introspector_(introspector),
      notify_(std::move(notify)),
      stats_(stats),
      cache_(config.token_cache_size, kTokenCacheMaxTtl, std::random_device{}()) {
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

// Offline verification; a token that passes is cached, with its introspection entry when
// its issuer introspects (returned, else null).
std::shared_ptr<auth::IntrospectionEntry> Authenticator::verify(std::string_view token, AuthResult& out) {
  const int64_t now = unix_now();
  auth::verify_token(token, views_, now, scratch_, outcome_);
  out.status = outcome_.status;
  out.issuer = outcome_.issuer;
  out.identity = outcome_.identity;
  if (out.status != auth::AuthStatus::Ok) return nullptr;
  auth::CachedAuth value{outcome_.identity, static_cast<uint32_t>(outcome_.issuer), outcome_.key_id, nullptr};
  const auto issuer = static_cast<size_t>(out.issuer);
  // `opaque` mode introspects only what cannot be verified offline.
  if (introspector_ != nullptr && introspector_->enabled(issuer) && introspector_->mode(issuer) != Mode::Opaque) {
    value.introspection = introspector_->attach(issuer, token, now, refusal_horizon(*outcome_.identity, now));
  }
  std::shared_ptr<auth::IntrospectionEntry> entry = value.introspection;
  cache_.insert(token, std::move(value), now);
  return entry;
}

int Authenticator::opaque_issuer(const policy::Route* route) const {
  for (size_t i = 0; i < config_.issuers.size(); ++i) {
    if (introspector_->enabled(i) && (route == nullptr || policy::issuer_allowed(*route, i))) return static_cast<int>(i);
  }
  return -1;
}

// What the introspection verdict says about a token whose offline part (if any) passed.
Authenticator::Judgement Authenticator::judge(const std::shared_ptr<auth::IntrospectionEntry>& entry,
                                              const std::shared_ptr<const auth::Identity>& offline, int64_t now,
                                              AuthResult& out) {
  out.issuer = static_cast<int>(entry->issuer);
  if (entry->last_used.load(std::memory_order_relaxed) != now) entry->last_used.store(now, std::memory_order_relaxed);
  if (offline && introspector_->mode(entry->issuer) == Mode::Periodic) {
    // The JWT is valid offline; the background re-check only ever takes that away.
    switch (entry->verdict.load(std::memory_order_acquire)) {
      case Verdict::Pending:
      case Verdict::Active:
        out.status = auth::AuthStatus::Ok;
        out.identity = offline;
        return Judgement::Done;
      default:
        break;
    }
  }
  IntrospectionView view = introspector_->view(*entry, now);
  if (!view.fresh) return Judgement::Wait;
  resolve(*entry, offline, view, out);
  return Judgement::Done;
}

// Arranges to be told when the entry's call ends (true: park the request). When the issuer's
// call queue is full, the entry was settled as a failed call instead: `out` says what that
// means now (503, or a previous active answer under on_error: use_cached).
bool Authenticator::await_or_settle(const std::shared_ptr<auth::IntrospectionEntry>& entry,
                                    const std::shared_ptr<const auth::Identity>& offline, int64_t now, AuthResult& out) {
  if (introspector_->await(entry, &notify_)) return true;
  resolve(*entry, offline, introspector_->view(*entry, now), out);
  return false;
}

void Authenticator::resolve(const auth::IntrospectionEntry& entry, const std::shared_ptr<const auth::Identity>& offline,
                            const IntrospectionView& view, AuthResult& out) {
  out.issuer = static_cast<int>(entry.issuer);
  out.identity.reset();
  switch (view.verdict) {
    case Verdict::Active:
      out.status = auth::AuthStatus::Ok;
      out.identity = offline ? offline : view.identity;  // a JWT's identity is its own claims
      break;
    case Verdict::Refused: out.status = view.refused_status; break;
    case Verdict::Pending:
    case Verdict::Failed: out.status = auth::AuthStatus::IntrospectionFailed; break;
  }
}

net::Cancelable* Authenticator::park(std::unique_ptr<Parked> parked) {
  const config::IssuerConfig& c = config_.issuers[parked->issuer];
  parked->deadline = std::chrono::steady_clock::now() + 2 * c.fetch_timeout + std::chrono::seconds(2);
  // An introspection wait was arranged by the caller (await); a key wait asks for a refresh.
  if (!parked->entry) keys_.request_refresh(parked->issuer);
  parked_.push_back(std::move(parked));
  return parked_.back().get();
}

net::Cancelable* Authenticator::authenticate(std::string_view token, const policy::Route* route, AuthResult& out,
                                             AuthWaiter& waiter, const PendingContext& context) {
  sync_keys();
  const int64_t now = unix_now();
  std::shared_ptr<auth::IntrospectionEntry> entry;
  std::shared_ptr<const auth::Identity> offline;
  if (const auth::CachedAuth* hit = cache_.lookup(token, now)) {
    stats_.token_cache_hit();
    out.status = auth::AuthStatus::Ok;
    out.issuer = static_cast<int>(hit->issuer_index);
    out.identity = hit->identity;
    if (!hit->introspection) return nullptr;  // offline only: done
    entry = hit->introspection;
    offline = auth::looks_like_jwt(token) ? hit->identity : nullptr;
    if (entry->retired.load(std::memory_order_acquire)) {
      // Left the shared registry while idle: take the current entry, cache it instead.
      entry = introspector_->attach(entry->issuer, token, now, refusal_horizon(*hit->identity, now));
      cache_.insert(token, auth::CachedAuth{hit->identity, hit->issuer_index, hit->key_id, entry}, now);
    }
  } else {
    stats_.token_cache_miss();
    // Opaque only where the route admits an introspecting issuer and the token is no JWT.
    int issuer = introspector_ != nullptr ? opaque_issuer(route) : -1;
    if (issuer >= 0 && auth::looks_like_jwt(token)) issuer = -1;
    if (issuer >= 0) {
      // Opaque: only the issuer can say what it means. Cached once it has answered.
      entry = introspector_->attach(static_cast<size_t>(issuer), token, now);
    } else {
      entry = verify(token, out);
      if (out.status == auth::AuthStatus::JwksKidNotFound && out.issuer >= 0) {
        // An unknown kid may be a key the issuer just rotated in: ask for one (rate-limited)
        // refresh and park the request on the loop until it is done.
        auto parked = std::make_unique<Parked>();
        parked->waiter = &waiter;
        parked->context = context;
        parked->token.assign(token);
        parked->issuer = static_cast<size_t>(out.issuer);
        return park(std::move(parked));
      }
      if (!entry) return nullptr;  // refused, or an issuer without introspection
      offline = out.identity;
    }
  }
  if (judge(entry, offline, now, out) == Judgement::Done || !await_or_settle(entry, offline, now, out)) {
    if (!offline && out.status == auth::AuthStatus::Ok) remember_opaque(token, entry, out, now);
    return nullptr;
  }
  auto parked = std::make_unique<Parked>();
  parked->waiter = &waiter;
  parked->context = context;
  parked->token.assign(token);
  parked->issuer = entry->issuer;
  parked->entry = std::move(entry);
  parked->offline = std::move(offline);
  return park(std::move(parked));
}

// An opaque token the issuer called active goes into the verified-token cache like a JWT,
// with its answer's identity, so the next request finds its entry without the registry.
void Authenticator::remember_opaque(std::string_view token, const std::shared_ptr<auth::IntrospectionEntry>& entry,
                                    const AuthResult& result, int64_t now) {
  const auth::CachedAuth* cached = cache_.lookup(token, now);
  if (cached != nullptr && cached->identity == result.identity) return;
  cache_.insert(token, auth::CachedAuth{result.identity, static_cast<uint32_t>(entry->issuer), 0, entry}, now);
}

void Authenticator::on_keys_refreshed(size_t issuer) {
  std::vector<std::unique_ptr<Parked>> ready;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if ((!(*it)->entry && (*it)->issuer == issuer) || (*it)->cancelled) {
      ready.push_back(std::move(*it));
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
  if (ready.empty()) return;
  sync_keys();
  const int64_t now = unix_now();
  for (auto& p : ready) {
    if (p->cancelled) continue;
    AuthResult result;
    // No second parking for keys: a kid still unknown is refused.
    if (std::shared_ptr<auth::IntrospectionEntry> entry = verify(p->token, result)) {
      if (judge(entry, result.identity, now, result) == Judgement::Wait &&
          await_or_settle(entry, result.identity, now, result)) {
        p->offline = result.identity;
        p->entry = std::move(entry);
        park(std::move(p));
        continue;
      }
    }
    p->waiter->onAuthenticated(result, p->context);
  }
}

void Authenticator::on_introspected() {
  const int64_t now = unix_now();
  std::vector<std::pair<std::unique_ptr<Parked>, IntrospectionView>> ready;
  for (auto it = parked_.begin(); it != parked_.end();) {
    Parked& p = **it;
    if (p.cancelled) {
      it = parked_.erase(it);
      continue;
    }
    if (p.entry) {
      // The call ended: its answer decides, fresh or not (a cache_ttl of 0 is never fresh).
      IntrospectionView view = introspector_->view(*p.entry, now);
      if (view.verdict != Verdict::Pending) {
        ready.emplace_back(std::move(*it), std::move(view));
        it = parked_.erase(it);
        continue;
      }
    }
    ++it;
  }
  for (auto& [p, view] : ready) {
    AuthResult result;
    resolve(*p->entry, p->offline, view, result);
    if (!p->offline && result.status == auth::AuthStatus::Ok) remember_opaque(p->token, p->entry, result, now);
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
    result.status = p->entry ? auth::AuthStatus::IntrospectionFailed : auth::AuthStatus::JwksKidNotFound;
    result.issuer = static_cast<int>(p->issuer);
    p->waiter->onAuthenticated(result, p->context);
  }
}

}  // namespace portcullis::proxy
