#include "auth/crypto/verify_template.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

#include <array>

#include "auth/crypto/openssl_handles.h"

namespace portcullis::auth::crypto {

const EVP_MD* digest(Hash hash) {
  // An explicit fetch, kept for the life of the process.
  static const std::array<EVP_MD*, 3> mds = {EVP_MD_fetch(nullptr, "SHA256", nullptr),
                                             EVP_MD_fetch(nullptr, "SHA384", nullptr),
                                             EVP_MD_fetch(nullptr, "SHA512", nullptr)};
  return hash == Hash::None ? nullptr : mds[static_cast<int>(hash)];
}

EVP_MD_CTX* new_verify_template(Alg alg, EVP_PKEY* pkey) {
  const AlgTraits t = traits(alg);
  const EVP_MD* md = digest(t.hash);
  if (t.hash != Hash::None && md == nullptr) return nullptr;
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) == 1;
  if (ok && t.family == Family::RsaPss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, static_cast<int>(t.hash_size)) == 1;
  }
  // Copies finalise in place instead of duplicating the context once more in Final.
  if (ok) EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  // Prove once, at load time, that the context can be copied as every request will.
  ossl::MdCtx probe(ok ? EVP_MD_CTX_new() : nullptr);
  ok = ok && probe && EVP_MD_CTX_copy_ex(probe.get(), ctx.get()) == 1;
  if (!ok) {
    ERR_clear_error();
    return nullptr;
  }
  return ctx.release();
}

}  // namespace portcullis::auth::crypto
