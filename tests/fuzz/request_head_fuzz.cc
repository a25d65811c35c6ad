// Fuzz target: the client side of the HTTP/1.1 pipeline, as net/downstream.cc runs it:
// request-head parser -> framing analysis -> path normalization -> the head forwarded
// upstream. Differentials:
//  - resumability: the same bytes fed in growing pieces give the same result as one read;
//  - the forwarded head, parsed again, is well-formed and means the same request: method,
//    canonical target, body framing, Host; no hop-by-hop or client-supplied identity header
//    survives, ours appear once, and every client header that is kept is byte-for-byte
//    what the client sent (the upstream never sees framing the gateway parsed differently).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/forward.h"
#include "http/framing.h"
#include "http/headers.h"
#include "http/path.h"
#include "http/request_head.h"

namespace http = portcullis::http;

namespace {

constexpr size_t kMaxHeadBytes = 16384;  // the default limits.max_header_bytes

bool inside(std::string_view buf, std::string_view part) {
  if (part.empty()) return true;
  return part.data() >= buf.data() && part.data() + part.size() <= buf.data() + buf.size();
}

bool same_head(const http::RequestHead& a, const http::RequestHead& b) {
  if (a.method != b.method || a.target != b.target || a.version_minor != b.version_minor ||
      a.header_count != b.header_count || a.head_bytes != b.head_bytes) {
    return false;
  }
  for (size_t i = 0; i < a.header_count; ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return true;
}

// The same buffer arriving in pieces, the parser resumed with its scan_from hint each time.
http::HeadStatus parse_in_pieces(std::string_view buf, size_t max, http::RequestHead& out) {
  const size_t piece = std::max<size_t>(1 + buf.size() % 13, buf.size() / 32);
  size_t scan_from = 0;
  for (size_t have = std::min(piece, buf.size());; have = std::min(have + piece, buf.size())) {
    const http::HeadStatus s = http::parse_request_head(buf.substr(0, have), max, out, scan_from);
    if (s != http::HeadStatus::Incomplete || have == buf.size()) return s;
  }
}

void check_parsed(std::string_view buf, const http::RequestHead& head) {
  FUZZ_CHECK(head.error == http::HeadError::None);
  FUZZ_CHECK(head.head_bytes <= buf.size() && head.head_bytes <= kMaxHeadBytes);
  FUZZ_CHECK(head.header_count <= http::kMaxHeaders);
  FUZZ_CHECK(!head.method.empty() && !head.target.empty());
  FUZZ_CHECK(inside(buf.substr(0, head.head_bytes), head.method) && inside(buf.substr(0, head.head_bytes), head.target));
  for (size_t i = 0; i < head.header_count; ++i) {
    const http::Header& h = head.headers[i];
    FUZZ_CHECK(!h.name.empty());
    FUZZ_CHECK(inside(buf, h.name) && inside(buf, h.value));
    FUZZ_CHECK(h.name.find_first_of(":\r\n \t") == std::string_view::npos);
    FUZZ_CHECK(h.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    FUZZ_CHECK(http::trim_ows(h.value) == h.value);
  }
}

bool is_ours(std::string_view name, const std::vector<http::HeaderField>& inject) {
  static constexpr std::string_view kAdded[] = {"host",           "x-forwarded-for", "x-forwarded-proto",
                                                "x-forwarded-host", "x-request-id",   "content-length",
                                                "transfer-encoding"};
  for (std::string_view n : kAdded) {
    if (http::iequals(name, n)) return true;
  }
  for (const auto& f : inject) {
    if (http::iequals(name, f.name)) return true;
  }
  return false;
}

// What the upstream receives, parsed back with the same strict parser.
void check_forwarded(const http::RequestHead& head, const http::RequestInfo& info, std::string_view path,
                     bool strip_authorization) {
  static const std::vector<std::string> strip_loose = {"X-Auth-Subject", "X-Auth-Issuer", "X-Auth-Scopes",
                                                       "X-Auth-Email"};
  static const std::vector<http::HeaderField> inject = {{"X-Auth-Subject", "alice"},
                                                        {"X-Auth-Issuer", "https://auth.example.com"},
                                                        {"X-Auth-Scopes", "orders:read"}};
  http::ForwardRequest fr;
  fr.path = path;
  fr.query = info.query;
  fr.has_query = info.has_query;
  fr.host = info.host.empty() ? std::string_view("127.0.0.1:9000") : info.host;
  fr.client_ip = "192.0.2.7";
  fr.proto = "http";
  fr.request_id = "0123456789abcdef0123456789abcdef";
  fr.strip_loose = &strip_loose;
  fr.strip_authorization = strip_authorization;
  fr.inject = inject;
  fr.body = info.body;
  fr.content_length = info.content_length;
  static std::string out;
  out.clear();
  http::build_upstream_request(head, fr, out);

  static auto again = std::make_unique<http::RequestHead>();
  size_t scan_from = 0;
  const http::HeadStatus s = http::parse_request_head(out, out.size(), *again, scan_from);
  if (s == http::HeadStatus::Error && again->error == http::HeadError::TooManyHeaders) {
    // 100 client headers plus ours: the upstream's own limit, not a framing disagreement.
    FUZZ_CHECK(head.header_count + 7 > http::kMaxHeaders);
    return;
  }
  FUZZ_CHECK(s == http::HeadStatus::Complete);
  FUZZ_CHECK(again->head_bytes == out.size());
  FUZZ_CHECK(again->method == head.method);
  FUZZ_CHECK(again->version_minor == 1);
  std::string target(path);
  if (info.has_query) target.append("?").append(info.query);
  FUZZ_CHECK(again->target == target);

  http::RequestInfo info2;
  const http::Verdict v = http::analyze_request(*again, info2);
  FUZZ_CHECK(v.ok());
  FUZZ_CHECK(info2.body == info.body);
  FUZZ_CHECK(info2.content_length == info.content_length);
  FUZZ_CHECK(info2.path == path && info2.query == info.query && info2.has_query == info.has_query);
  FUZZ_CHECK(info2.host == fr.host);
  FUZZ_CHECK(!info2.expect_continue && info2.upgrade.empty());
  FUZZ_CHECK((info2.authorization != nullptr) == (info.authorization != nullptr && !strip_authorization));

  size_t injected_seen[3] = {0, 0, 0};
  size_t client_at = 0;  // kept client headers are a subsequence of the client's, in order
  for (size_t i = 0; i < again->header_count; ++i) {
    const http::Header& h = again->headers[i];
    if (http::iequals(h.name, "transfer-encoding")) {
      FUZZ_CHECK(info.body == http::BodyKind::Chunked && h.value == "chunked");
      continue;
    }
    FUZZ_CHECK(!http::is_hop_by_hop(h.name));
    bool loose_identity = false;
    for (size_t k = 0; k < strip_loose.size(); ++k) {
      if (!http::same_header_name_loose(h.name, strip_loose[k])) continue;
      loose_identity = true;
      FUZZ_CHECK(k < 3 && h.name == inject[k].name && h.value == inject[k].value);
      ++injected_seen[k];
    }
    if (loose_identity || is_ours(h.name, inject)) continue;
    while (client_at < head.header_count &&
           (head.headers[client_at].name != h.name || head.headers[client_at].value != h.value)) {
      ++client_at;
    }
    FUZZ_CHECK(client_at < head.header_count);
    ++client_at;
  }
  for (size_t seen : injected_seen) FUZZ_CHECK(seen == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view buf(reinterpret_cast<const char*>(data), size);
  // RequestHead holds 100 header views: keep it off the stack, as the connection does.
  static auto head = std::make_unique<http::RequestHead>();
  static auto pieces = std::make_unique<http::RequestHead>();

  size_t scan_from = 0;
  *head = http::RequestHead{};
  const http::HeadStatus whole = http::parse_request_head(buf, kMaxHeadBytes, *head, scan_from);
  FUZZ_CHECK(!http::to_string(head->error).empty());
  if (whole == http::HeadStatus::Error) {
    const int status = http::http_status_for(head->error);
    FUZZ_CHECK(status == 400 || status == 431 || status == 505);
  }

  *pieces = http::RequestHead{};
  const http::HeadStatus resumed = parse_in_pieces(buf, kMaxHeadBytes, *pieces);
  FUZZ_CHECK(resumed == whole);
  if (whole == http::HeadStatus::Error) FUZZ_CHECK(pieces->error == head->error);
  if (whole == http::HeadStatus::Incomplete) FUZZ_CHECK(buf.size() <= kMaxHeadBytes);
  if (whole != http::HeadStatus::Complete) return 0;
  FUZZ_CHECK(same_head(*head, *pieces));
  check_parsed(buf, *head);

  // net/downstream.cc from here on: framing, then the path, then the query.
  http::RequestInfo info;
  const http::Verdict verdict = http::analyze_request(*head, info);
  if (!verdict.ok()) {
    FUZZ_CHECK(verdict.status >= 400 && verdict.status <= 505 && !verdict.reason.empty());
    return 0;
  }
  if (info.path.empty() || info.path == "*") return 0;
  static std::string normalized;
  std::string_view path = info.path;
  if (http::path_needs_normalization(info.path)) {
    if (http::normalize_path(info.path, normalized) != http::PathError::None) return 0;
    path = normalized;
  }
  if (info.has_query && !http::query_is_valid(info.query)) return 0;
  check_forwarded(*head, info, path, (size & 1) != 0);
  return 0;
}
