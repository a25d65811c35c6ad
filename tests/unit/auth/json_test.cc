#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "auth/json.h"

using namespace portcullis::auth;

namespace {

std::string nested(const std::string& open, const std::string& close, int depth, const std::string& inner) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  s += inner;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

}  // namespace

TEST_CASE("parse_json_object accepts well-formed objects") {
  struct Row { const char* name; std::string input; };
  const Row rows[] = {
      {"empty object", "{}"},
      {"whitespace around", " \t\r\n{\"a\":1}\r\n "},
      {"all value types", R"({"s":"x","i":-1,"u":1,"d":1.5,"e":1e3,"t":true,"f":false,"n":null,"a":[1,"2"],"o":{"k":1}})"},
      {"same name in sibling objects", R"({"a":{"x":1},"b":{"x":2}})"},
      {"same name at different depths", R"({"x":{"x":{"x":1}}})"},
      {"escaped names that differ", R"({"a":1,"A":2,"a ":3})"},
      {"unicode escapes, valid pair", R"({"s":"\ud83d\ude00"})"},
      {"raw UTF-8", "{\"s\":\"caf\xc3\xa9\"}"},
      {"many distinct members (sorted check)", R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11})"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      rapidjson::Document doc;
      CHECK(parse_json_object(row.input, doc) == AuthStatus::Ok);
      CHECK(doc.IsObject());
    }
  }
}

TEST_CASE("parse_json_object rejects what other parsers would read differently") {
  struct Row { const char* name; std::string input; AuthStatus expected; };
  const Row rows[] = {
      {"empty", "", AuthStatus::JwtBadJson},
      {"array top level", "[1]", AuthStatus::JwtNotObject},
      {"string top level", R"("x")", AuthStatus::JwtNotObject},
      {"number top level", "1", AuthStatus::JwtNotObject},
      {"null top level", "null", AuthStatus::JwtNotObject},
      {"trailing garbage", R"({"a":1}x)", AuthStatus::JwtBadJson},
      {"two objects", R"({"a":1}{"b":2})", AuthStatus::JwtBadJson},
      {"trailing comma", R"({"a":1,})", AuthStatus::JwtBadJson},
      {"single quotes", "{'a':1}", AuthStatus::JwtBadJson},
      {"comment", "{/*c*/\"a\":1}", AuthStatus::JwtBadJson},
      {"NaN", R"({"a":NaN})", AuthStatus::JwtBadJson},
      {"Infinity", R"({"a":Infinity})", AuthStatus::JwtBadJson},
      {"huge number", R"({"a":1e400})", AuthStatus::JwtBadJson},
      {"leading zero", R"({"a":01})", AuthStatus::JwtBadJson},
      {"unterminated", R"({"a":1)", AuthStatus::JwtBadJson},
      {"raw control char in string", "{\"a\":\"x\ny\"}", AuthStatus::JwtBadJson},
      {"NUL then garbage", std::string("{\"a\":1}\0junk", 12), AuthStatus::JwtBadJson},
      {"NUL inside", std::string("{\"a\":\0}", 7), AuthStatus::JwtBadJson},
      {"invalid UTF-8 byte", "{\"a\":\"\xff\"}", AuthStatus::JwtBadJson},
      {"overlong UTF-8", "{\"a\":\"\xc0\xaf\"}", AuthStatus::JwtBadJson},
      {"truncated UTF-8", "{\"a\":\"\xe2\x82\"}", AuthStatus::JwtBadJson},
      {"invalid UTF-8 in a name", "{\"\xfe\":1}", AuthStatus::JwtBadJson},
      {"lone high surrogate escape", R"({"a":"\ud800"})", AuthStatus::JwtBadJson},
      {"lone low surrogate escape", R"({"a":"\udc00"})", AuthStatus::JwtBadJson},
      {"lone low surrogate in a name", R"({"\udfff":1})", AuthStatus::JwtBadJson},
      {"duplicate at top", R"({"a":1,"a":2})", AuthStatus::JwtDuplicateMember},
      {"duplicate alg", R"({"alg":"RS256","alg":"none"})", AuthStatus::JwtDuplicateMember},
      {"duplicate via escape", R"({"alg":1,"\u0061lg":2})", AuthStatus::JwtDuplicateMember},
      {"duplicate nested in object", R"({"o":{"x":1,"x":1}})", AuthStatus::JwtDuplicateMember},
      {"duplicate nested in array", R"({"a":[{"k":1},{"k":1,"k":2}]})", AuthStatus::JwtDuplicateMember},
      {"duplicate in a big object", R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"a":11})",
       AuthStatus::JwtDuplicateMember},
      {"duplicate with embedded NUL names", std::string("{\"a\\u0000b\":1,\"a\\u0000b\":2}"),
       AuthStatus::JwtDuplicateMember},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      rapidjson::Document doc;
      CHECK(parse_json_object(row.input, doc) == row.expected);
    }
  }
}

