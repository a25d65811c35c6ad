#include <doctest/doctest.h>

#include "policy/model.h"

using namespace portcullis::policy;

TEST_CASE("prefix_covers_path is segment-aware and strips matrix parameters") {
  struct Row {
    const char* prefix;
    const char* path;
    bool covered;
  };
  const Row rows[] = {
      {"/", "/", true},          {"/", "/a/b", true},          {"/", "", false},
      {"/a", "/a", true},        {"/a", "/a/", true},          {"/a", "/a/b", true},
      {"/a", "/ab", false},      {"/a", "/", false},           {"/a", "/b/a", false},
      {"/a/b", "/a", false},     {"/a/b", "/a/", false},       {"/a/b", "/a/b", true},
      {"/a/b", "/a/bc", false},  {"/a/b", "/a;x/b;y/c", true}, {"/a", "/a;x", true},
      {"/a", "/;x/a", false},    {"/a", "a", false},           {"/a/b", "/a//b", false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.prefix);
    CAPTURE(row.path);
    CHECK(prefix_covers_path(row.prefix, row.path) == row.covered);
    PathMatch m{true, row.prefix};
    CHECK(m.matches(row.path) == row.covered);
  }
}

TEST_CASE("request_host drops port, brackets and one trailing dot") {
  CHECK(request_host("api.example.com") == "api.example.com");
  CHECK(request_host("api.example.com:8080") == "api.example.com");
  CHECK(request_host("api.example.com.") == "api.example.com");
  CHECK(request_host("api.example.com.:80") == "api.example.com");
  CHECK(request_host("[::1]:8080") == "::1");
  CHECK(request_host("[::1]") == "::1");
  CHECK(request_host("") == "");
}

TEST_CASE("MethodSet covers") {
  MethodSet all;
  MethodSet get_post;
  get_post.all = false;
  get_post.known = method_bit("GET") | method_bit("POST");
  MethodSet get;
  get.all = false;
  get.known = method_bit("GET");
  MethodSet purge;
  purge.all = false;
  purge.extension = {"PURGE"};
  CHECK(all.covers(get));
  CHECK(all.covers(all));
  CHECK_FALSE(get.covers(all));
  CHECK(get_post.covers(get));
  CHECK_FALSE(get.covers(get_post));
  CHECK_FALSE(get_post.covers(purge));
  CHECK(purge.allows("PURGE"));
  CHECK_FALSE(purge.allows("purge"));
  CHECK(method_bit("get") == 0);
}
