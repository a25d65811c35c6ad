#include "net/websocket.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "http/headers.h"

namespace portcullis::net::websocket {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// The base64 of 16 bytes: 22 alphabet characters, then "==" (§4.1: "randomly selected 16-byte
// value that has been base64-encoded"). The last character carries 2 bits, so its low 4 bits
// are zero in the canonical encoding.
bool is_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  static constexpr std::string_view kLastChars = "AQgw";  // values 0, 16, 32, 48
  return kLastChars.find(key[21]) != std::string_view::npos;
}

template <class Head>
bool header_lists(const Head& head, std::string_view name, std::string_view token) {
  for (size_t i = 0; i < head.header_count; ++i) {
    if (http::iequals(head.headers[i].name, name) && http::list_contains_token(head.headers[i].value, token)) return true;
  }
  return false;
}

// The value of a header that must occur exactly once; empty when absent or repeated.
template <class Head>
std::string_view single_header(const Head& head, std::string_view name) {
  std::string_view value;
  size_t count = 0;
  for (size_t i = 0; i < head.header_count; ++i) {
    if (http::iequals(head.headers[i].name, name)) {
      value = head.headers[i].value;
      ++count;
    }
  }
  return count == 1 ? value : std::string_view();
}

template <class Head>
bool named_by_connection(const Head& head, std::string_view name) {
  return header_lists(head, "connection", name);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

std::string_view upgrade_key(const http::RequestHead& head, const http::RequestInfo& info) {
  if (info.upgrade.empty() || head.method != "GET" || head.version_minor < 1 || info.body != http::BodyKind::None) {
    return {};
  }
  if (!header_lists(head, "upgrade", "websocket") || !header_lists(head, "connection", "upgrade")) return {};
  if (single_header(head, "sec-websocket-version") != "13") return {};
  std::string_view key = single_header(head, "sec-websocket-key");
  return is_key(key) ? key : std::string_view();
}

std::string accept_for(std::string_view key) {
  std::string input(key);
  input.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr);
  char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded), digest, static_cast<int>(digest_len));
  return std::string(encoded, static_cast<size_t>(n));
}

bool valid_switch(const http::ResponseHead& response, std::string_view key) {
  if (response.status != 101) return false;
  std::string_view upgrade = single_header(response, "upgrade");
  if (!http::iequals(http::trim_ows(upgrade), "websocket")) return false;
  if (!header_lists(response, "connection", "upgrade")) return false;
  return single_header(response, "sec-websocket-accept") == accept_for(key);
}

void add_upgrade_headers(std::string& upstream_head) {
  // build_upstream_request ends the head with the empty line: put ours before it.
  if (upstream_head.size() >= 2 && upstream_head.ends_with("\r\n\r\n")) upstream_head.resize(upstream_head.size() - 2);
  upstream_head.append("Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
}

void build_switch_response(const http::ResponseHead& response, std::string_view request_id, std::string& out) {
  out.append("HTTP/1.1 101 Switching Protocols\r\n");
  for (size_t i = 0; i < response.header_count; ++i) {
    const http::Header& h = response.headers[i];
    if (http::is_hop_by_hop(h.name) || http::iequals(h.name, "x-request-id") ||
        http::iequals(h.name, "content-length")) {
      continue;
    }
    if (named_by_connection(response, h.name)) continue;
    append_header(out, h.name, h.value);
  }
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Upgrade", "websocket");
  append_header(out, "X-Request-Id", request_id);
  out.append("\r\n");
}

}  // namespace portcullis::net::websocket
