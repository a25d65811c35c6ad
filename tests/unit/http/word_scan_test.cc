// The head scanner and the field-value check skip ordinary bytes eight at a time. They must
// decide exactly what a plain byte-by-byte scan decides, including where a line ending sits
// across a word boundary or at the end of a partial read.
#include <doctest/doctest.h>

#include <random>
#include <string_view>
#include <string>

#include "http/chars.h"
#include "http/head_internal.h"

namespace http = portcullis::http;
using namespace std::string_literals;
using http::detail::EndScan;

namespace {

// The byte-at-a-time reference: the semantics of find_head_end as documented.
EndScan reference_head_end(std::string_view buf, size_t start, size_t limit, size_t& scan_from, size_t& end) {
  if (limit > buf.size()) limit = buf.size();
  size_t pos = scan_from > start ? scan_from : start;
  if (pos > limit) pos = limit;
  for (; pos < limit; ++pos) {
    const char c = buf[pos];
    if (c == '\n') {
      if (pos == start || buf[pos - 1] != '\r') return EndScan::BadLineEnding;
      if ((pos >= start + 2 && buf[pos - 2] == '\n') || pos == start + 1) {
        end = pos + 1;
        return EndScan::Found;
      }
    } else if (c == '\r') {
      if (pos + 1 < buf.size() && buf[pos + 1] != '\n') return EndScan::BadLineEnding;
    }
  }
  scan_from = (pos > start && buf[pos - 1] == '\r') ? pos - 1 : pos;
  return EndScan::NotYet;
}

bool reference_field_value(std::string_view s) {
  for (char c : s) {
    if (!http::chars::is_field_value(c)) return false;
  }
  return true;
}

std::string random_bytes(std::mt19937& rng, std::string_view alphabet, size_t max_len) {
  std::string s(rng() % (max_len + 1), ' ');
  for (char& c : s) c = alphabet[rng() % alphabet.size()];
  return s;
}

}  // namespace

TEST_CASE("find_head_end agrees with a byte-by-byte scan, whole and in pieces") {
  std::mt19937 rng(20261122);
  // Mostly ordinary bytes, so that long runs are skipped and line endings land anywhere.
  const std::string alphabet = std::string(24, 'a') + "\r\n\r\n:\t\x7f\xff";
  for (int round = 0; round < 20000; ++round) {
    const std::string buf = random_bytes(rng, alphabet, 64);
    const size_t start = buf.empty() ? 0 : rng() % (buf.size() / 4 + 1);
    // Fed as it might arrive: growing limits, resuming from scan_from each time.
    size_t got_from = 0, want_from = 0, got_end = 0, want_end = 0;
    for (size_t limit = start; limit <= buf.size(); limit += 1 + rng() % 11) {
      const EndScan got = http::detail::find_head_end(buf, start, limit, got_from, got_end);
      const EndScan want = reference_head_end(buf, start, limit, want_from, want_end);
      REQUIRE(got == want);
      if (got == EndScan::Found) REQUIRE(got_end == want_end);
      if (got == EndScan::NotYet) REQUIRE(got_from == want_from);
      if (got != EndScan::NotYet) break;
    }
  }
}

TEST_CASE("all_field_value agrees with the per-byte table") {
  std::mt19937 rng(7);
  const std::string alphabet = std::string(40, 'x') + " \t\x7f\x01\x1f\x80\xff\x00\r\n~"s;
  for (int round = 0; round < 20000; ++round) {
    const std::string s = random_bytes(rng, alphabet, 40);
    REQUIRE(http::chars::all_field_value(s) == reference_field_value(s));
  }
  CHECK(http::chars::all_field_value("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
  CHECK(http::chars::all_field_value("a\tb  obs-text \xc3\xa9"));
  CHECK_FALSE(http::chars::all_field_value("0123456789abcdef\x7f"));
  CHECK_FALSE(http::chars::all_field_value(std::string("01234567\0", 9)));
}

TEST_CASE("controls marks exactly the CTL bytes, in any position") {
  for (int v = 0; v < 256; ++v) {
    for (int at = 0; at < 8; ++at) {
      for (char filler : {'a', ' ', '\x7e', '\x80', '\xff'}) {
        char bytes[8];
        for (char& b : bytes) b = filler;
        bytes[at] = static_cast<char>(v);
        const uint64_t mask = http::chars::controls(portcullis::bytes8::load(bytes));
        const bool ctl = v < 0x20 || v == 0x7f;
        REQUIRE((mask != 0) == ctl);
        if (ctl) REQUIRE(portcullis::bytes8::first_marked(mask) == at);
      }
    }
  }
}
