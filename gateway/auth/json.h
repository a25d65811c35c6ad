// Strict JSON for token headers, payloads and JWKS documents. Two parsers that disagree
// about the same bytes are an attack (duplicate members: jjwt/Gson vs Jackson), so this
// accepts only JSON that every reasonable parser reads the same way.
#pragma once

#include <cstddef>
#include <string_view>

#include <rapidjson/document.h>

#include "auth/status.h"

namespace portcullis::auth {

struct JsonLimits {
  size_t max_bytes = 64 * 1024;
  unsigned max_depth = 16;  // the top-level object is depth 1
};

// Parses `text` into `doc` (replacing what it held and releasing its memory).
// Ok, or the first failure:
//   TokenTooLarge       text longer than limits.max_bytes (checked before parsing)
//   JwtBadJson          syntax, trailing garbage, invalid UTF-8, a NUL byte, huge numbers
//   JwtJsonTooDeep      more than limits.max_depth nested objects/arrays
//   JwtDuplicateMember  the same member name twice in one object, at any depth
//   JwtNotObject        the top level is not an object
// Parsing is iterative (no recursion on attacker-controlled nesting).
AuthStatus parse_json_object(std::string_view text, rapidjson::Document& doc,
                             const JsonLimits& limits = {});

// Empties `doc` and frees what its pool took from the heap, but keeps its allocator and any
// buffer that allocator was given, so a reused document parses without a fresh 64 KiB pool
// (swapping in a new Document would replace the allocator with rapidjson's default).
void clear_document(rapidjson::Document& doc);

// Convenience for callers holding a rapidjson::Value: the string as a view (no copy).
inline std::string_view json_string_view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

}  // namespace portcullis::auth
