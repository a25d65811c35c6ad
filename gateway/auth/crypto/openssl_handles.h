// RAII owners for the OpenSSL handles used inside auth/crypto, and the few constants and
// helpers its files share (internal header).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <openssl/err.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "core/result.h"

namespace portcullis::auth::crypto::ossl {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

// Smallest RSA modulus accepted anywhere (JWKS keys and signing keys alike).
inline constexpr int kMinRsaBits = 2048;
inline constexpr std::size_t kEd25519KeySize = 32;

inline const unsigned char* bytes(std::string_view v) { return reinterpret_cast<const unsigned char*>(v.data()); }

// Every failure clears OpenSSL's thread-local error queue: the message returned is our own
// (OpenSSL's can quote PEM lines), and no stale error leaks into later TLS calls.
inline Error fail(std::string why) {
  ERR_clear_error();
  return Error{std::move(why)};
}

}  // namespace portcullis::auth::crypto::ossl
