#include "policy/matcher.h"

#include <limits>
#include <string>

namespace portcullis::policy {
namespace {

// Calls fn(ids) for every candidate list of `path`: the exact-path routes, then the
// path_prefix routes of each trie node along the path (root first). Each list is ascending.
template <class Fn>
void visit_candidates(const PolicySet& set, std::string_view path, Fn&& fn) {
  if (path.empty() || path.front() != '/' || set.index.nodes.empty()) return;
  if (auto it = set.index.exact.find(path); it != set.index.exact.end()) fn(it->second);
  if (path.find(';') != std::string_view::npos) {
    // Servlet containers serve /admin;x=1 as /admin: an exact route must cover it too, or
    // the request could fall through to a more permissive later route.
    thread_local std::string stripped;
    stripped.clear();
    for_each_prefix_segment(path, [&](std::string_view seg) {
      stripped += '/';
      stripped.append(seg);
      return true;
    });
    if (stripped != path) {
      if (auto it = set.index.exact.find(std::string_view(stripped)); it != set.index.exact.end()) fn(it->second);
    }
  }
  const PathIndex::Node* node = &set.index.nodes[0];
  fn(node->routes);
  for_each_prefix_segment(path, [&](std::string_view seg) {
    node = set.index.child(*node, seg);
    if (!node) return false;
    fn(node->routes);
    return true;
  });
}

void append_method(std::string& out, std::string_view m) {
  if (!out.empty()) out += ", ";
  out += m;
}

// The Allow value: slow path, only for a 405.
std::string allow_union(const PolicySet& set, std::string_view host, std::string_view path) {
  uint32_t known = 0;
  std::vector<uint32_t> ids;
  visit_candidates(set, path, [&](const std::vector<uint32_t>& list) {
    for (uint32_t id : list) {
      if (set.routes[id].host.matches(host)) ids.push_back(id);
    }
  });
  std::sort(ids.begin(), ids.end());
  std::vector<std::string_view> extension;
  for (uint32_t id : ids) {
    const MethodSet& m = set.routes[id].methods;
    known |= m.known;
    for (const auto& e : m.extension) {
      if (std::find(extension.begin(), extension.end(), e) == extension.end()) extension.push_back(e);
    }
  }
  std::string out;
  for (size_t i = 0; i < std::size(kKnownMethods); ++i) {
    if (known & (uint32_t{1} << i)) append_method(out, kKnownMethods[i]);
  }
  for (auto e : extension) append_method(out, e);
  return out;
}

}  // namespace

std::string_view to_string(MatchResult::Status status) {
  switch (status) {
    case MatchResult::Status::Matched: return "matched";
    case MatchResult::Status::MethodNotAllowed: return "method_not_allowed";
    case MatchResult::Status::NoRoute: return "no_route";
  }
  return "unknown";
}

MatchResult match(const PolicySet& set, std::string_view host_header, std::string_view method,
                  std::string_view normalized_path) {
  const std::string_view host = request_host(host_header);
  const uint32_t bit = method_bit(method);
  uint32_t best = std::numeric_limits<uint32_t>::max();
  bool path_hit = false;  // some route matched host and path (but maybe not the method)

  visit_candidates(set, normalized_path, [&](const std::vector<uint32_t>& ids) {
    for (uint32_t id : ids) {
      if (id >= best) return;  // ascending: nothing later in this list can win
      const Route& r = set.routes[id];
      if (!r.host.matches(host)) continue;
      path_hit = true;
      if (r.methods.allows(method, bit)) {
        best = id;
        return;
      }
    }
  });

  MatchResult result;
  if (best != std::numeric_limits<uint32_t>::max()) {
    result.status = MatchResult::Status::Matched;
    result.route = &set.routes[best];
    result.route_id = best;
  } else if (path_hit) {
    result.status = MatchResult::Status::MethodNotAllowed;
    result.allow = allow_union(set, host, normalized_path);
  }
  return result;
}

}  // namespace portcullis::policy
