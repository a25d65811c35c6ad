// Test helpers for unit_cli: captured output streams, a scratch directory, token decoding.
#pragma once

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "auth/base64url.h"
#include "auth/json.h"

namespace portcullis::cli::testing {

// A FILE* whose contents can be read back (open_memstream).
class Capture {
 public:
  Capture() : file_(open_memstream(&buf_, &len_)) {}
  ~Capture() {
    std::fclose(file_);
    std::free(buf_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  std::FILE* file() { return file_; }
  std::string str() {
    std::fflush(file_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  std::size_t len_ = 0;
  std::FILE* file_;
};

// A fresh directory under /tmp, removed (only it) when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/portcullis-cli-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

struct DecodedToken {
  rapidjson::Document header;
  rapidjson::Document payload;
  std::string signing_input;
  std::string signature;
};

inline DecodedToken decode(std::string_view token) {
  DecodedToken d;
  const std::size_t a = token.find('.');
  const std::size_t b = token.find('.', a + 1);
  REQUIRE(a != std::string_view::npos);
  REQUIRE(b != std::string_view::npos);
  REQUIRE(token.find('.', b + 1) == std::string_view::npos);
  std::string header, payload;
  REQUIRE(auth::base64url_decode(token.substr(0, a), header));
  REQUIRE(auth::base64url_decode(token.substr(a + 1, b - a - 1), payload));
  REQUIRE(auth::base64url_decode(token.substr(b + 1), d.signature));
  REQUIRE(auth::parse_json_object(header, d.header) == auth::AuthStatus::Ok);
  REQUIRE(auth::parse_json_object(payload, d.payload) == auth::AuthStatus::Ok);
  d.signing_input = std::string(token.substr(0, b));
  return d;
}

inline std::string str(const rapidjson::Value& obj, const char* name) {
  REQUIRE(obj.HasMember(name));
  REQUIRE(obj[name].IsString());
  return {obj[name].GetString(), obj[name].GetStringLength()};
}

// Member names in document order (to check header layout).
inline std::vector<std::string> names(const rapidjson::Value& obj) {
  std::vector<std::string> out;
  for (const auto& m : obj.GetObject()) out.emplace_back(m.name.GetString(), m.name.GetStringLength());
  return out;
}

}  // namespace portcullis::cli::testing
