// Time is injected: production code reads a Clock, tests freeze it with ManualClock.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace portcullis {

// Wall-clock seconds for the request path, where no Clock is threaded through.
inline int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch (for JWT NumericDate checks).
  virtual int64_t unix_seconds() const = 0;
  // Monotonic time for timeouts and cache ages.
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t unix_seconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::now();
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_seconds = 1'700'000'000) : unix_(unix_seconds) {}
  int64_t unix_seconds() const override { return unix_; }
  std::chrono::steady_clock::time_point monotonic() const override { return mono_; }
  void advance(std::chrono::seconds by) {
    unix_ += by.count();
    mono_ += by;
  }

 private:
  int64_t unix_;
  std::chrono::steady_clock::time_point mono_{};
};

}  // namespace portcullis