TEST_CASE("duplicate names are found whatever their length and however they begin") {
  rapidjson::Document doc;
  // Longer than the eight bytes compared first: equal heads, then the rest decides.
  CHECK(parse_json_object(R"({"abcdefgh1":1,"abcdefgh2":2})", doc) == AuthStatus::Ok);
  CHECK(parse_json_object(R"({"abcdefgh1":1,"abcdefgh1":2})", doc) == AuthStatus::JwtDuplicateMember);
  CHECK(parse_json_object(R"({"abcdefgh":1,"abcdefghi":2})", doc) == AuthStatus::Ok);
  CHECK(parse_json_object(R"({"":1,"":2})", doc) == AuthStatus::JwtDuplicateMember);
  CHECK(parse_json_object(R"({"":1,"a":2})", doc) == AuthStatus::Ok);
  // Sixteen members (the largest object checked pair by pair), then seventeen (sorted).
  std::string sixteen = "{", seventeen;
  for (int i = 0; i < 16; ++i) sixteen += "\"m" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  seventeen = sixteen + "\"m3\":0}";
  sixteen.back() = '}';
  CHECK(parse_json_object(sixteen, doc) == AuthStatus::Ok);
  CHECK(parse_json_object(seventeen, doc) == AuthStatus::JwtDuplicateMember);
  std::string sixteen_dup = sixteen;
  sixteen_dup.replace(sixteen_dup.find("\"m15\""), 5, "\"m0\" ");
  CHECK(parse_json_object(sixteen_dup, doc) == AuthStatus::JwtDuplicateMember);
}

TEST_CASE("UTF-8 is validated when the input is not all ASCII, and ASCII parses the same") {
  rapidjson::Document doc;
  REQUIRE(parse_json_object("{\"name\":\"J\u00fcrgen \xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91\"}", doc) == AuthStatus::Ok);
  CHECK(json_string_view(doc["name"]) == "J\xc3\xbcrgen \xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91");
  // One invalid byte anywhere fails the whole document, also after a long ASCII run.
  CHECK(parse_json_object("{\"a\":\"" + std::string(100, 'x') + "\xc3\"}", doc) == AuthStatus::JwtBadJson);
  CHECK(parse_json_object("{\"a\":\"" + std::string(100, 'x') + "\xed\xa0\x80\"}", doc) == AuthStatus::JwtBadJson);
  // Escapes in an all-ASCII document still decode, and a lone surrogate is still refused.
  REQUIRE(parse_json_object(R"({"a":"\u00e9\ud83d\udd11"})", doc) == AuthStatus::Ok);
  CHECK(json_string_view(doc["a"]) == "\xc3\xa9\xf0\x9f\x94\x91");
  CHECK(parse_json_object(R"({"a":"\udc00"})", doc) == AuthStatus::JwtBadJson);
}

TEST_CASE("names that differ only after a NUL are not duplicates") {
  rapidjson::Document doc;
  CHECK(parse_json_object(R"({"a\u0000b":1,"a\u0000c":2})", doc) == AuthStatus::Ok);
}

TEST_CASE("parse_json_object bounds nesting depth before building the tree") {
  const JsonLimits limits{64 * 1024, 16};
  rapidjson::Document doc;
  SUBCASE("16 levels of objects pass") {
    CHECK(parse_json_object(nested("{\"a\":", "}", 15, "{}"), doc, limits) == AuthStatus::Ok);
  }
  SUBCASE("17 levels of objects fail") {
    CHECK(parse_json_object(nested("{\"a\":", "}", 16, "{}"), doc, limits) == AuthStatus::JwtJsonTooDeep);
  }
  SUBCASE("arrays count as levels") {
    CHECK(parse_json_object("{\"a\":" + nested("[", "]", 15, "1") + "}", doc, limits) == AuthStatus::Ok);
    CHECK(parse_json_object("{\"a\":" + nested("[", "]", 16, "1") + "}", doc, limits) == AuthStatus::JwtJsonTooDeep);
  }
  SUBCASE("a million brackets are refused quickly, without recursion") {
    const JsonLimits big{8 * 1024 * 1024, 16};
    CHECK(parse_json_object("{\"a\":" + std::string(1000000, '['), doc, big) == AuthStatus::JwtJsonTooDeep);
  }
  SUBCASE("a custom depth") {
    CHECK(parse_json_object(R"({"a":{"b":1}})", doc, JsonLimits{1024, 1}) == AuthStatus::JwtJsonTooDeep);
    CHECK(parse_json_object(R"({"a":1})", doc, JsonLimits{1024, 1}) == AuthStatus::Ok);
  }
}

TEST_CASE("parse_json_object bounds size before parsing") {
  rapidjson::Document doc;
  const std::string text = R"({"a":"0123456789"})";
  CHECK(parse_json_object(text, doc, JsonLimits{text.size(), 16}) == AuthStatus::Ok);
  CHECK(parse_json_object(text, doc, JsonLimits{text.size() - 1, 16}) == AuthStatus::TokenTooLarge);
}

