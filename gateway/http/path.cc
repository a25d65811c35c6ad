#include "http/path.h"

#include "http/chars.h"

namespace portcullis::http {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

// "." or ".." followed by a ';' parameter, raw or still encoded as %3B.
bool is_dot_segment_with_params(std::string_view seg) {
  size_t dots = 0;
  while (dots < seg.size() && dots < 2 && seg[dots] == '.') ++dots;
  if (dots == 0) return false;
  const std::string_view rest = seg.substr(dots);
  return (!rest.empty() && rest.front() == ';') || rest.substr(0, 3) == "%3B";
}

bool is_upper_hex(char c) { return chars::is_digit(c) || (c >= 'A' && c <= 'F'); }

}  // namespace

std::string_view to_string(PathError e) {
  switch (e) {
    case PathError::None: return "none";
    case PathError::NotOriginForm: return "not_origin_form";
    case PathError::ForbiddenByte: return "forbidden_byte";
    case PathError::BadEscape: return "bad_escape";
    case PathError::EncodedSlash: return "encoded_slash";
    case PathError::EncodedBackslash: return "encoded_backslash";
    case PathError::EncodedNul: return "encoded_nul";
    case PathError::DotSegmentWithParams: return "dot_segment_with_params";
    case PathError::EncodedControl: return "encoded_control";
  }
  return "unknown";
}

PathError normalize_path(std::string_view raw, std::string& out) {
  out.clear();
  if (raw.empty() || raw.front() != '/') return PathError::NotOriginForm;
  out.reserve(raw.size());
  out.push_back('/');

  // One segment per iteration: decode it onto the end of `out` (which always ends in '/'
  // here), then keep it, drop it ("" and "."), or drop it with its parent ("..").
  size_t i = 1;
  for (;;) {
    const size_t seg_start = out.size();
    while (i < raw.size() && raw[i] != '/') {
      const char c = raw[i];
      if (c == '%') {
        if (i + 2 >= raw.size() || !chars::is_hex(raw[i + 1]) || !chars::is_hex(raw[i + 2])) {
          return PathError::BadEscape;
        }
        const int v = chars::hex_value(raw[i + 1]) * 16 + chars::hex_value(raw[i + 2]);
        if (v == '/') return PathError::EncodedSlash;
        if (v == '\\') return PathError::EncodedBackslash;
        if (v == 0) return PathError::EncodedNul;
        if (v < 0x20 || v == 0x7f) return PathError::EncodedControl;
        const char decoded = static_cast<char>(v);
        if (chars::is_unreserved(decoded)) {
          out.push_back(decoded);
        } else {
          out.push_back('%');
          out.push_back(kHexUpper[v >> 4]);
          out.push_back(kHexUpper[v & 0xf]);
        }
        i += 3;
      } else if (chars::is_pchar_plain(c)) {
        out.push_back(c);
        ++i;
      } else {
        return PathError::ForbiddenByte;
      }
    }
    const std::string_view seg(out.data() + seg_start, out.size() - seg_start);
    const bool last = i >= raw.size();
    if (is_dot_segment_with_params(seg)) return PathError::DotSegmentWithParams;
    if (seg.empty() || seg == ".") {
      out.resize(seg_start);
    } else if (seg == "..") {
      out.resize(seg_start);
      if (seg_start > 1) out.resize(out.rfind('/', seg_start - 2) + 1);  // pop the parent
    } else if (!last) {
      out.push_back('/');
    }
    if (last) break;
    ++i;  // the '/'
  }
  return PathError::None;
}

bool path_needs_normalization(std::string_view raw) {
  if (raw.empty() || raw.front() != '/') return true;
  const size_t n = raw.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = raw[i];
    if (c == '/') {
      // Look at the segment that starts here: empty, ".", "..", or dots with parameters.
      const size_t s = i + 1;
      if (s < n && raw[s] == '/') return true;
      if (s < n && raw[s] == '.') {
        size_t j = s + 1;
        if (j < n && raw[j] == '.') ++j;
        if (j == n || raw[j] == '/' || raw[j] == ';' || raw.substr(j, 3) == "%3B") return true;
      }
    } else if (c == '%') {
      // Canonical escapes: two uppercase hex digits of a byte that stays encoded.
      if (i + 2 >= n || !is_upper_hex(raw[i + 1]) || !is_upper_hex(raw[i + 2])) return true;
      const int v = chars::hex_value(raw[i + 1]) * 16 + chars::hex_value(raw[i + 2]);
      if (v < 0x20 || v == 0x7f || v == '/' || v == '\\') return true;
      if (chars::is_unreserved(static_cast<char>(v))) return true;
      i += 2;
    } else if (!chars::is_pchar_plain(c)) {
      return true;
    }
  }
  return false;
}

bool query_is_valid(std::string_view query) {
  for (char c : query) {
    if (!chars::is_target(c) || c == '#') return false;
  }
  return true;
}

}  // namespace portcullis::http
