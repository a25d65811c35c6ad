#include "net/tls.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace portcullis::net {
namespace {

// A temporary directory removed with its files.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/portcullis-tls-unit-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

void write_text(const std::string& path, const std::string& text) {
  // Replace, not rewrite in place: a new inode, as a Kubernetes secret update makes.
  std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
  REQUIRE(std::rename(tmp.c_str(), path.c_str()) == 0);
}

struct Pem {
  std::string cert, key;
};

// A self-signed P-256 certificate for `cn` and its key, as PEM.
Pem make_pair(const char* cn) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                          EVP_PKEY_free);
  REQUIRE(key);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(std::rand()) + 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  auto to_pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    write(bio.get());
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
  };
  Pem out;
  out.cert = to_pem([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); });
  out.key = to_pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  return out;
}

std::string subject_cn(const SslContext& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx.get());
  REQUIRE(cert != nullptr);
  char buf[128] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

TEST_CASE("listener context: loads a matching pair and enforces the TLS policy") {
  TempDir dir;
  Pem a = make_pair("a.test");
  ListenTls files{dir.file("tls.crt"), dir.file("tls.key")};
  write_text(files.cert_file, a.cert);
  write_text(files.key_file, a.key);
  Result<SslContext> ctx = make_listener_tls(files);
  REQUIRE_MESSAGE(ctx.ok(), (ctx.ok() ? "" : ctx.error().message));
  CHECK(SSL_CTX_get_min_proto_version(ctx->get()) == TLS1_2_VERSION);
  const uint64_t options = SSL_CTX_get_options(ctx->get());
  CHECK((options & SSL_OP_NO_RENEGOTIATION) != 0);
  CHECK((options & SSL_OP_NO_COMPRESSION) != 0);
  CHECK(subject_cn(*ctx) == "a.test");

  // Every TLS 1.2 suite left is ECDHE with an AEAD.
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx->get()), SSL_free);
  STACK_OF(SSL_CIPHER)* ciphers = SSL_get1_supported_ciphers(ssl.get());
  REQUIRE(ciphers != nullptr);
  CHECK(sk_SSL_CIPHER_num(ciphers) > 0);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    std::string name = SSL_CIPHER_get_name(c);
    CAPTURE(name);
    CHECK(SSL_CIPHER_is_aead(c) == 1);
    if (std::string(SSL_CIPHER_get_version(c)) != "TLSv1.3") CHECK(name.rfind("ECDHE-", 0) == 0);
  }
  sk_SSL_CIPHER_free(ciphers);
}

TEST_CASE("listener context: unusable files are errors that name the file") {
  TempDir dir;
  Pem a = make_pair("a.test"), b = make_pair("b.test");
  ListenTls files{dir.file("tls.crt"), dir.file("tls.key")};
  struct Row {
    const char* name;
    std::string cert, key;
    const char* expected;
  } rows[] = {
      {"missing certificate", "", a.key, "certificate chain"},
      {"garbage certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", a.key,
       "certificate chain"},
      {"garbage key", a.cert, "not a key", "private key"},
      {"key of another certificate", a.cert, b.key, "does not match"},
  };
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      ::unlink(files.cert_file.c_str());
      if (!row.cert.empty()) write_text(files.cert_file, row.cert);
      write_text(files.key_file, row.key);
      Result<SslContext> ctx = make_listener_tls(files);
      REQUIRE_FALSE(ctx.ok());
      CHECK(ctx.error().message.find(row.expected) != std::string::npos);
    }
  }
}

TEST_CASE("reloader: a changed pair is loaded, a broken one keeps the old, a repaired one is loaded") {
  TempDir dir;
  Pem a = make_pair("a.test"), b = make_pair("b.test"), c = make_pair("c.test");
  ListenTls files{dir.file("tls.crt"), dir.file("tls.key")};
  write_text(files.cert_file, a.cert);
  write_text(files.key_file, a.key);
  ListenerTlsReloader reloader(files);
  Result<SslContext> first = reloader.load();
  REQUIRE(first.ok());
  CHECK(subject_cn(*first) == "a.test");
  CHECK(reloader.poll() == nullptr);  // nothing changed

  write_text(files.cert_file, b.cert);
  write_text(files.key_file, b.key);
  SslContext second = reloader.poll();
  REQUIRE(second != nullptr);
  CHECK(subject_cn(second) == "b.test");
  CHECK(reloader.poll() == nullptr);

  // Half a rotation (the new certificate, the old key) is refused, and not retried until a
  // file changes again.
  write_text(files.cert_file, c.cert);
  CHECK(reloader.poll() == nullptr);
  CHECK(reloader.poll() == nullptr);
  write_text(files.key_file, c.key);
  SslContext third = reloader.poll();
  REQUIRE(third != nullptr);
  CHECK(subject_cn(third) == "c.test");

  // A vanished file is a failed load too.
  ::unlink(files.key_file.c_str());
  CHECK(reloader.poll() == nullptr);
}

TEST_CASE("file stamps tell a rewritten file from an untouched one") {
  TempDir dir;
  std::string path = dir.file("f");
  CHECK_FALSE(stamp_file(path).exists);
  write_text(path, "one");
  FileStamp s1 = stamp_file(path);
  CHECK(s1.exists);
  CHECK(stamp_file(path) == s1);
  write_text(path, "two");  // same size, new inode
  CHECK_FALSE(stamp_file(path) == s1);
}

TEST_CASE("upstream context verifies peers; SSLs carry SNI for names and none for IP literals") {
  TempDir dir;
  Pem a = make_pair("a.test");
  write_text(dir.file("ca.pem"), a.cert);
  Result<SslContext> ctx = make_upstream_tls(dir.file("ca.pem"));
  REQUIRE(ctx.ok());
  CHECK(SSL_CTX_get_verify_mode(ctx->get()) == SSL_VERIFY_PEER);
  CHECK(SSL_CTX_get_min_proto_version(ctx->get()) == TLS1_2_VERSION);

  std::unique_ptr<SSL, decltype(&SSL_free)> named(new_upstream_ssl(ctx->get(), "api.internal"), SSL_free);
  REQUIRE(named);
  CHECK(std::string(SSL_get_servername(named.get(), TLSEXT_NAMETYPE_host_name)) == "api.internal");
  CHECK(std::string(SSL_get0_peername(named.get()) ? SSL_get0_peername(named.get()) : "") == "");
  std::unique_ptr<SSL, decltype(&SSL_free)> ip(new_upstream_ssl(ctx->get(), "127.0.0.1"), SSL_free);
  REQUIRE(ip);
  CHECK(SSL_get_servername(ip.get(), TLSEXT_NAMETYPE_host_name) == nullptr);

  CHECK_FALSE(make_upstream_tls(dir.file("missing.pem")).ok());
  CHECK(make_upstream_tls("").ok());  // the system trust store
}

}  // namespace
}  // namespace portcullis::net
