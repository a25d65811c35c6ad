// JWS ECDSA signatures are raw R || S (RFC 7518 §3.4); OpenSSL verifies DER. The conversion
// is where encodings are policed: exact length, 0 < r < n, 0 < s < n.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace portcullis::auth::crypto {

enum class EcdsaSigCheck { Ok, WrongLength, OutOfRange };

// Large enough for P-521: SEQUENCE header (3) + 2 x INTEGER (2 + 1 + 66).
struct EcdsaDer {
  std::array<unsigned char, 144> bytes;
  std::size_t size = 0;
};

// `order` is the curve order n, big-endian, exactly one coordinate long; `raw` must be
// exactly 2 * order.size() bytes. On Ok, `out` holds the DER ECDSA-Sig-Value.
EcdsaSigCheck ecdsa_raw_to_der(std::string_view raw, std::span<const unsigned char> order,
                               EcdsaDer& out);

}  // namespace portcullis::auth::crypto
