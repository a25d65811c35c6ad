#include "http/chunked.h"

#include <limits>

#include "http/chars.h"
#include "http/head_internal.h"

namespace portcullis::http {
namespace {

constexpr size_t kMaxChunkSizeDigits = 16;

size_t skip_ows(std::string_view s, size_t i) {
  while (i < s.size() && chars::is_ows(s[i])) ++i;
  return i;
}

// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4). `i` is at the
// opening quote; returns the index after the closing one, or npos.
size_t skip_quoted_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (++i == s.size()) return std::string_view::npos;
      if (!chars::is_field_value(s[i])) return std::string_view::npos;
      continue;
    }
    if (!chars::is_field_value(c)) return std::string_view::npos;
  }
  return std::string_view::npos;
}

// chunk-size [ chunk-ext ], without the CRLF. Returns an error reason or empty.
std::string_view parse_size_line(std::string_view line, uint64_t& size) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < line.size() && chars::is_hex(line[i])) {
    if (i == kMaxChunkSizeDigits) return "chunk_size_too_long";
    v = (v << 4) | static_cast<uint64_t>(chars::hex_value(line[i]));
    ++i;
  }
  if (i == 0) return "bad_chunk_size";
  size = v;
  // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), all discarded.
  bool first = true;
  while (i < line.size()) {
    const size_t before = i;
    i = skip_ows(line, i);
    if (i == line.size() || line[i] != ';') {
      // "5x" is a bad size; "5 ", "5;a b" are bad extensions.
      return first && i == before ? "bad_chunk_size" : "bad_chunk_extension";
    }
    first = false;
    i = skip_ows(line, i + 1);
    const size_t name = i;
    while (i < line.size() && chars::is_tchar(line[i])) ++i;
    if (i == name) return "bad_chunk_extension";
    const size_t after_name = i;
    i = skip_ows(line, i);
    if (i < line.size() && line[i] == '=') {
      i = skip_ows(line, i + 1);
      if (i < line.size() && line[i] == '"') {
        i = skip_quoted_string(line, i);
        if (i == std::string_view::npos) return "bad_chunk_extension";
      } else {
        const size_t value = i;
        while (i < line.size() && chars::is_tchar(line[i])) ++i;
        if (i == value) return "bad_chunk_extension";
      }
    } else {
      i = after_name;  // whitespace here must be followed by ';', checked by the loop
    }
  }
  return {};
}

}  // namespace

uint64_t ChunkedDecoder::announced_bytes() const {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  return remaining_ > max - body_bytes_ ? max : body_bytes_ + remaining_;
}

void ChunkedDecoder::reset() { *this = ChunkedDecoder{}; }

ChunkedDecoder::Step ChunkedDecoder::fail(std::string_view reason) {
  state_ = State::Error;
  error_ = reason;
  return Step{Step::Error, 0, reason};
}

ChunkedDecoder::Step ChunkedDecoder::next(std::string_view available) {
  switch (state_) {
    case State::Size:
      return next_size(available);
    case State::Data: {
      if (available.empty()) return Step{Step::NeedMore, 0, {}};
      const size_t n = remaining_ < available.size() ? static_cast<size_t>(remaining_)
                                                      : available.size();
      remaining_ -= n;
      body_bytes_ += n;
      if (remaining_ == 0) state_ = State::DataCrlf;
      return Step{Step::Data, n, {}};
    }
    case State::DataCrlf:
      if (available.empty()) return Step{Step::NeedMore, 0, {}};
      if (available[0] != '\r') return fail("missing_crlf_after_data");
      if (available.size() < 2) return Step{Step::NeedMore, 0, {}};
      if (available[1] != '\n') return fail("missing_crlf_after_data");
      state_ = State::Size;
      scan_from_ = 0;
      return Step{Step::Framing, 2, {}};
    case State::Trailers:
      return next_trailers(available);
    case State::Done:
      return Step{Step::Done, 0, {}};
    case State::Error:
      return Step{Step::Error, 0, error_};
  }
  return fail("bad_state");
}

ChunkedDecoder::Step ChunkedDecoder::next_size(std::string_view available) {
  if (available.empty()) return Step{Step::NeedMore, 0, {}};
  // Refuse garbage at once rather than after kMaxChunkSizeLine bytes.
  if (!chars::is_hex(available[0])) return fail("bad_chunk_size");

  const size_t limit = available.size() < kMaxChunkSizeLine + 2 ? available.size()
                                                                 : kMaxChunkSizeLine + 2;
  size_t pos = scan_from_ < limit ? scan_from_ : limit;
  size_t lf = std::string_view::npos;
  for (; pos < limit; ++pos) {
    const char c = available[pos];
    if (c == '\n') {
      if (pos == 0 || available[pos - 1] != '\r') return fail("bad_line_ending");
      lf = pos;
      break;
    }
    if (c == '\r' && pos + 1 < available.size() && available[pos + 1] != '\n') {
      return fail("bad_line_ending");
    }
  }
  if (lf == std::string_view::npos) {
    if (available.size() >= kMaxChunkSizeLine + 2) return fail("chunk_line_too_long");
    scan_from_ = (pos > 0 && available[pos - 1] == '\r') ? pos - 1 : pos;
    return Step{Step::NeedMore, 0, {}};
  }

  uint64_t size = 0;
  const std::string_view err = parse_size_line(available.substr(0, lf - 1), size);
  if (!err.empty()) return fail(err);
  const size_t line_bytes = lf + 1;
  if (size > 0) {
    state_ = State::Data;
    remaining_ = size;
    scan_from_ = 0;
    return Step{Step::Framing, line_bytes, {}};
  }
  // last-chunk: the trailer section follows; drained with it in one Done step.
  state_ = State::Trailers;
  last_chunk_bytes_ = line_bytes;
  scan_from_ = line_bytes;
  return next_trailers(available);
}

ChunkedDecoder::Step ChunkedDecoder::next_trailers(std::string_view available) {
  const size_t start = last_chunk_bytes_;
  size_t end = 0;
  switch (detail::find_head_end(available, start, start + kMaxTrailerBytes, scan_from_, end)) {
    case detail::EndScan::BadLineEnding:
      return fail("bad_line_ending");
    case detail::EndScan::NotYet:
      if (available.size() > start + kMaxTrailerBytes) return fail("trailers_too_large");
      return Step{Step::NeedMore, 0, {}};
    case detail::EndScan::Found:
      break;
  }
  std::string_view block = available.substr(start, end - start - 2);
  while (!block.empty()) {
    const size_t cr = block.find('\r');
    Header scratch;
    if (detail::parse_field_line(block.substr(0, cr), scratch) != HeadError::None) {
      return fail("bad_trailer");
    }
    block.remove_prefix(cr + 2);
  }
  state_ = State::Done;
  return Step{Step::Done, end, {}};
}

}  // namespace portcullis::http
