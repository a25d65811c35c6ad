// The fixed key material the JWS and JWKS fuzz targets verify against. The JWKS is
// seed_keys/jwks.json (public halves of the test-only keys in seed_keys/, which
// tests/fuzz/make_seeds uses to mint the seed tokens): RSA 2048 (kid rsa-1, no alg, so it
// fits RS* and PS*), EC P-256 / P-384 / P-521 (ec-256, ec-384, ec-521), Ed25519 (ed-1) and a
// P-256 key without a kid. The HMAC secret signs the HS* seed tokens.
#pragma once

#include <cstdint>
#include <string_view>

namespace portcullis::fuzz {

inline constexpr std::string_view kFixedJwks = R"json({"keys":[{"e":"AQAB","kty":"RSA","n":"vXBzwgREJYfwBJKgtut0XiJh29MgET7_U5pvi3fGucfcoybaC_ZVLTnQ98OgB2lsBYCztKO98RJ-JGv_DgP-2ZKTismLh1XHJ73pwwhdzzKJEObmdlf9PeWmcl698KK6wVFQspOgU9TOIfk295hnQuqSDuh1RuYsXmBAH2DXSEDiXKtfrKX2LwvC3ZEG-zC3YPZRv4YnXXJKtIizRcmPAOg_zpzc7lUc7mwsAF38zgPbeysyb2uSgZ0C9SdQbA6V7KviLS5RHbW0Hr1lUrjXm-pSWRqpwSRUaiOr6RS6a0sYlfP12bLN70aUp7TJ0jLqoz6kT7TQIj9gWUICzzvoHw","use":"sig","kid":"rsa-1"},
{"crv":"P-256","kty":"EC","x":"RT6wwhRvVZJ2JgLNFyU4waUSnPjbDEz4hw-74--P9kY","y":"mtARzf-kQxzzudyCE-EcWAzlUaG9h1magyZgPGj8O9g","alg":"ES256","use":"sig","kid":"ec-256"},
{"crv":"P-384","kty":"EC","x":"UOFqoVH5Kgyqve7qIQXhxNgHrWBEOFFryW0S6LIhaFnKRYbTt2HxIiUTKOuAa4FN","y":"8Dp5Ga8NQ4eNGL3o7se-MBTtOg1OWflEHQlCDApS3jgl6n6iuXdUpX6khROHNwjx","alg":"ES384","use":"sig","kid":"ec-384"},
{"crv":"P-521","kty":"EC","x":"ACySFk3u0Huyc6mfK_xObm0OMkjjl5y-KhcdV2BdIWSZwoye2mnPDMtsevCRrStwQ3DMlh-XtVG8at4_oZ3SSGc5","y":"ATnDVcqavrUXbEZ6H_Y_Bdx2HnKypSvwzyGFpaqbb6lKXh2xKxcs5GbrSGvFVieVm_2loQlSu044uM9tLxJHjWRN","alg":"ES512","use":"sig","kid":"ec-521"},
{"crv":"Ed25519","kty":"OKP","x":"zzLwLw0LWz0rWKFLVwaerXTIBYSIQ7UA48WmeWe-g9k","alg":"EdDSA","use":"sig","kid":"ed-1"},
{"crv":"P-256","kty":"EC","x":"7xngTg7hvrtL2skvAcxyF7yvHL61Yae_2DsnZasBpOA","y":"ie966gMiu10WawDFCnEq1FW8nX8PJTpp8rRl5YsK3x0","alg":"ES256","use":"sig"}]})json";

inline constexpr std::string_view kFixedHmacSecret = "portcullis-fuzz-hmac-secret-0123456789abcdef0123456789abcdefXYZ!";

// "now" for every verification: the seed tokens are valid at this instant (2023-11-14).
inline constexpr int64_t kFixedNow = 1700000000;

}  // namespace portcullis::fuzz
