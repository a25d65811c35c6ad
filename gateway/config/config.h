// Convenience include: the gateway.yaml loader and its value grammars.
#pragma once

#include "config/gateway_config.h"  // IWYU pragma: export
#include "config/values.h"          // IWYU pragma: export
