// The published example signatures of RFC 7515 (A.2 RS256, A.3 ES256) and RFC 8037 (A.4
// Ed25519) verify with their published public keys, and fail when touched.
#include <doctest/doctest.h>

#include <vector>

#include "crypto/crypto_test_support.h"

namespace portcullis::auth::crypto {
namespace {

using namespace testing;

// RFC 7515 A.2 and A.3 share this payload: {"iss":"joe",\r\n "exp":1300819380,\r\n ...}.
constexpr std::string_view kRfc7515Payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

struct Vector {
  const char* name;
  Alg alg;
  JwkParams key;
  std::string signing_input;
  std::string signature;  // base64url, as published
};

std::vector<Vector> vectors() {
  std::vector<Vector> out;
  {
    JwkParams rsa;  // RFC 7515 A.2.1
    rsa.kty = KeyType::RSA;
    rsa.n = b64url(
        "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
        "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
        "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
        "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
        "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
        "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ");
    rsa.e = b64url("AQAB");
    out.push_back({"RFC 7515 A.2 RS256", Alg::RS256, rsa,
                   "eyJhbGciOiJSUzI1NiJ9." + std::string(kRfc7515Payload),
                   "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
                   "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
                   "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
                   "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
                   "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
                   "p0igcN_IoypGlUPQGe77Rw"});
  }
  {
    JwkParams ec;  // RFC 7515 A.3.1
    ec.kty = KeyType::EC;
    ec.crv = Curve::P256;
    ec.x = b64url("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
    ec.y = b64url("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
    out.push_back({"RFC 7515 A.3 ES256", Alg::ES256, ec,
                   "eyJhbGciOiJFUzI1NiJ9." + std::string(kRfc7515Payload),
                   "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
                   "pmWQxfKTUJqPP3-Kg6NU1Q"});
  }
  {
    JwkParams okp;  // RFC 8037 A.2 public key, A.4 signature
    okp.kty = KeyType::OKP;
    okp.crv = Curve::Ed25519;
    okp.x = b64url("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    out.push_back({"RFC 8037 A.4 EdDSA", Alg::EdDSA, okp,
                   "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
                   "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
                   "hVsPt9g7sVvpAr_MuM0KAg"});
  }
  return out;
}

TEST_CASE("RFC example signatures verify with their published keys") {
  for (const Vector& v : vectors()) {
    SUBCASE(v.name) {
      const KeyPtr key = must_build(v.key);
      const std::string signature = b64url(v.signature);
      CHECK(verify_signature(v.alg, *key, v.signing_input, signature) == AuthStatus::Ok);
      CHECK(verify_signature(v.alg, *key, v.signing_input, flip_bit(signature, 10)) != AuthStatus::Ok);
      CHECK(verify_signature(v.alg, *key, flip_bit(v.signing_input, 30), signature) ==
            AuthStatus::JwtSignatureInvalid);
    }
  }
}

}  // namespace
}  // namespace portcullis::auth::crypto
