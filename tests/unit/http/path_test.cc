#include "http/path.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace portcullis::http {
namespace {

using namespace std::string_literals;

TEST_CASE("path: canonical forms") {
  struct Row {
    const char* name;
    std::string raw;
    std::string canonical;
  };
  const Row rows[] = {
      {"root", "/", "/"},
      {"plain", "/orders/7", "/orders/7"},
      {"trailing slash kept", "/orders/", "/orders/"},
      {"repeated slashes merged", "//orders///7//", "/orders/7/"},
      {"dot segment", "/a/./b", "/a/b"},
      {"dot-dot segment", "/a/../b", "/b"},
      {"dot-dot never above root", "/../../a", "/a"},
      {"many dot-dots", "/a/b/../../../../c", "/c"},
      {"trailing dot-dot", "/a/b/..", "/a/"},
      {"trailing dot", "/a/.", "/a/"},
      {"only dot", "/.", "/"},
      {"only dot-dot", "/..", "/"},
      {"slashes merged before dot-dots", "/a//../b", "/b"},
      {"dot-dot after merged slashes", "/a/b//..//c", "/a/c"},
      {"encoded dot-dot", "/public/%2e%2e/admin", "/admin"},
      {"encoded dot-dot uppercase", "/public/%2E%2E/admin", "/admin"},
      {"half-encoded dot-dot", "/public/.%2e/admin", "/admin"},
      {"encoded single dot", "/a/%2e/b", "/a/b"},
      {"unreserved decoded", "/%41%62%7e%2d%5f%2E%30", "/Ab~-_.0"},
      {"reserved kept, hex uppercased", "/a%3bb%3a%40", "/a%3Bb%3A%40"},
      {"space kept encoded", "/a%20b", "/a%20b"},
      {"utf-8 kept encoded", "/%e2%82%ac", "/%E2%82%AC"},
      {"percent kept encoded", "/%25", "/%25"},
      {"double encoding not decoded twice", "/%252e%252e/x", "/%252e%252e/x"},
      {"matrix params on a normal segment", "/a;b=c/d", "/a;b=c/d"},
      {"three dots is a name", "/a/.../b", "/a/.../b"},
      {"dot-prefixed names", "/.a/..b/.well-known", "/.a/..b/.well-known"},
      {"three dots with params", "/...;x", "/...;x"},
      {"sub-delims, colon and at", "/!$&'()*+,;=:@", "/!$&'()*+,;=:@"},
      {"empty params segment", "/a/;x/b", "/a/;x/b"},
      {"canonical escapes", "/a%20b/%E2%82%AC/%25", "/a%20b/%E2%82%AC/%25"},
  };
  std::string out = "garbage";
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      CHECK(normalize_path(r.raw, out) == PathError::None);
      CHECK(out == r.canonical);
      // Normalizing again changes nothing.
      std::string again;
      CHECK(normalize_path(out, again) == PathError::None);
      CHECK(again == out);
      CHECK_FALSE(path_needs_normalization(out));
      CHECK(path_needs_normalization(r.raw) == (r.raw != r.canonical));
    }
  }
}

