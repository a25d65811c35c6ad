// Fuzz target: the upstream side of the HTTP/1.1 pipeline, as net/downstream.cc runs it:
// response-head parser -> framing analysis -> the head relayed to the client. Differentials:
//  - resumability: the same bytes fed in growing pieces give the same result as one read;
//  - the relayed head, parsed again, is well-formed, keeps the status, frames the body the
//    way the gateway will send it, and carries no hop-by-hop header of the upstream's.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/forward.h"
#include "http/framing.h"
#include "http/headers.h"
#include "http/response_head.h"

namespace http = portcullis::http;

namespace {

constexpr size_t kMaxHeadBytes = 16384;

bool same_head(const http::ResponseHead& a, const http::ResponseHead& b) {
  if (a.status != b.status || a.reason != b.reason || a.version_minor != b.version_minor ||
      a.header_count != b.header_count || a.head_bytes != b.head_bytes) {
    return false;
  }
  for (size_t i = 0; i < a.header_count; ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return true;
}

http::HeadStatus parse_in_pieces(std::string_view buf, http::ResponseHead& out) {
  const size_t piece = std::max<size_t>(1 + buf.size() % 11, buf.size() / 32);
  size_t scan_from = 0;
  for (size_t have = std::min(piece, buf.size());; have = std::min(have + piece, buf.size())) {
    const http::HeadStatus s = http::parse_response_head(buf.substr(0, have), kMaxHeadBytes, out, scan_from);
    if (s != http::HeadStatus::Incomplete || have == buf.size()) return s;
  }
}

// The client framing net/downstream.cc picks for an upstream body.
http::ClientFraming client_framing(http::ResponseBodyKind body, bool client_1_1) {
  switch (body) {
    case http::ResponseBodyKind::None: return http::ClientFraming::None;
    case http::ResponseBodyKind::ContentLength: return http::ClientFraming::ContentLength;
    case http::ResponseBodyKind::Chunked:
    case http::ResponseBodyKind::UntilClose:
      return client_1_1 ? http::ClientFraming::Chunked : http::ClientFraming::UntilClose;
  }
  return http::ClientFraming::None;
}

void check_relayed(const http::ResponseHead& head, std::string_view method, const http::ResponseInfo& info,
                   bool client_1_1, bool close) {
  http::RelayResponse relay;
  relay.framing = client_framing(info.body, client_1_1);
  relay.content_length = info.content_length;
  relay.request_id = "0123456789abcdef0123456789abcdef";
  relay.close = close || relay.framing == http::ClientFraming::UntilClose;
  static std::string out;
  out.clear();
  http::build_client_response(head, relay, out);

  static auto again = std::make_unique<http::ResponseHead>();
  size_t scan_from = 0;
  const http::HeadStatus s = http::parse_response_head(out, out.size(), *again, scan_from);
  if (s == http::HeadStatus::Error && again->error == http::HeadError::TooManyHeaders) {
    FUZZ_CHECK(head.header_count + 3 > http::kMaxHeaders);
    return;
  }
  FUZZ_CHECK(s == http::HeadStatus::Complete);
  FUZZ_CHECK(again->head_bytes == out.size());
  FUZZ_CHECK(again->status == head.status);
  FUZZ_CHECK(again->version_minor == 1);
  FUZZ_CHECK(again->reason == (head.reason.empty() ? http::reason_phrase(head.status) : head.reason));

  http::ResponseInfo info2;
  FUZZ_CHECK(http::analyze_response(*again, method, info2));
  switch (relay.framing) {
    case http::ClientFraming::None: FUZZ_CHECK(info2.body == http::ResponseBodyKind::None); break;
    case http::ClientFraming::ContentLength:
      FUZZ_CHECK(info2.body == http::ResponseBodyKind::ContentLength && info2.content_length == info.content_length);
      break;
    case http::ClientFraming::Chunked: FUZZ_CHECK(info2.body == http::ResponseBodyKind::Chunked); break;
    case http::ClientFraming::UntilClose: FUZZ_CHECK(info2.body == http::ResponseBodyKind::UntilClose); break;
  }
  size_t request_ids = 0;
  for (size_t i = 0; i < again->header_count; ++i) {
    const http::Header& h = again->headers[i];
    if (http::iequals(h.name, "x-request-id")) {
      ++request_ids;
      FUZZ_CHECK(h.value == relay.request_id);
    } else if (http::iequals(h.name, "transfer-encoding")) {
      FUZZ_CHECK(relay.framing == http::ClientFraming::Chunked && h.value == "chunked");
    } else if (http::iequals(h.name, "connection")) {
      FUZZ_CHECK(relay.close && h.value == "close");
    } else {
      FUZZ_CHECK(!http::is_hop_by_hop(h.name));
    }
  }
  FUZZ_CHECK(request_ids == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view buf(reinterpret_cast<const char*>(data), size);
  static auto head = std::make_unique<http::ResponseHead>();
  static auto pieces = std::make_unique<http::ResponseHead>();

  size_t scan_from = 0;
  *head = http::ResponseHead{};
  const http::HeadStatus whole = http::parse_response_head(buf, kMaxHeadBytes, *head, scan_from);
  *pieces = http::ResponseHead{};
  const http::HeadStatus resumed = parse_in_pieces(buf, *pieces);
  FUZZ_CHECK(resumed == whole);
  if (whole == http::HeadStatus::Error) FUZZ_CHECK(pieces->error == head->error);
  if (whole != http::HeadStatus::Complete) return 0;
  FUZZ_CHECK(same_head(*head, *pieces));
  FUZZ_CHECK(head->status >= 100 && head->status <= 599);
  FUZZ_CHECK(head->head_bytes <= buf.size() && head->header_count <= http::kMaxHeaders);
  if (head->status < 200) return 0;  // interim responses are dropped, never relayed

  for (std::string_view method : {std::string_view("GET"), std::string_view("HEAD")}) {
    http::ResponseInfo info;
    if (!http::analyze_response(*head, method, info)) continue;
    check_relayed(*head, method, info, (size & 1) != 0, (size & 2) != 0);
  }
  return 0;
}
