// Turns a validated gateway config into what the connection machinery needs, resolving
// upstream addresses once at start-up.
#pragma once

#include "config/gateway_config.h"
#include "core/result.h"
#include "net/settings.h"

namespace portcullis::proxy {

Result<net::NetSettings> make_net_settings(const config::GatewayConfig& config);

}  // namespace portcullis::proxy
