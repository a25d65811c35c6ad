#include "auth/crypto/curves.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

namespace portcullis::auth::crypto {
namespace {

CurveInfo load(Curve curve, const char* group_name, int nid, int bits) {
  CurveInfo info{curve, group_name, bits, static_cast<std::size_t>((bits + 7) / 8), {}, {}};
  EC_GROUP* group = EC_GROUP_new_by_curve_name(nid);
  if (group == nullptr) {
    info.coord_size = 0;  // curve unavailable: every key on it is rejected
    return info;
  }
  const int width = static_cast<int>(info.coord_size);
  if (BN_bn2binpad(EC_GROUP_get0_order(group), info.order_storage.data(), width) != width ||
      BN_bn2binpad(EC_GROUP_get0_field(group), info.prime_storage.data(), width) != width) {
    info.coord_size = 0;
  }
  EC_GROUP_free(group);
  return info;
}

}  // namespace

const CurveInfo* curve_info(Curve curve) {
  static const std::array<CurveInfo, 3> table = {
      load(Curve::P256, "prime256v1", NID_X9_62_prime256v1, 256),
      load(Curve::P384, "secp384r1", NID_secp384r1, 384),
      load(Curve::P521, "secp521r1", NID_secp521r1, 521),
  };
  for (const CurveInfo& info : table) {
    if (info.curve == curve) return info.coord_size == 0 ? nullptr : &info;
  }
  return nullptr;
}

}  // namespace portcullis::auth::crypto
