#include "cli/args.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace portcullis::cli {
namespace {

constexpr FlagSpec kSpecs[] = {{"out", true}, {"alg", true}, {"force", false}};

ParsedFlags parse(std::vector<std::string_view> args) { return parse_flags(args, kSpecs); }

TEST_CASE("parse_flags accepts known flags in both spellings") {
  SUBCASE("separate values and a boolean") {
    const ParsedFlags f = parse({"--out", "/tmp/k", "--force", "--alg", "ES256"});
    CHECK(f.error.empty());
    CHECK(f.get("out") == std::optional<std::string>("/tmp/k"));
    CHECK(f.get("alg") == std::optional<std::string>("ES256"));
    CHECK(f.has("force"));
  }
  SUBCASE("--name=value, also with '=' inside the value") {
    const ParsedFlags f = parse({"--out=/tmp/a=b", "--alg="});
    CHECK(f.error.empty());
    CHECK(f.get("out") == std::optional<std::string>("/tmp/a=b"));
    CHECK(f.get("alg") == std::optional<std::string>(""));
  }
  SUBCASE("nothing") {
    const ParsedFlags f = parse({});
    CHECK(f.error.empty());
    CHECK(f.values.empty());
  }
}

TEST_CASE("parse_flags reports the first bad argument") {
  struct Row {
    const char* name;
    std::vector<std::string_view> args;
    const char* error;
  };
  const Row rows[] = {
      {"unknown flag", {"--out", "d", "--bogus"}, "unknown flag: --bogus"},
      {"unknown flag with value", {"--bogus=1"}, "unknown flag: --bogus"},
      {"single dash", {"-o", "d"}, "unexpected argument: -o"},
      {"positional", {"generate"}, "unexpected argument: generate"},
      {"bare --", {"--"}, "unexpected argument: --"},
      {"missing value", {"--out"}, "--out needs a value"},
      {"repeated", {"--alg", "ES256", "--alg", "RS256"}, "--alg given twice"},
      {"value on a boolean", {"--force=yes"}, "--force takes no value"},
      {"first error wins", {"--x", "--y"}, "unknown flag: --x"},
  };
  for (const Row& r : rows) {
    SUBCASE(r.name) { CHECK(parse(r.args).error == r.error); }
  }
}

TEST_CASE("--help wins over everything else") {
  for (std::vector<std::string_view> args : {std::vector<std::string_view>{"--help"},
                                             std::vector<std::string_view>{"--bogus", "-h"},
                                             std::vector<std::string_view>{"--out", "d", "--help", "--x"}}) {
    SUBCASE(std::string(args.back()).c_str()) {
      const ParsedFlags f = parse(args);
      CHECK(f.error.empty());
      CHECK(f.has("help"));
      CHECK_FALSE(f.has("out"));
    }
  }
}

}  // namespace
}  // namespace portcullis::cli
