#include "http/headers.h"

#include "core/ascii.h"
#include "http/chars.h"

namespace portcullis::http {

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool same_header_name_loose(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  auto fold = [](char c) { return c == '_' ? '-' : ascii_lower(c); };
  for (size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

bool is_hop_by_hop(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "http2-settings",
  };
  for (std::string_view n : kNames) {
    if (iequals(name, n)) return true;
  }
  return istarts_with(name, "proxy-");
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && chars::is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && chars::is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool list_contains_token(std::string_view comma_list, std::string_view token) {
  bool found = false;
  for_each_list_element(comma_list, [&](std::string_view element) {
    if (!found && iequals(element, token)) found = true;
  });
  return found;
}

}  // namespace portcullis::http
