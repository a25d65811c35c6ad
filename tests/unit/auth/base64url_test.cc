#include <doctest/doctest.h>

#include <string>

#include "auth/base64url.h"

using namespace portcullis::auth;

TEST_CASE("base64url encodes and decodes the RFC 4648 vectors without padding") {
  struct Row { const char* plain; const char* encoded; };
  const Row rows[] = {{"", ""},         {"f", "Zg"},         {"fo", "Zm8"},       {"foo", "Zm9v"},
                      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& row : rows) {
    SUBCASE(row.encoded) {
      CHECK(base64url_encode(row.plain) == row.encoded);
      std::string out;
      REQUIRE(base64url_decode(row.encoded, out));
      CHECK(out == row.plain);
    }
  }
}

TEST_CASE("base64url uses - and _ for 62 and 63") {
  const std::string bytes("\xfb\xff\xbf", 3);
  CHECK(base64url_encode(bytes) == "-_-_");
  std::string out;
  REQUIRE(base64url_decode("-_-_", out));
  CHECK(out == bytes);
}

TEST_CASE("base64url round-trips every byte value and every length") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); ++len) {
    const std::string in = all.substr(all.size() - len);
    std::string out;
    CAPTURE(len);
    REQUIRE(base64url_decode(base64url_encode(in), out));
    CHECK(out == in);
  }
}

TEST_CASE("base64url rejects everything but the canonical encoding") {
  struct Row { const char* name; std::string input; };
  const Row rows[] = {
      {"padding ==", "Zg=="},
      {"padding =", "Zm8="},
      {"full group padding", "Zm9v===="},
      {"plus (standard alphabet)", "+/8A"},
      {"slash (standard alphabet)", "ab/c"},
      {"space", "Zm9 v"},
      {"leading space", " Zm9v"},
      {"newline", "Zm9v\nYmFy"},
      {"tab", "Zm9v\t"},
      {"dot", "Zm9v.YmFy"},
      {"NUL", std::string("Zm\0v", 4)},
      {"high byte", "Zm9\xc3"},
      {"length 1 mod 4", "Zm9vY"},
      {"single char", "Z"},
      {"non-zero trailing bits, 2 chars", "Zh"},
      {"non-zero trailing bits, 2 chars max", "Zv"},
      {"non-zero trailing bits, 3 chars", "Zm9"},
      {"non-zero trailing bits, 3 chars low", "Zm-"},
      {"question mark", "?Zm9v"},
      {"percent-encoded", "Zm%3D"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      std::string out = "keep";
      CHECK_FALSE(base64url_decode(row.input, out));
      CHECK(out == "keep");  // untouched on failure
    }
  }
}

TEST_CASE("base64url refuses any byte outside the alphabet at any place of a full group") {
  // The loop over full groups tests validity once, after decoding them all: the bad byte
  // must be found wherever it is, including in the first and last group of a long input.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t at : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{17}, size_t{38}, size_t{39}}) {
    for (int v = 0; v < 256; ++v) {
      std::string input(40, 'A');
      input[at] = static_cast<char>(v);
      std::string out = "keep";
      const bool in_alphabet = alphabet.find(static_cast<char>(v)) != std::string::npos;
      CHECK(base64url_decode(input, out) == in_alphabet);
      if (!in_alphabet) CHECK(out == "keep");
    }
  }
}

TEST_CASE("base64url accepts the canonical neighbour of each non-canonical row") {
  std::string out;
  CHECK(base64url_decode("Zg", out));   // 'f'
  CHECK(base64url_decode("Zm8", out));  // "fo"
  CHECK(base64url_decode("Zm-A", out));
}

TEST_CASE("base64url_decode appends into a reused buffer") {
  std::string buf = "ab";
  REQUIRE(base64url_decode("Zm9v", buf));
  CHECK(buf == "abfoo");
  REQUIRE(base64url_decode("", buf));
  CHECK(buf == "abfoo");
  CHECK_FALSE(base64url_decode("Zm9v!", buf));
  CHECK(buf == "abfoo");
}
