// When an issuer's keys are fetched next: plain arithmetic on durations, kept apart from the
// KeyManager's loop and clock so that the schedule is testable by itself.
#pragma once

#include <algorithm>
#include <chrono>

namespace portcullis::proxy {

using RefreshDuration = std::chrono::steady_clock::duration;

// The longest wait between retries while an issuer's fetches keep failing.
inline constexpr RefreshDuration kMaxRetryDelay = std::chrono::seconds(60);

// d within ±10 %, placed by u in [0, 1): gateways started together (a rollout) neither
// refresh nor retry a recovering issuer in lockstep.
inline RefreshDuration jittered(RefreshDuration d, double u) {
  return std::chrono::duration_cast<RefreshDuration>(d * (0.9 + 0.2 * std::clamp(u, 0.0, 1.0)));
}

// The wait after the n-th failure in a row (n >= 1): 1 s, 2 s, 4 s ... doubling (keys are
// needed to serve, so retry soon at first), never longer than 60 s nor the refresh interval.
inline RefreshDuration retry_delay(unsigned failures, RefreshDuration refresh) {
  const RefreshDuration backoff = std::chrono::seconds(1) * (1u << std::min(std::max(failures, 1u) - 1, 6u));
  return std::min({backoff, refresh, kMaxRetryDelay});
}

}  // namespace portcullis::proxy
