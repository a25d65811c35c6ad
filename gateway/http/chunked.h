// Resumable, zero-copy decoder for the chunked transfer coding (RFC 9112 §7.1). It only tells
// the caller what the bytes at the front of its input are; the caller drains framing and
// moves data between its own buffers (evbuffer_remove_buffer), so nothing is copied here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace portcullis::http {

inline constexpr size_t kMaxChunkSizeLine = 4096;  // chunk-size + extensions, without CRLF
inline constexpr size_t kMaxTrailerBytes = 8192;   // the whole trailer section incl. final CRLF

class ChunkedDecoder {
 public:
  struct Step {
    enum Kind { NeedMore, Framing, Data, Done, Error } kind;
    size_t bytes;
    std::string_view error;  // snake_case reason when kind == Error
  };

  // `available`: the unconsumed bytes at the front of the input; after NeedMore, call again
  // with the same bytes plus more. Framing: the first `bytes` are framing, drain them.
  // Data: the first `bytes` (0 < bytes <= available.size()) are body data; move them on, the
  // decoder counts them consumed. Done: drain `bytes` (last-chunk, trailers, final CRLF); the
  // message is complete and later calls return Done with 0 bytes. Error: stays an error.
  // Trailers are validated like header lines and discarded, never forwarded.
  Step next(std::string_view available);

  // Data bytes handed out so far (the caller enforces max_body_bytes).
  uint64_t body_bytes() const { return body_bytes_; }
  // body_bytes() plus what the current chunk has announced but not yet delivered, so a
  // caller can refuse an oversized chunk before its data arrives. Saturates at UINT64_MAX.
  uint64_t announced_bytes() const;
  bool done() const { return state_ == State::Done; }

  void reset();

 private:
  enum class State { Size, Data, DataCrlf, Trailers, Done, Error };

  Step fail(std::string_view reason);
  Step next_size(std::string_view available);
  Step next_trailers(std::string_view available);

  State state_ = State::Size;
  uint64_t remaining_ = 0;     // data bytes left in the current chunk
  uint64_t body_bytes_ = 0;
  size_t scan_from_ = 0;       // where the search for a line end resumes
  size_t last_chunk_bytes_ = 0;  // "0[ext]\r\n" before the trailers, not yet drained
  std::string_view error_;
};

}  // namespace portcullis::http
