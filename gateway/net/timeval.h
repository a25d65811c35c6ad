// Durations as libevent wants them (internal to net/).
#pragma once

#include <sys/time.h>

#include "net/settings.h"

namespace portcullis::net {

inline timeval to_timeval(Millis ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace portcullis::net
