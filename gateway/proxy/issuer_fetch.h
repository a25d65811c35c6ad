// The outbound request every call to an issuer starts from (discovery, JWKS, introspection):
// one place for the issuer's per-call settings, so a new one is not forgotten at one site.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "config/gateway_config.h"
#include "fetch/fetcher.h"

namespace portcullis::proxy {

inline fetch::FetchRequest issuer_request(const config::IssuerConfig& issuer, std::string url, size_t max_bytes) {
  fetch::FetchRequest req;
  req.url = std::move(url);
  req.timeout = issuer.fetch_timeout;
  req.ca_file = issuer.ca_file;
  req.max_bytes = max_bytes;
  return req;
}

}  // namespace portcullis::proxy