TEST_CASE("path: forbidden bytes and escapes are refused") {
  struct Row {
    const char* name;
    std::string raw;
    PathError error;
  };
  const Row rows[] = {
      {"empty", "", PathError::NotOriginForm},
      {"relative", "a/b", PathError::NotOriginForm},
      {"asterisk", "*", PathError::NotOriginForm},
      {"absolute URI", "http://h/a", PathError::NotOriginForm},
      {"raw NUL", "/a\0b"s, PathError::ForbiddenByte},
      {"control 0x01", "/a\x01", PathError::ForbiddenByte},
      {"tab", "/a\tb", PathError::ForbiddenByte},
      {"CR", "/a\rb", PathError::ForbiddenByte},
      {"LF", "/a\nb", PathError::ForbiddenByte},
      {"DEL", "/a\x7f", PathError::ForbiddenByte},
      {"space", "/a b", PathError::ForbiddenByte},
      {"hash", "/admin#/public", PathError::ForbiddenByte},
      {"backslash", "/public\\..\\admin", PathError::ForbiddenByte},
      {"question mark", "/a?b", PathError::ForbiddenByte},
      {"obs-text", "/caf\xc3\xa9", PathError::ForbiddenByte},
      {"0xff", "/\xff", PathError::ForbiddenByte},
      {"double quote", "/\"a\"", PathError::ForbiddenByte},
      {"angle brackets", "/<script>", PathError::ForbiddenByte},
      {"square brackets", "/a[0]", PathError::ForbiddenByte},
      {"braces", "/{a}", PathError::ForbiddenByte},
      {"pipe", "/a|b", PathError::ForbiddenByte},
      {"caret", "/a^b", PathError::ForbiddenByte},
      {"backtick", "/a`b", PathError::ForbiddenByte},
      {"lone percent", "/a%", PathError::BadEscape},
      {"one hex digit", "/a%2", PathError::BadEscape},
      {"non-hex escape", "/a%zz", PathError::BadEscape},
      {"half non-hex escape", "/a%2g", PathError::BadEscape},
      {"percent before slash", "/a%/b", PathError::BadEscape},
      {"unicode escape", "/%u002e", PathError::BadEscape},
      {"encoded slash", "/a%2Fb", PathError::EncodedSlash},
      {"encoded slash lowercase", "/a%2fb", PathError::EncodedSlash},
      {"encoded slash in dot-dot", "/a/..%2f..%2fadmin", PathError::EncodedSlash},
      {"encoded backslash", "/a%5Cb", PathError::EncodedBackslash},
      {"encoded backslash lowercase", "/a%5cb", PathError::EncodedBackslash},
      {"encoded NUL", "/a%00b", PathError::EncodedNul},
      {"encoded LF", "/a%0a", PathError::EncodedControl},
      {"encoded CR", "/a%0D", PathError::EncodedControl},
      {"encoded tab", "/admin%09", PathError::EncodedControl},
      {"encoded DEL", "/a%7f", PathError::EncodedControl},
      {"dot-dot with params", "/public/..;/admin", PathError::DotSegmentWithParams},
      {"dot-dot with named params", "/public/..;jsessionid=1/admin", PathError::DotSegmentWithParams},
      {"dot with params", "/.;x/admin", PathError::DotSegmentWithParams},
      {"trailing dot-dot with params", "/a/..;", PathError::DotSegmentWithParams},
      {"encoded dot-dot with params", "/a/%2e%2e;/admin", PathError::DotSegmentWithParams},
      {"encoded dot with params", "/a/%2E;x/b", PathError::DotSegmentWithParams},
      {"dot-dot with encoded semicolon", "/a/..%3b/admin", PathError::DotSegmentWithParams},
      {"dot with encoded semicolon", "/a/.%3B/admin", PathError::DotSegmentWithParams},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) {
      std::string out;
      CHECK(normalize_path(r.raw, out) == r.error);
      CHECK(path_needs_normalization(r.raw));
    }
  }
}

TEST_CASE("path: error names") {
  CHECK(to_string(PathError::None) == "none");
  CHECK(to_string(PathError::NotOriginForm) == "not_origin_form");
  CHECK(to_string(PathError::ForbiddenByte) == "forbidden_byte");
  CHECK(to_string(PathError::BadEscape) == "bad_escape");
  CHECK(to_string(PathError::EncodedSlash) == "encoded_slash");
  CHECK(to_string(PathError::EncodedBackslash) == "encoded_backslash");
  CHECK(to_string(PathError::EncodedNul) == "encoded_nul");
  CHECK(to_string(PathError::DotSegmentWithParams) == "dot_segment_with_params");
  CHECK(to_string(PathError::EncodedControl) == "encoded_control");
}

TEST_CASE("path: output buffer is cleared and reused") {
  std::string out = "/previous/value/that/is/long";
  const size_t cap = out.capacity();
  REQUIRE(normalize_path("/x", out) == PathError::None);
  CHECK(out == "/x");
  CHECK(out.capacity() == cap);
}

