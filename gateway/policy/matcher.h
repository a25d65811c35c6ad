// Request -> route (PRODUCT.md "Policy files": first route in file order wins). Uses the
// PolicySet's compiled index, so the cost follows the path's length rather than the number of
// routes, and a successful match allocates nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/model.h"

namespace portcullis::policy {

struct MatchResult {
  enum class Status { Matched, MethodNotAllowed, NoRoute } status = Status::NoRoute;
  const Route* route = nullptr;  // Matched only; points into the PolicySet
  uint32_t route_id = 0;         // Matched only: the route's index in PolicySet::routes
  // MethodNotAllowed only: the value for `Allow`, the union of the methods of every route
  // whose host and path matched, known methods in kKnownMethods order then extension
  // methods in route order ("GET, HEAD"). Built only on that error path.
  std::string allow;

  bool matched() const { return status == Status::Matched; }
};

// `host`: the Host header value as received (port, brackets and a trailing dot are ignored;
// compared case-insensitively). `method`: as received (case-sensitive). `normalized_path`: the
// output of http::normalize_path, without the query (the query never takes part).
MatchResult match(const PolicySet& set, std::string_view host, std::string_view method,
                  std::string_view normalized_path);

std::string_view to_string(MatchResult::Status status);

}  // namespace portcullis::policy
