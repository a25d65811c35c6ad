#include "proxy/proxy_handler.h"

#include "auth/extractor.h"
#include "http/headers.h"
#include "proxy/identity_headers.h"

namespace portcullis::proxy {
namespace {

constexpr std::string_view kRealm = "Bearer realm=\"portcullis\"";

std::string challenge(auth::AuthStatus status) {
  std::string v(kRealm);
  v.append(", error=\"invalid_token\", error_description=\"");
  v.append(auth::describe(status));
  v.append("\"");
  return v;
}

}  // namespace

ProxyHandler::ProxyHandler(const config::GatewayConfig& config, KeyManager* keys, metrics::WorkerStats& stats)
    : config_(config), stats_(stats), identity_names_(identity_header_names(config.identity_headers)) {
  for (size_t i = 0; i < config.upstreams.size(); ++i) {
    if (config.upstreams[i].name == "default") default_upstream_ = i;
  }
  if (keys != nullptr && !config.issuers.empty()) auth_ = std::make_unique<Authenticator>(config, *keys, stats);
}

net::Cancelable* ProxyHandler::decide(const net::RequestView& request, net::Decision& d,
                                      net::DecisionReceiver& receiver) {
  d.route = "default";
  d.upstream = default_upstream_;
  d.strip_loose = &identity_names_;  // spoofed identity headers go on every route
  d.strip_authorization = !config_.identity_headers.forward_token;
  if (!auth_) {
    d.kind = net::Decision::Kind::Forward;
    d.outcome = "allow";
    return nullptr;
  }

  std::string_view token;
  auth::AuthStatus extracted = auth::AuthStatus::TokenMissing;
  if (request.info.authorization != nullptr) {
    extracted = auth::extract_bearer(request.info.authorization->value, config_.limits.max_token_bytes, token);
  } else {
    // A cookie named by an issuer's config, when there is no Authorization header.
    for (size_t i = 0; i < request.head.header_count && extracted == auth::AuthStatus::TokenMissing; ++i) {
      if (!http::iequals(request.head.headers[i].name, "cookie")) continue;
      for (const config::IssuerConfig& c : config_.issuers) {
        if (c.cookie.empty()) continue;
        if (auto v = auth::find_cookie(request.head.headers[i].value, c.cookie)) {
          token = *v;
          extracted = token.size() > config_.limits.max_token_bytes ? auth::AuthStatus::TokenTooLarge
                                                                    : auth::AuthStatus::Ok;
          break;
        }
      }
    }
  }
  AuthResult result;
  if (extracted != auth::AuthStatus::Ok) {
    result.status = extracted;
    finish(result, d);
    return nullptr;
  }
  net::Cancelable* pending = auth_->authenticate(token, result, *this, PendingContext{&d, &receiver, nullptr});
  if (pending != nullptr) return pending;
  finish(result, d);
  return nullptr;
}

void ProxyHandler::onAuthenticated(const AuthResult& result, const PendingContext& context) {
  finish(result, *context.decision);
  context.receiver->onDecision();
}

void ProxyHandler::finish(const AuthResult& result, net::Decision& d) {
  if (result.status == auth::AuthStatus::Ok) {
    d.kind = net::Decision::Kind::Forward;
    d.outcome = "allow";
    d.subject = result.identity->subject;
    dropped_claims_.clear();
    build_identity_headers(config_.identity_headers, *result.identity, d.inject, dropped_claims_);
    for (std::string_view claim : dropped_claims_) stats_.claim_dropped(claim);
    return;
  }
  d.kind = net::Decision::Kind::Respond;
  d.outcome = "deny";
  stats_.auth_failure(auth_ ? auth_->issuer_name(result.issuer) : std::string(), auth::to_string(result.status));
  switch (result.status) {
    case auth::AuthStatus::TokenMissing:
      d.status = 401;
      d.error_code = "missing_token";
      d.headers.push_back({"WWW-Authenticate", std::string(kRealm)});
      break;
    case auth::AuthStatus::KeysNotLoaded:
    case auth::AuthStatus::IntrospectionFailed:
      d.status = 503;
      d.error_code = result.status == auth::AuthStatus::KeysNotLoaded ? "keys_not_loaded" : "introspection_failed";
      d.headers.push_back({"Retry-After", "5"});
      break;
    default:
      d.status = 401;
      d.error_code = "invalid_token";
      d.headers.push_back({"WWW-Authenticate", challenge(result.status)});
      break;
  }
}

}  // namespace portcullis::proxy
