// TLS for the connection machinery (OpenSSL 3 under libevent's bufferevent_openssl): the
// listener's server context, re-read when its certificate files change, and the client
// contexts of https upstreams. Only net/ sees OpenSSL's SSL types.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "net/settings.h"

struct ssl_st;  // OpenSSL's SSL
struct bufferevent;

namespace portcullis::net {

using SslContext = std::shared_ptr<ssl_ctx_st>;

// A server context for the public listener: TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers,
// no renegotiation, no compression, ALPN http/1.1. The chain and key must load and match.
Result<SslContext> make_listener_tls(const ListenTls& files);

// A client context for https upstreams: peer verification against `ca_file` (empty: the
// system trust store), TLS 1.2+, the same cipher policy, ALPN http/1.1.
Result<SslContext> make_upstream_tls(const std::string& ca_file);

// A client SSL for one upstream connection, checking the certificate against `server_name`
// (a DNS name or an IP literal) and sending it as SNI when it is a DNS name (RFC 6066 §3
// forbids IP literals there). nullptr if OpenSSL cannot allocate it.
ssl_st* new_upstream_ssl(ssl_ctx_st* ctx, const std::string& server_name);

// True when an upstream/downstream TLS bufferevent failed because the peer spoke plain HTTP
// (OpenSSL's "http request" handshake error). Consumes the bufferevent's error queue.
bool failed_on_plain_http(bufferevent* bev);

// The reason of a failed upstream handshake, e.g. "certificate verify failed: self-signed
// certificate" (for logs). Consumes the bufferevent's error queue.
std::string handshake_failure(bufferevent* bev);

// What `stat` says about a file: a change of any of these means the file was rewritten or
// replaced (a Kubernetes secret update swaps a symlink, which `stat` follows).
struct FileStamp {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
FileStamp stamp_file(const std::string& path);

// Watches the listener's certificate and key. poll() is cheap when nothing changed (two
// stats); when either file changed since the last look it loads the pair and returns the new
// context, or logs why it could not and returns null (the caller keeps serving with the
// context it has, and the pair is tried again when a file changes again).
class ListenerTlsReloader {
 public:
  explicit ListenerTlsReloader(ListenTls files) : files_(std::move(files)) {}

  // The first load; errors are start-up errors.
  Result<SslContext> load();
  SslContext poll();

 private:
  ListenTls files_;
  FileStamp cert_stamp_;
  FileStamp key_stamp_;
};

}  // namespace portcullis::net
