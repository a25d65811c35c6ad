// Helpers shared by the auth unit tests: minting unsigned compact JWS strings and locating
// the shared Wycheproof test data.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "auth/base64url.h"

namespace portcullis::auth::testing {

// header.payload.signature with each part base64url-encoded (no real signature).
inline std::string make_jws(std::string_view header_json, std::string_view payload_json,
                            std::string_view signature = "not-a-real-signature") {
  return base64url_encode(header_json) + "." + base64url_encode(payload_json) + "." + base64url_encode(signature);
}

// $PORTCULLIS_TESTDATA, else $PORTCULLIS_TESTDATA_DEFAULT (set by ctest), else
// ../shared/testdata from the working directory, else the same path next to the repo.
inline std::optional<std::filesystem::path> testdata_dir() {
  namespace fs = std::filesystem;
  for (const char* var : {"PORTCULLIS_TESTDATA", "PORTCULLIS_TESTDATA_DEFAULT"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0' && fs::is_directory(v)) return fs::path(v);
  }
  if (fs::is_directory("../shared/testdata")) return fs::path("../shared/testdata");
  // tests/unit/auth/<this file> -> repo root is three levels up; shared/ is its sibling.
  const fs::path here = fs::path(__FILE__).parent_path();
  const fs::path beside_repo = here / ".." / ".." / ".." / ".." / "shared" / "testdata";
  if (fs::is_directory(beside_repo)) return beside_repo;
  return std::nullopt;
}

inline std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace portcullis::auth::testing
