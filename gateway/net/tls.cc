#include "net/tls.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cstring>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log/log.h"

namespace portcullis::net {
namespace {

// TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3 suites are all of that already).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// The thread's OpenSSL error queue as one line (and emptied).
std::string drain_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

SslContext own(SSL_CTX* ctx) { return SslContext(ctx, SSL_CTX_free); }

// What both sides share: protocol floor, ciphers, and the options that turn off features
// with a history (renegotiation, compression).
bool apply_common_policy(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return false;
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return false;
  // SSL_OP_IGNORE_UNEXPECTED_EOF: a peer that closes TCP without close_notify ends the stream
  // like a plain EOF (as nginx does); HTTP framing, not TLS, says whether a message is whole.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Idle keep-alive connections should not hold 2 x 16 KiB of record buffers each.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return true;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnHttp11, sizeof kAlpnHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no ALPN in the answer: the client falls back to HTTP/1.1 or gives up
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

Result<SslContext> make_listener_tls(const ListenTls& files) {
  ERR_clear_error();
  SslContext ctx = own(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Error{"cannot create a TLS context: " + drain_errors()};
  if (!apply_common_policy(ctx.get())) return Error{"cannot set the TLS policy: " + drain_errors()};
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert_file.c_str()) != 1) {
    return Error{"cannot load the certificate chain " + files.cert_file + ": " + drain_errors()};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return Error{"the private key " + files.key_file + " does not match the certificate " + files.cert_file};
    }
    return Error{"cannot load the private key " + files.key_file + ": " + drain_errors()};
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Error{"the private key " + files.key_file + " does not match the certificate " + files.cert_file};
  }
  static const unsigned char kSessionContext[] = "portcullis";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  // Resumption through session tickets only: a server-side session cache would grow with the
  // number of distinct clients.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
  return ctx;
}

Result<SslContext> make_upstream_tls(const std::string& ca_file) {
  ERR_clear_error();
  SslContext ctx = own(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Error{"cannot create a TLS context: " + drain_errors()};
  if (!apply_common_policy(ctx.get())) return Error{"cannot set the TLS policy: " + drain_errors()};
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      return Error{"cannot load the system trust store: " + drain_errors()};
    }
  } else if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    return Error{"cannot load the CA file " + ca_file + ": " + drain_errors()};
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpnHttp11, sizeof kAlpnHttp11);
  return ctx;
}

ssl_st* new_upstream_ssl(ssl_ctx_st* ctx, const std::string& server_name) {
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return nullptr;
  bool ok;
  if (is_ip_literal(server_name)) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str()) == 1;
  } else {
    ok = SSL_set_tlsext_host_name(ssl, server_name.c_str()) == 1 && SSL_set1_host(ssl, server_name.c_str()) == 1;
  }
  if (!ok) {
    SSL_free(ssl);
    return nullptr;
  }
  return ssl;
}

bool failed_on_plain_http(bufferevent* bev) {
  bool plain = false;
  while (unsigned long e = bufferevent_get_openssl_error(bev)) {
    if (ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST) plain = true;
  }
  return plain;
}

std::string handshake_failure(bufferevent* bev) {
  std::string out;
  SSL* ssl = bufferevent_openssl_get_ssl(bev);
  while (unsigned long e = bufferevent_get_openssl_error(bev)) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  if (ssl != nullptr) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      if (!out.empty()) out += "; ";
      out += X509_verify_cert_error_string(verify);
    }
  }
  return out.empty() ? "connection refused or closed before the handshake completed" : out;
}

FileStamp stamp_file(const std::string& path) {
  FileStamp s;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.device = st.st_dev;
  s.inode = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return s;
}

Result<SslContext> ListenerTlsReloader::load() {
  // Stamped before reading: a write that lands while we read is seen as a change next time.
  cert_stamp_ = stamp_file(files_.cert_file);
  key_stamp_ = stamp_file(files_.key_file);
  return make_listener_tls(files_);
}

SslContext ListenerTlsReloader::poll() {
  FileStamp cert = stamp_file(files_.cert_file);
  FileStamp key = stamp_file(files_.key_file);
  if (cert == cert_stamp_ && key == key_stamp_) return nullptr;
  Result<SslContext> ctx = load();
  if (!ctx) {
    log::error("TLS certificate reload failed; still serving the previous certificate",
               {log::str("cert_file", files_.cert_file), log::str("key_file", files_.key_file),
                log::str("error", ctx.error().message)});
    return nullptr;
  }
  log::info("TLS certificate reloaded", {log::str("cert_file", files_.cert_file)});
  return std::move(ctx.value());
}

}  // namespace portcullis::net
