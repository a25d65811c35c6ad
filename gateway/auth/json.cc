#include "auth/json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <vector>

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "core/bytes8.h"

namespace portcullis::auth {
namespace {

using rapidjson::SizeType;

// Forwards SAX events to the Document (which is itself a SAX handler) while bounding
// nesting depth, so a deep document is refused before it is built, and converts numbers
// itself: rapidjson hands them over as text (after checking their grammar).
class DepthLimitedHandler {
 public:
  DepthLimitedHandler(rapidjson::Document& doc, unsigned max_depth) : doc_(doc), max_depth_(max_depth) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* str, SizeType len, bool) { return number(std::string_view(str, len)); }
  bool String(const char* str, SizeType len, bool copy) { return doc_.String(str, len, copy); }
  bool Key(const char* str, SizeType len, bool copy) { return doc_.Key(str, len, copy); }
  bool StartObject() { return enter() && doc_.StartObject(); }
  bool EndObject(SizeType members) {
    --depth_;
    return doc_.EndObject(members);
  }
  bool StartArray() { return enter() && doc_.StartArray(); }
  bool EndArray(SizeType elements) {
    --depth_;
    return doc_.EndArray(elements);
  }

  bool too_deep() const { return too_deep_; }

 private:
  // Integers that fit stay integers (as rapidjson would make them); everything else becomes
  // the correctly rounded double (std::from_chars), so a NumericDate reads as it does in
  // every other correct parser. rapidjson's own full-precision path is not used: in 1.1 it
  // reads outside its power-of-ten table for a long run of fraction zeros (found by the
  // introspection fuzz target; it crashed the process). Out of double range -> parse error.
  bool number(std::string_view text) {
    const char* first = text.data();
    const char* last = first + text.size();
    if (text.find_first_of(".eE") == std::string_view::npos) {
      if (text.front() == '-') {
        int64_t i = 0;
        if (auto [end, ec] = std::from_chars(first, last, i); ec == std::errc() && end == last) return doc_.Int64(i);
      } else {
        uint64_t u = 0;
        if (auto [end, ec] = std::from_chars(first, last, u); ec == std::errc() && end == last) return doc_.Uint64(u);
      }
    }
    double d = 0;
    auto [end, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range && end == last && below_one(text)) {
      return doc_.Double(text.front() == '-' ? -0.0 : 0.0);  // too small for a double: zero
    }
    if (ec != std::errc() || end != last) return false;
    return doc_.Double(d);
  }

  // Whether a JSON number (grammar already checked) is smaller than 1 in magnitude: its first
  // significant digit sits below the units place once the exponent is applied.
  static bool below_one(std::string_view t) {
    size_t i = t.front() == '-' ? 1 : 0;
    int64_t magnitude = 0;  // digits before the point, counted from the first significant one
    bool significant = false;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
      if (t[i] != '0') significant = true;
      if (significant) ++magnitude;
    }
    if (i < t.size() && t[i] == '.') {
      for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
        if (significant) continue;
        if (t[i] == '0') {
          --magnitude;
        } else {
          significant = true;
        }
      }
    }
    int64_t exponent = 0;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
      const bool negative = ++i < t.size() && t[i] == '-';
      if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
      for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) exponent = std::min<int64_t>(exponent * 10 + (t[i] - '0'), 1'000'000'000);
      if (negative) exponent = -exponent;
    }
    return !significant || magnitude + exponent <= 0;
  }

  bool enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  rapidjson::Document& doc_;
  unsigned max_depth_;
  unsigned depth_ = 0;
  bool too_deep_ = false;
};

// Numbers as text, converted by DepthLimitedHandler::number: exact (not rapidjson's faster
// approximation, which can be an ulp off) and not rapidjson's full-precision code (see there).
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;
// For input that is all ASCII there is no multi-byte sequence to validate (escapes are
// decoded by the parser either way), so the per-byte UTF-8 check is skipped.
constexpr unsigned kAsciiParseFlags = kParseFlags & ~rapidjson::kParseValidateEncodingFlag;

struct Generator {
  std::string_view text;
  DepthLimitedHandler* handler;
  bool ascii;
  rapidjson::ParseResult result;

