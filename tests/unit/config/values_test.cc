#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "config/values.h"

using namespace portcullis::config;
using std::chrono::milliseconds;

TEST_CASE("parse_duration accepts ms, s, m, h and decreasing combinations") {
  struct Row {
    const char* text;
    int64_t ms;
  };
  const Row rows[] = {
      {"0s", 0},           {"0ms", 0},          {"500ms", 500},         {"1s", 1000},
      {"30s", 30000},      {"10m", 600000},     {"1h", 3600000},        {"1m30s", 90000},
      {"1h30m", 5400000},  {"2h1m1s1ms", 7261001}, {"1s500ms", 1500},   {"90s", 90000},
      {"0010s", 10000},    {"100000h", 360000000000},
  };
  for (const auto& row : rows) {
    SUBCASE(row.text) {
      auto d = parse_duration(row.text);
      REQUIRE(d.has_value());
      CHECK(d->count() == row.ms);
    }
  }
}

TEST_CASE("parse_duration rejects bare numbers and malformed text") {
  const char* rows[] = {"",    "30",   "0",     "s",      "ms",    "-1s",  "+1s",   "1.5s", " 1s", "1s ",
                        "1 s", "1S",   "1sec",  "1d",     "1us",   "30s1m", "1s1s", "1ms1s", "1m1h", "1h1h",
                        "99999999999999999999s", "9223372036854775807h", "1s,2s", "1m30"};
  for (const char* text : rows) {
    SUBCASE(text) { CHECK_FALSE(parse_duration(text).has_value()); }
  }
}

TEST_CASE("format_duration round-trips through parse_duration") {
  struct Row {
    int64_t ms;
    const char* text;
  };
  const Row rows[] = {{0, "0s"}, {500, "500ms"}, {1000, "1s"}, {90000, "1m30s"}, {3600000, "1h"}, {3601001, "1h1s1ms"}};
  for (const auto& row : rows) {
    SUBCASE(row.text) {
      CHECK(format_duration(milliseconds(row.ms)) == row.text);
      CHECK(parse_duration(row.text)->count() == row.ms);
    }
  }
}

TEST_CASE("is_bare_number") {
  CHECK(is_bare_number("30"));
  CHECK(is_bare_number("0"));
  CHECK_FALSE(is_bare_number(""));
  CHECK_FALSE(is_bare_number("30s"));
  CHECK_FALSE(is_bare_number("-3"));
}

TEST_CASE("parse_size accepts bytes and binary/decimal units") {
  struct Row {
    const char* text;
    uint64_t bytes;
  };
  const Row rows[] = {
      {"0", 0},
      {"16384", 16384},
      {"16384B", 16384},
      {"1KiB", 1024},
      {"512KiB", 524288},
      {"1MiB", 1048576},
      {"10MiB", 10485760},
      {"1GiB", 1073741824},
      {"64GiB", 68719476736ull},
      {"1TiB", 1099511627776ull},
      {"1KB", 1000},
      {"1MB", 1000000},
      {"2GB", 2000000000},
      {"1TB", 1000000000000ull},
      {"18446744073709551615", 18446744073709551615ull},
  };
  for (const auto& row : rows) {
    SUBCASE(row.text) {
      auto v = parse_size(row.text);
      REQUIRE(v.has_value());
      CHECK(*v == row.bytes);
    }
  }
}

TEST_CASE("parse_size rejects malformed sizes and overflow") {
  const char* rows[] = {"",     "KiB",  "1kib", "1kb",  "1 KiB", "-1",   "+1",    "1.5MiB", "1K",
                        "1M",   "1Mi",  "1iB",  "0x10", "1e6",   " 1",   "1KiBx", "18446744073709551616",
                        "20000000000000000000", "17179869184GiB", "1,000"};
  for (const char* text : rows) {
    SUBCASE(text) { CHECK_FALSE(parse_size(text).has_value()); }
  }
}

TEST_CASE("format_size") {
  CHECK(format_size(0) == "0");
  CHECK(format_size(1000) == "1000");
  CHECK(format_size(1024) == "1KiB");
  CHECK(format_size(1536) == "1536");
  CHECK(format_size(1u << 20) == "1MiB");
  CHECK(format_size(64ull << 30) == "64GiB");
}

TEST_CASE("parse_host_port accepts host:port forms") {
  struct Row {
    const char* text;
    const char* host;
    uint16_t port;
  };
  const Row rows[] = {
      {"0.0.0.0:8080", "0.0.0.0", 8080},
      {"127.0.0.1:9901", "127.0.0.1", 9901},
      {"[::1]:8080", "::1", 8080},
      {"[::]:443", "::", 443},
      {"[2001:db8::1]:1", "2001:db8::1", 1},
      {"localhost:0", "localhost", 0},
      {"api.example.com:65535", "api.example.com", 65535},
      {"my_host:80", "my_host", 80},
  };
  for (const auto& row : rows) {
    SUBCASE(row.text) {
      auto hp = parse_host_port(row.text);
      REQUIRE(hp.has_value());
      CHECK(hp->first == row.host);
      CHECK(hp->second == row.port);
    }
  }
}

