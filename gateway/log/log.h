// Structured logs: operational messages as JSON lines on stderr, the access log as JSON lines
// on stdout. Nothing here ever receives token or key material.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace portcullis::log {

// Appends `s` as the inside of a JSON string (no quotes), escaping quotes, backslashes,
// control characters and bytes that are not valid UTF-8 (as \u00XX).
void append_json_escaped(std::string& out, std::string_view s);

// "2026-11-22T15:57:59.123Z"
void append_rfc3339_millis(std::string& out, int64_t unix_millis);
int64_t unix_millis_now();

struct Field {
  std::string_view key;
  std::string value;
  bool raw = false;  // a JSON number/bool, not a string
};
Field num(std::string_view key, double value);
Field num(std::string_view key, int64_t value);
Field str(std::string_view key, std::string_view value);

enum class Level { Debug, Info, Warn, Error };
void set_min_level(Level level);
// One JSON line on stderr: {"time":...,"level":...,"msg":..., fields...}. Thread-safe.
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void info(std::string_view msg, std::initializer_list<Field> fields = {}) { write(Level::Info, msg, fields); }
inline void warn(std::string_view msg, std::initializer_list<Field> fields = {}) { write(Level::Warn, msg, fields); }
inline void error(std::string_view msg, std::initializer_list<Field> fields = {}) { write(Level::Error, msg, fields); }

struct AccessRecord {
  int64_t unix_millis = 0;
  std::string_view request_id, client, method, path, route, decision, subject;
  int status = 0;
  double upstream_ms = -1;  // < 0: no upstream involved
  double total_ms = 0;
};
// Appends one access-log line (with the trailing newline) to `out`.
void append_access_line(std::string& out, const AccessRecord& r);

// Writes all of `buf` to a file descriptor (retrying on EINTR/partial writes) and clears it.
void flush_to_fd(std::string& buf, int fd);

}  // namespace portcullis::log
