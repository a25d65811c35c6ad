// bytes8: every mask bit must agree with the plain per-byte test, for every byte value in
// every position, whatever the neighbouring bytes are (no carry or borrow may leak across).
#include "core/bytes8.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace b8 = portcullis::bytes8;

namespace {

uint64_t word_with(uint8_t filler, int at, uint8_t value) {
  char bytes[8];
  std::memset(bytes, filler, sizeof bytes);
  bytes[at] = static_cast<char>(value);
  return b8::load(bytes);
}

// The mask bit of byte `at` in load() order (little- or big-endian alike).
bool bit_for(uint64_t mask, int at) {
  char bytes[8];
  std::memcpy(bytes, &mask, sizeof bytes);
  return (static_cast<uint8_t>(bytes[at]) & 0x80) != 0;
}

void check_everywhere(const std::function<uint64_t(uint64_t)>& mask, const std::function<bool(uint8_t)>& want) {
  static constexpr uint8_t kFillers[] = {0x00, 0x01, 0x1f, 0x20, 0x2d, 0x5f, 0x7e, 0x7f, 0x80, 0xfe, 0xff};
  for (uint8_t filler : kFillers) {
    for (int at = 0; at < 8; ++at) {
      for (int v = 0; v < 256; ++v) {
        const uint64_t m = mask(word_with(filler, at, static_cast<uint8_t>(v)));
        for (int i = 0; i < 8; ++i) {
          const uint8_t b = i == at ? static_cast<uint8_t>(v) : filler;
          if (bit_for(m, i) != want(b)) {
            FAIL("byte " << v << " at " << at << ", filler " << int(filler) << ": mask disagrees at " << i);
          }
        }
        // Only bit 7 of each byte may be set.
        CHECK((m & ~b8::kHigh) == 0);
      }
    }
  }
}

}  // namespace

TEST_CASE("bytes8::zero and equal are exact per byte") {
  check_everywhere([](uint64_t x) { return b8::zero(x); }, [](uint8_t b) { return b == 0; });
  for (uint8_t c : {uint8_t{'\r'}, uint8_t{'\n'}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xff}}) {
    check_everywhere([c](uint64_t x) { return b8::equal(x, c); }, [c](uint8_t b) { return b == c; });
  }
}

TEST_CASE("equal_constant_time finds a difference in any byte, at any length") {
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'q');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('A' + (i * 7) % 50);
    CHECK(b8::equal_constant_time(a, a));
    CHECK(b8::equal_constant_time(a, std::string(a)));
    for (size_t at = 0; at < n; ++at) {
      for (int flip : {1, 0x80, 0xff}) {
        std::string b = a;
        b[at] = static_cast<char>(b[at] ^ flip);
        CHECK_FALSE(b8::equal_constant_time(a, b));
      }
    }
    CHECK_FALSE(b8::equal_constant_time(a, a + "x"));
    if (n > 0) CHECK_FALSE(b8::equal_constant_time(a, a.substr(0, n - 1)));
  }
}

TEST_CASE("first_marked names the first matching byte in memory order") {
  for (int at = 0; at < 8; ++at) {
    for (int later = at; later < 8; ++later) {
      char bytes[8] = {'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'};
      bytes[at] = '\n';
      bytes[later] = '\r';
      const uint64_t x = b8::load(bytes);
      CHECK(b8::first_marked(b8::equal(x, '\r') | b8::equal(x, '\n')) == at);
    }
  }
}

TEST_CASE("all_ascii agrees with a per-byte check, for every byte at every position and length") {
  for (size_t len = 0; len <= 19; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (int v = 0; v < 256; ++v) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(v);
        CHECK(b8::all_ascii(s) == (v < 0x80));
      }
    }
    CHECK(b8::all_ascii(std::string(len, '\x7f')));
  }
}
