#include "http/headers.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace portcullis::http {
namespace {

TEST_CASE("headers: iequals") {
  struct Row {
    const char* a;
    const char* b;
    bool equal;
  };
  const Row rows[] = {
      {"Content-Length", "content-length", true},
      {"HOST", "host", true},
      {"", "", true},
      {"a", "", false},
      {"abc", "abd", false},
      {"X-Auth_Subject", "x-auth-subject", false},  // '_' is not '-' here
      {"\xc3\x89", "\xc3\xa9", false},              // ASCII only
      {"[", "{", false},                            // 0x5B vs 0x7B: not letters
      {"@", "`", false},
  };
  for (const Row& r : rows) {
    SUBCASE((std::string(r.a) + " vs " + r.b).c_str()) { CHECK(iequals(r.a, r.b) == r.equal); }
  }
}

TEST_CASE("headers: same_header_name_loose catches identity-header spoofing") {
  struct Row {
    const char* a;
    const char* b;
    bool same;
  };
  const Row rows[] = {
      {"X-Auth-Subject", "X-Auth-Subject", true},
      {"x-auth-subject", "X-Auth-Subject", true},
      {"X_Auth_Subject", "X-Auth-Subject", true},
      {"x_AUTH-subject", "X-Auth-Subject", true},
      {"X-Auth-Subject", "x_auth_subject", true},
      {"X-Auth-Subjec", "X-Auth-Subject", false},
      {"X-Auth-Subjects", "X-Auth-Subject", false},
      {"X.Auth.Subject", "X-Auth-Subject", false},
      {"XAuthSubject", "X-Auth-Subject", false},
  };
  for (const Row& r : rows) {
    SUBCASE((std::string(r.a) + " vs " + r.b).c_str()) {
      CHECK(same_header_name_loose(r.a, r.b) == r.same);
    }
  }
}

TEST_CASE("headers: hop-by-hop names") {
  const char* hop[] = {"Connection", "connection", "Keep-Alive", "TE", "te", "Trailer",
                       "Transfer-Encoding", "TRANSFER-ENCODING", "Upgrade", "Proxy-Authorization",
                       "proxy-authenticate", "Proxy-Connection", "PROXY-anything", "HTTP2-Settings"};
  const char* end_to_end[] = {"Content-Length", "Host", "Authorization", "X-Connection", "Trailers",
                              "Proxy", "Proxyfoo", "Upgrade-Insecure-Requests", "TE-x",
                              "X-Auth-Subject"};
  for (const char* n : hop) {
    SUBCASE(n) { CHECK(is_hop_by_hop(n)); }
  }
  for (const char* n : end_to_end) {
    SUBCASE(n) { CHECK_FALSE(is_hop_by_hop(n)); }
  }
}

TEST_CASE("headers: list_contains_token") {
  struct Row {
    const char* list;
    const char* token;
    bool contains;
  };
  const Row rows[] = {
      {"close", "close", true},
      {"Close", "close", true},
      {"keep-alive, close", "close", true},
      {"keep-alive,close", "close", true},
      {" \tclose\t ", "close", true},
      {",,close,,", "close", true},
      {"closed", "close", false},
      {"x-close", "close", false},
      {"clo se", "close", false},
      {"", "close", false},
      {",", "close", false},
      {"upgrade, X-Auth-Subject", "x-auth-subject", true},
  };
  for (const Row& r : rows) {
    SUBCASE((std::string("'") + r.list + "' has " + r.token).c_str()) {
      CHECK(list_contains_token(r.list, r.token) == r.contains);
    }
  }
}

TEST_CASE("headers: for_each_list_element yields trimmed non-empty elements") {
  struct Row {
    const char* list;
    std::vector<std::string> elements;
  };
  const Row rows[] = {
      {"", {}},
      {"a", {"a"}},
      {"a,b", {"a", "b"}},
      {" a , b ,c ", {"a", "b", "c"}},
      {",,a,, ,\t,b,", {"a", "b"}},
      {"a b, c", {"a b", "c"}},
  };
  for (const Row& r : rows) {
    SUBCASE((std::string("'") + r.list + "'").c_str()) {
      std::vector<std::string> got;
      for_each_list_element(r.list, [&](std::string_view e) { got.emplace_back(e); });
      CHECK(got == r.elements);
    }
  }
}

TEST_CASE("headers: trim_ows and istarts_with") {
  CHECK(trim_ows(" \t a b \t") == "a b");
  CHECK(trim_ows("") == "");
  CHECK(trim_ows(" \t ") == "");
  CHECK(istarts_with("HTTPS://x", "https://"));
  CHECK_FALSE(istarts_with("http", "https"));
}

}  // namespace
}  // namespace portcullis::http
