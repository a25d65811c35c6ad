#include "proxy/refresh_schedule.h"

#include <doctest/doctest.h>

#include <chrono>

namespace portcullis::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("retry_delay doubles from 1 s, capped at 60 s and at the refresh interval") {
  const RefreshDuration hour = std::chrono::hours(1);
  CHECK(retry_delay(1, hour) == seconds(1));
  CHECK(retry_delay(2, hour) == seconds(2));
  CHECK(retry_delay(3, hour) == seconds(4));
  CHECK(retry_delay(6, hour) == seconds(32));
  CHECK(retry_delay(7, hour) == seconds(60));  // 64 s, capped
  CHECK(retry_delay(40, hour) == seconds(60));  // no overflow however long it fails
  CHECK(retry_delay(0, hour) == seconds(1));   // read as the first failure
  CHECK(retry_delay(5, seconds(10)) == seconds(10));
  CHECK(retry_delay(1, milliseconds(500)) == milliseconds(500));
}

TEST_CASE("jittered stays within ±10 % and moves with its random input") {
  const RefreshDuration d = std::chrono::minutes(10);
  CHECK(jittered(d, 0.0) == seconds(540));
  CHECK(jittered(d, 0.5) == seconds(600));
  CHECK(jittered(d, 1.0) == seconds(660));
  CHECK(jittered(d, -3.0) == seconds(540));  // out-of-range input is clamped
  CHECK(jittered(d, 7.0) == seconds(660));
  RefreshDuration last{};
  for (int i = 0; i <= 100; ++i) {
    const RefreshDuration j = jittered(d, i / 100.0);
    CHECK(j >= seconds(540));
    CHECK(j <= seconds(660));
    CHECK(j >= last);
    last = j;
  }
}

}  // namespace
}  // namespace portcullis::proxy