TEST_CASE("parse_host_port rejects malformed addresses") {
  const char* rows[] = {"",          "8080",        ":8080",       "localhost",     "localhost:",
                        "host:65536", "host:-1",     "host:80a",    "::1:8080",      "[::1]",
                        "[::1]8080",  "[::1:8080",   "[nothex]:80", "[127.0.0.1]:80", "a b:80",
                        "a..b:80",    "-a:80",       "host:123456", "host/x:80",     "host:+80",
                        "127.1:80",   "999.0.0.1:80", "0177.0.0.1:80", "1.2.3.4.5:80", "host.:80"};
  for (const char* text : rows) {
    SUBCASE(text) { CHECK_FALSE(parse_host_port(text).has_value()); }
  }
}

TEST_CASE("is_loopback_host") {
  struct Row {
    const char* host;
    bool loopback;
  };
  const Row rows[] = {
      {"127.0.0.1", true},        {"127.255.255.254", true}, {"127.1.2.3", true},
      {"::1", true},              {"[::1]", true},           {"0:0:0:0:0:0:0:1", true},
      {"localhost", true},        {"LocalHost", true},       {"::ffff:127.0.0.1", true},
      {"128.0.0.1", false},       {"10.0.0.1", false},       {"0.0.0.0", false},
      {"::", false},              {"::2", false},            {"localhost.example.com", false},
      {"127.0.0.1.nip.io", false}, {"127.1", false},         {"", false},
      {"evil-localhost", false},  {"0177.0.0.1", false},     {"::ffff:10.0.0.1", false},
  };
  for (const auto& row : rows) {
    SUBCASE(row.host) { CHECK(is_loopback_host(row.host) == row.loopback); }
  }
}

TEST_CASE("parse_url splits http and https URLs") {
  struct Row {
    const char* text;
    const char* scheme;
    const char* host;
    uint16_t port;
    const char* path;
  };
  const Row rows[] = {
      {"http://127.0.0.1:9000", "http", "127.0.0.1", 9000, ""},
      {"http://127.0.0.1:9000/", "http", "127.0.0.1", 9000, "/"},
      {"https://auth.example.com", "https", "auth.example.com", 443, ""},
      {"HTTPS://auth.example.com/tenant/v2.0", "https", "auth.example.com", 443, "/tenant/v2.0"},
      {"http://svc", "http", "svc", 80, ""},
      {"http://[::1]:8080/jwks", "http", "::1", 8080, "/jwks"},
      {"https://idp/jwks?x=1", "https", "idp", 443, "/jwks"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.text) {
      std::string why;
      auto url = parse_url(row.text, why);
      REQUIRE_MESSAGE(url.has_value(), why);
      CHECK(url->scheme == row.scheme);
      CHECK(url->host == row.host);
      CHECK(url->port == row.port);
      CHECK(url->path == row.path);
    }
  }
}

TEST_CASE("parse_url rejects what must never reach a fetch") {
  struct Row {
    const char* text;
    const char* why;
  };
  const Row rows[] = {
      {"127.0.0.1:9000", "absolute URL"},
      {"ftp://host/x", "only http and https"},
      {"file:///etc/passwd", "only http and https"},
      {"http://", "no host"},
      {"http://:80/", "no host"},
      {"http://user:pw@host/", "userinfo"},
      {"http://host/#frag", "fragment"},
      {"http://host:0/", "invalid port"},
      {"http://host:99999/", "invalid port"},
      {"http://host:/", "invalid port"},
      {"http://ho st/", "whitespace"},
      {"http://host/\n", "control"},
      {"http://[::1/", "unclosed"},
      {"http://[zz]/", "IPv6"},
      {"http://a..b/", "invalid host"},
      {"http://127.1/", "invalid host"},
      {"http://2130706433/", "invalid host"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.text) {
      std::string why;
      CHECK_FALSE(parse_url(row.text, why).has_value());
      CHECK_MESSAGE(why.find(row.why) != std::string::npos, why);
    }
  }
}

TEST_CASE("is_token and fold_header_name") {
  CHECK(is_token("X-Auth-Subject"));
  CHECK(is_token("x_auth_email"));
  CHECK(is_token("!#$%&'*+-.^_`|~09azAZ"));
  CHECK_FALSE(is_token(""));
  CHECK_FALSE(is_token("X Auth"));
  CHECK_FALSE(is_token("X-Auth:"));
  CHECK_FALSE(is_token("X-Auth\r\n"));
  CHECK_FALSE(is_token("Ü"));
  CHECK_FALSE(is_token(std::string("a\0b", 3)));
  CHECK(fold_header_name("X_Auth-SUBJECT") == "x-auth-subject");
}
