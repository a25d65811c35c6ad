#include "proxy/proxy_handler.h"

#include "auth/extractor.h"
#include "http/headers.h"
#include "policy/evaluate.h"
#include "policy/matcher.h"
#include "proxy/identity_headers.h"

namespace portcullis::proxy {
namespace {

constexpr std::string_view kRealm = "Bearer realm=\"portcullis\"";

std::string challenge(std::string_view description) {
  std::string v(kRealm);
  v.append(", error=\"invalid_token\", error_description=\"");
  v.append(description);
  v.append("\"");
  return v;
}

}  // namespace

ProxyHandler::ProxyHandler(const config::GatewayConfig& config, KeyManager* keys, PolicyStore* policies,
                           metrics::WorkerStats& stats, Introspector* introspector, std::function<void()> notify)
    : config_(config),
      policies_(policies != nullptr && policies->enabled() ? policies : nullptr),
      stats_(stats),
      identity_names_(identity_header_names(config.identity_headers)) {
  for (size_t i = 0; i < config.upstreams.size(); ++i) {
    if (config.upstreams[i].name == "default") default_upstream_ = i;
  }
  if (keys != nullptr && !config.issuers.empty()) {
    auth_ = std::make_unique<Authenticator>(config, *keys, introspector, std::move(notify), stats);
  }
}

auth::AuthStatus ProxyHandler::extract(const net::RequestView& request, std::string_view& token) const {
  if (request.info.authorization != nullptr) {
    return auth::extract_bearer(request.info.authorization->value, config_.limits.max_token_bytes, token);
  }
  // A cookie named by an issuer's config, when there is no Authorization header.
  for (size_t i = 0; i < request.head.header_count; ++i) {
    if (!http::iequals(request.head.headers[i].name, "cookie")) continue;
    for (const config::IssuerConfig& c : config_.issuers) {
      if (c.cookie.empty()) continue;
      if (auto v = auth::find_cookie(request.head.headers[i].value, c.cookie)) {
        token = *v;
        return token.size() > config_.limits.max_token_bytes ? auth::AuthStatus::TokenTooLarge : auth::AuthStatus::Ok;
      }
    }
  }
  return auth::AuthStatus::TokenMissing;
}

net::Cancelable* ProxyHandler::decide(const net::RequestView& request, net::Decision& d,
                                      net::DecisionReceiver& receiver) {
  d.route = "default";
  d.upstream = default_upstream_;
  d.strip_loose = &identity_names_;  // spoofed identity headers go on every route
  d.strip_authorization = !config_.identity_headers.forward_token;

  const policy::Route* route = nullptr;
  if (policies_ != nullptr) {
    // A reload takes effect for the next request; this one keeps the set it started with.
    if (uint64_t v = policies_->version(); v != policy_version_) {
      policy_version_ = v;
      policy_set_ = policies_->current();
    }
    d.snapshot = policy_set_;  // the route name in d.route must outlive a reload
    policy::MatchResult m = policy::match(*policy_set_, policy::request_host(request.info.host),
                                          request.head.method, request.path);
    if (m.status == policy::MatchResult::Status::NoRoute) {
      d.route = {};
      respond(d, 404, "no_route");
      return nullptr;
    }
    if (m.status == policy::MatchResult::Status::MethodNotAllowed) {
      d.route = {};
      d.headers.push_back({"Allow", m.allow});
      respond(d, 405, "method_not_allowed");
      return nullptr;
    }
    route = m.route;
    d.route = route->name;
    d.upstream = route->upstream;
    if (route->auth == policy::AuthMode::None) {
      allow(nullptr, d);
      return nullptr;
    }
  } else if (!auth_) {
    allow(nullptr, d);  // no issuer and no policy: a plain (hardened) proxy
    return nullptr;
  }

  std::string_view token;
  AuthResult result;
  result.status = extract(request, token);
  if (result.status == auth::AuthStatus::TokenMissing && route != nullptr &&
      route->auth == policy::AuthMode::Optional) {
    allow(nullptr, d);  // anonymous: forwarded without identity headers
    return nullptr;
  }
  if (result.status != auth::AuthStatus::Ok || !auth_) {
    if (result.status == auth::AuthStatus::Ok) result.status = auth::AuthStatus::JwtIssUnknown;  // no issuers
    finish(result, route, d);
    return nullptr;
  }
  net::Cancelable* pending =
      auth_->authenticate(token, route, result, *this, PendingContext{&d, &receiver, route, policy_set_});
  if (pending != nullptr) return pending;
  finish(result, route, d);
  return nullptr;
}

void ProxyHandler::onAuthenticated(const AuthResult& result, const PendingContext& context) {
  finish(result, static_cast<const policy::Route*>(context.route), *context.decision);
  context.receiver->onDecision();
}

void ProxyHandler::finish(const AuthResult& result, const policy::Route* route, net::Decision& d) {
  if (result.status != auth::AuthStatus::Ok) {
    refuse(result, d);  // present but invalid is a 401 even on auth: optional
    return;
  }
  if (route != nullptr) {
    if (!policy::issuer_allowed(*route, static_cast<size_t>(result.issuer))) {
      stats_.auth_failure(auth_->issuer_name(result.issuer), "issuer_not_allowed");
      d.headers.push_back({"WWW-Authenticate", challenge("issuer not accepted for this route")});
      respond(d, 401, "invalid_token");
      return;
    }
    policy::Evaluation ev = policy::evaluate(*route, result.identity.get(), false);
    if (!ev.allowed) {
      std::string v(kRealm);
      v.append(", error=\"insufficient_scope\"");
      if (!route->required_scopes.empty()) {  // a route that requires only claims names no scope
        v.append(", scope=\"");
        v.append(route->required_scopes);
        v.append("\"");
      }
      d.headers.push_back({"WWW-Authenticate", std::move(v)});
      d.subject = result.identity->subject;
      respond(d, 403, "insufficient_scope");
      return;
    }
  }
  allow(result.identity.get(), d);
}

void ProxyHandler::allow(const auth::Identity* identity, net::Decision& d) {
  d.kind = net::Decision::Kind::Forward;
  d.outcome = "allow";
  if (identity == nullptr) return;
  d.subject = identity->subject;
  dropped_claims_.clear();
  build_identity_headers(config_.identity_headers, *identity, d.inject, dropped_claims_);
  for (std::string_view claim : dropped_claims_) stats_.claim_dropped(claim);
}

void ProxyHandler::refuse(const AuthResult& result, net::Decision& d) {
  stats_.auth_failure(auth_ ? auth_->issuer_name(result.issuer) : std::string(), auth::to_string(result.status));
  switch (result.status) {
    case auth::AuthStatus::TokenMissing:
      d.headers.push_back({"WWW-Authenticate", std::string(kRealm)});
      respond(d, 401, "missing_token");
      break;
    case auth::AuthStatus::KeysNotLoaded:
    case auth::AuthStatus::IntrospectionFailed:
      d.headers.push_back({"Retry-After", "5"});
      respond(d, 503, result.status == auth::AuthStatus::KeysNotLoaded ? "keys_not_loaded" : "introspection_failed");
      break;
    default:
      d.headers.push_back({"WWW-Authenticate", challenge(auth::describe(result.status))});
      respond(d, 401, "invalid_token");
      break;
  }
}

void ProxyHandler::respond(net::Decision& d, int status, std::string_view code) {
  d.kind = net::Decision::Kind::Respond;
  d.outcome = "deny";
  d.status = status;
  d.error_code = code;
}

}  // namespace portcullis::proxy