// Independent model: decode, split, resolve with a stack, join.
std::string model_normalize(std::string_view raw) {
  std::string decoded;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%') {
      const std::string hex{raw.substr(i + 1, 2)};
      const int v = std::stoi(hex, nullptr, 16);
      const char c = static_cast<char>(v);
      const bool unreserved = std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                              c == '.' || c == '_' || c == '~';
      if (unreserved) {
        decoded += c;
      } else {
        static const char* kHex = "0123456789ABCDEF";
        decoded += '%';
        decoded += kHex[v >> 4];
        decoded += kHex[v & 15];
      }
      i += 2;
    } else {
      decoded += raw[i];
    }
  }
  std::vector<std::string> stack;
  bool trailing_slash = false;
  size_t pos = 1;
  for (;;) {
    const size_t slash = decoded.find('/', pos);
    const std::string seg = decoded.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    const bool last = slash == std::string::npos;
    if (seg.empty() || seg == ".") {
      trailing_slash = last;
    } else if (seg == "..") {
      if (!stack.empty()) stack.pop_back();
      trailing_slash = last;
    } else {
      stack.push_back(seg);
      trailing_slash = false;
    }
    if (last) break;
    pos = slash + 1;
  }
  std::string out;
  for (const std::string& s : stack) out += "/" + s;
  if (out.empty() || trailing_slash) out += "/";
  return out;
}

// Checks every property that must hold for one input; returns a description of the first
// violation, or empty.
std::string check_properties(const std::string& raw) {
  std::string out;
  const PathError e = normalize_path(raw, out);
  const bool needs = path_needs_normalization(raw);
  if (!needs && (e != PathError::None || out != raw)) return "pre-check said canonical: " + raw;
  if (e != PathError::None) return {};
  std::string again;
  if (normalize_path(out, again) != PathError::None || again != out) return "not idempotent: " + raw;
  if (path_needs_normalization(out)) return "output not canonical for the pre-check: " + raw;
  if (out.find("//") != std::string::npos) return "double slash left: " + raw;
  if (out != model_normalize(raw)) return "differs from model: " + raw + " -> " + out;
  return {};
}

TEST_CASE("path: exhaustive small-alphabet inputs keep every property") {
  const std::vector<std::string> alphabet = {"/", ".", "a", "%2e", "%2F", ";", "%41", "%3b"};
  size_t checked = 0;
  size_t accepted = 0;
  std::string first_failure;
  std::vector<size_t> idx;
  for (size_t len = 0; len <= 6; ++len) {
    idx.assign(len, 0);
    for (;;) {
      std::string raw = "/";
      for (size_t k : idx) raw += alphabet[k];
      ++checked;
      std::string out;
      if (normalize_path(raw, out) == PathError::None) ++accepted;
      if (first_failure.empty()) first_failure = check_properties(raw);
      size_t k = 0;
      while (k < len && ++idx[k] == alphabet.size()) idx[k++] = 0;
      if (k == len) break;
    }
  }
  CHECK(first_failure == "");
  CHECK(checked == 299593);  // sum of 8^0..8^6
  CHECK(accepted > 1000);
}

TEST_CASE("path: random inputs over a wider alphabet keep every property") {
  const std::vector<std::string> alphabet = {"/",   "//",  ".",   "..",  "a",   "B",   "%2e", "%2E",
                                             "%2f", "%5c", "%00", ";",   ";x", "%41", "%7e", "%25",
                                             "%",   "%g",  "%e2", "~",   "-",   "#",   "\\",  " ",
                                             "%0a", "..;", "@",   ":"};
  std::mt19937 rng(4242);
  std::string first_failure;
  for (int i = 0; i < 20000 && first_failure.empty(); ++i) {
    std::string raw = (rng() % 20 == 0) ? "" : "/";
    const size_t n = rng() % 12;
    for (size_t k = 0; k < n; ++k) raw += alphabet[rng() % alphabet.size()];
    first_failure = check_properties(raw);
  }
  CHECK(first_failure == "");
}

TEST_CASE("path: query validity") {
  struct Row {
    const char* name;
    std::string query;
    bool valid;
  };
  const Row rows[] = {
      {"empty", "", true},
      {"typical", "a=1&b=%2F&c=/x?y", true},
      {"sub-delims", "!$&'()*+,;=:@/?", true},
      {"space", "a=b c", false},
      {"hash", "a#b", false},
      {"NUL", "a\0b"s, false},
      {"tab", "a\tb", false},
      {"CR", "a\r", false},
      {"DEL", "a\x7f", false},
      {"obs-text", "a=\xc3\xa9", false},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) { CHECK(query_is_valid(r.query) == r.valid); }
  }
}

}  // namespace
}  // namespace portcullis::http
