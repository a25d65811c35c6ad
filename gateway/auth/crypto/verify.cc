#include "auth/crypto/verify.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <array>

#include "auth/crypto/alg_traits.h"
#include "auth/crypto/curves.h"
#include "auth/crypto/ecdsa_der.h"
#include "auth/crypto/openssl_handles.h"
#include "auth/crypto/verify_template.h"

namespace portcullis::auth::crypto {
namespace {

using ossl::bytes;

// One context per thread; each verification copies the key's prepared template into it and
// resets it afterwards (dropping the key reference), so it never outlives a call's state.
EVP_MD_CTX* thread_md_ctx() {
  thread_local ossl::MdCtx ctx(EVP_MD_CTX_new());
  return ctx.get();
}

AuthStatus digest_verify(const EVP_MD_CTX* prepared, std::string_view input, const unsigned char* sig,
                         std::size_t sig_size) {
  EVP_MD_CTX* ctx = thread_md_ctx();
  if (ctx == nullptr || prepared == nullptr) return AuthStatus::JwtSignatureInvalid;  // fail closed
  int ok = EVP_MD_CTX_copy_ex(ctx, prepared);
  if (ok == 1) ok = EVP_DigestVerify(ctx, sig, sig_size, bytes(input), input.size());
  EVP_MD_CTX_reset(ctx);
  if (ok != 1) {
    ERR_clear_error();  // a failed verify must not leave errors for TLS code on this thread
    return AuthStatus::JwtSignatureInvalid;
  }
  return AuthStatus::Ok;
}

AuthStatus verify_hmac(const AlgTraits& t, const VerificationKey::Material& m,
                       std::string_view input, std::string_view signature) {
  if (signature.size() != t.hash_size) return AuthStatus::JwtSignatureMalformed;
  const EVP_MAC_CTX* keyed = m.hmac[static_cast<int>(t.hash)].get();
  if (keyed == nullptr) return AuthStatus::JwksKidAlgMismatch;  // fits() rules this out
  ossl::MacCtx ctx(EVP_MAC_CTX_dup(keyed));
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac;
  std::size_t mac_size = 0;
  if (!ctx || EVP_MAC_update(ctx.get(), bytes(input), input.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac.data(), &mac_size, mac.size()) != 1 || mac_size != t.hash_size) {
    ERR_clear_error();
    return AuthStatus::JwtSignatureInvalid;
  }
  const bool equal = CRYPTO_memcmp(mac.data(), signature.data(), mac_size) == 0;  // constant time
  OPENSSL_cleanse(mac.data(), mac.size());
  return equal ? AuthStatus::Ok : AuthStatus::JwtSignatureInvalid;
}

}  // namespace

AuthStatus verify_signature(Alg alg, const VerificationKey& key, std::string_view signing_input,
                            std::string_view signature) {
  if (!key.fits(alg)) return AuthStatus::JwksKidAlgMismatch;
  const AlgTraits t = traits(alg);
  const VerificationKey::Material& m = key.material();
  switch (t.family) {
    case Family::Hmac:
      return verify_hmac(t, m, signing_input, signature);
    case Family::Ecdsa: {
      const CurveInfo* info = curve_info(m.curve);
      if (info == nullptr) return AuthStatus::JwksKidAlgMismatch;
      EcdsaDer der;
      switch (ecdsa_raw_to_der(signature, info->order(), der)) {
        case EcdsaSigCheck::Ok: break;
        case EcdsaSigCheck::WrongLength:
        case EcdsaSigCheck::OutOfRange: return AuthStatus::JwtSignatureMalformed;
      }
      return digest_verify(m.verify[verify_slot(alg)].get(), signing_input, der.bytes.data(), der.size);
    }
    case Family::RsaPkcs1:
    case Family::RsaPss:
    case Family::EdDsa: {
      if (signature.size() != m.signature_size) return AuthStatus::JwtSignatureMalformed;
      return digest_verify(m.verify[verify_slot(alg)].get(), signing_input, bytes(signature),
                           signature.size());
    }
  }
  return AuthStatus::JwtSignatureInvalid;
}

}  // namespace portcullis::auth::crypto
