#include <doctest/doctest.h>

#include <set>
#include <string>

#include "auth/status.h"

using portcullis::auth::AuthStatus;

TEST_CASE("every AuthStatus has a distinct metric label and a safe description") {
  std::set<std::string> labels;
  const int last = static_cast<int>(AuthStatus::IntrospectionFailed);
  for (int i = 0; i <= last; ++i) {
    const auto st = static_cast<AuthStatus>(i);
    CAPTURE(i);
    const auto label = portcullis::auth::to_string(st);
    const auto words = portcullis::auth::describe(st);
    CHECK(label != "unknown");
    CHECK(!label.empty());
    CHECK(!words.empty());
    CHECK(words != "invalid token");  // the fallback: every value has its own words
    for (char c : label) CHECK(((c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9')));
    // describe() ends up inside a quoted-string in WWW-Authenticate.
    for (char c : words) CHECK((c >= 0x20 && c < 0x7F && c != '"' && c != '\\'));
    labels.insert(std::string(label));
  }
  CHECK(labels.size() == static_cast<size_t>(last + 1));
  CHECK(portcullis::auth::to_string(AuthStatus::JwtExpired) == "jwt_expired");
  CHECK(portcullis::auth::to_string(AuthStatus::Ok) == "ok");
}