  bool operator()(rapidjson::Document&) {
    // One reader per thread: its string stack is kept between parses instead of being
    // allocated and freed every time.
    thread_local rapidjson::Reader reader;
    rapidjson::MemoryStream ms(text.data(), text.size());
    result = ascii ? reader.Parse<kAsciiParseFlags>(ms, *handler) : reader.Parse<kParseFlags>(ms, *handler);
    return !result.IsError();
  }
};

std::string_view name_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// A member name as a length and its first eight bytes (zero-padded): two names of at most
// eight bytes are equal exactly when these are.
struct NamePrefix {
  size_t size;
  uint64_t head;
};

NamePrefix prefix_of(std::string_view name) {
  uint64_t head = 0;
  std::memcpy(&head, name.data(), std::min<size_t>(name.size(), sizeof head));
  return {name.size(), head};
}

bool object_has_duplicates(const rapidjson::Value& obj, std::vector<std::string_view>& names) {
  const SizeType n = obj.MemberCount();
  if (n < 2) return false;
  constexpr SizeType kSmall = 16;
  if (n <= kSmall) {  // the common case: no allocation, and most pairs differ in length or head
    std::array<NamePrefix, kSmall> prefixes;
    for (SizeType i = 0; i < n; ++i) prefixes[i] = prefix_of(name_of(obj.MemberBegin()[i].name));
    for (SizeType a = 0; a < n; ++a) {
      for (SizeType b = a + 1; b < n; ++b) {
        if (prefixes[a].size != prefixes[b].size || prefixes[a].head != prefixes[b].head) continue;
        if (prefixes[a].size <= sizeof(uint64_t) ||
            name_of(obj.MemberBegin()[a].name) == name_of(obj.MemberBegin()[b].name)) {
          return true;
        }
      }
    }
    return false;
  }
  names.clear();
  for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) names.push_back(name_of(m->name));
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end();
}

// rapidjson turns an unpaired low surrogate escape (backslash-u DC00) into bytes that are not
// UTF-8 (ED B0 80); other parsers substitute U+FFFD. Refuse the difference.
bool has_encoded_surrogate(std::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return true;
  }
  return false;
}

// Depth is already bounded by the parser, so this recursion is bounded too.
AuthStatus check_tree(const rapidjson::Value& v, std::vector<std::string_view>& names) {
  if (v.IsString()) return has_encoded_surrogate(name_of(v)) ? AuthStatus::JwtBadJson : AuthStatus::Ok;
  if (v.IsObject()) {
    if (object_has_duplicates(v, names)) return AuthStatus::JwtDuplicateMember;
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      if (has_encoded_surrogate(name_of(m->name))) return AuthStatus::JwtBadJson;
      if (auto st = check_tree(m->value, names); st != AuthStatus::Ok) return st;
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      if (auto st = check_tree(e, names); st != AuthStatus::Ok) return st;
    }
  }
  return AuthStatus::Ok;
}

}  // namespace

void clear_document(rapidjson::Document& doc) {
  doc.SetNull();
  doc.GetAllocator().Clear();
}

AuthStatus parse_json_object(std::string_view text, rapidjson::Document& doc, const JsonLimits& limits) {
  clear_document(doc);
  if (text.size() > limits.max_bytes) return AuthStatus::TokenTooLarge;
  // rapidjson's MemoryStream reports NUL as end of input: "{}\0junk" would pass as "{}".
  // A raw NUL is never valid JSON anyway.
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return AuthStatus::JwtBadJson;

  DepthLimitedHandler handler(doc, limits.max_depth);
  Generator gen{text, &handler, bytes8::all_ascii(text), {}};
  doc.Populate(gen);
  if (gen.result.IsError()) {
    clear_document(doc);
    return handler.too_deep() ? AuthStatus::JwtJsonTooDeep : AuthStatus::JwtBadJson;
  }
  if (!doc.IsObject()) return AuthStatus::JwtNotObject;
  std::vector<std::string_view> names;
  const AuthStatus st = check_tree(doc, names);
  if (st != AuthStatus::Ok) clear_document(doc);
  return st;
}

}  // namespace portcullis::auth