TEST_CASE("a reused Document holds only the latest parse") {
  rapidjson::Document doc;
  REQUIRE(parse_json_object(R"({"a":1})", doc) == AuthStatus::Ok);
  REQUIRE(parse_json_object(R"({"b":2})", doc) == AuthStatus::Ok);
  CHECK_FALSE(doc.HasMember("a"));
  CHECK(doc["b"].GetInt() == 2);
  REQUIRE(parse_json_object(R"({"c":3,"c":3})", doc) == AuthStatus::JwtDuplicateMember);
  CHECK_FALSE(doc.IsObject());  // a failed parse leaves nothing usable behind
}

TEST_CASE("json_string_view keeps embedded NULs") {
  rapidjson::Document doc;
  REQUIRE(parse_json_object(R"({"s":"a\u0000b"})", doc) == AuthStatus::Ok);
  CHECK(json_string_view(doc["s"]) == std::string_view("a\0b", 3));
}

TEST_CASE("numbers keep their JSON type and read correctly rounded") {
  rapidjson::Document doc;
  REQUIRE(parse_json_object(R"({"i":-5,"u":4000000000,"big":18446744073709551615,"neg":-9223372036854775808,)"
                            R"("huge":123456789012345678901234567890,"d":1.5,"e":1E3,"z":-0,"exp":1700000000})",
                            doc) == AuthStatus::Ok);
  CHECK((doc["i"].IsInt() && doc["i"].GetInt() == -5));
  CHECK((doc["u"].IsUint() && !doc["u"].IsInt() && doc["u"].GetUint() == 4000000000u));
  CHECK((doc["big"].IsUint64() && doc["big"].GetUint64() == UINT64_MAX));
  CHECK((doc["neg"].IsInt64() && doc["neg"].GetInt64() == INT64_MIN));
  CHECK((doc["huge"].IsDouble() && doc["huge"].GetDouble() == 123456789012345678901234567890.0));
  CHECK((doc["d"].IsDouble() && doc["d"].GetDouble() == 1.5));
  CHECK((doc["e"].IsDouble() && doc["e"].GetDouble() == 1000.0));
  CHECK((doc["z"].IsInt() && doc["z"].GetInt() == 0));
  CHECK((doc["exp"].IsInt64() && doc["exp"].GetInt64() == 1700000000));

  // Correctly rounded where a fast approximation is an ulp off (found by the jws fuzz target).
  REQUIRE(parse_json_object(R"({"exp":1055946104.5555555555555555555555555551110})", doc) == AuthStatus::Ok);
  CHECK(doc["exp"].GetDouble() == 1055946104.5555555555555555555555555551110);
}

TEST_CASE("numbers that crashed rapidjson's full-precision reader are read or refused, never crash") {
  rapidjson::Document doc;
  // A long run of fraction zeros sent rapidjson 1.1 outside its power-of-ten table (SEGV).
  const std::string zeros(400, '0');
  REQUIRE(parse_json_object("{\"a\":0." + zeros + "}", doc) == AuthStatus::Ok);
  CHECK(doc["a"].GetDouble() == 0.0);
  REQUIRE(parse_json_object("{\"a\":0." + zeros + "1}", doc) == AuthStatus::Ok);
  CHECK(doc["a"].GetDouble() == 0.0);  // 1e-401 underflows to zero
  REQUIRE(parse_json_object("{\"a\":1." + zeros + "1e-5}", doc) == AuthStatus::Ok);
  CHECK(doc["a"].GetDouble() == 1e-5);
  // Out of double range is an error, as rapidjson itself treats it.
  CHECK(parse_json_object(R"({"a":1e400})", doc) == AuthStatus::JwtBadJson);
  CHECK(parse_json_object(R"({"a":-1e400})", doc) == AuthStatus::JwtBadJson);
}

TEST_CASE("numbers below the double range read as zero, above it are refused") {
  rapidjson::Document doc;
  for (const char* tiny : {"1e-400", "-1e-400", "0.0001e-330", "123e-999999999999", "0.000e-5000"}) {
    INFO(tiny);
    REQUIRE(parse_json_object(std::string("{\"a\":") + tiny + "}", doc) == AuthStatus::Ok);
    CHECK(doc["a"].GetDouble() == 0.0);
  }
  CHECK(parse_json_object(R"({"a":4.9e-324})", doc) == AuthStatus::Ok);  // the smallest subnormal
  CHECK(doc["a"].GetDouble() > 0.0);
  for (const char* big : {"1e309", "1000e306", "0.1e310", "123e999999999999"}) {
    INFO(big);
    CHECK(parse_json_object(std::string("{\"a\":") + big + "}", doc) == AuthStatus::JwtBadJson);
  }
}
