#include "log/log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace portcullis::log {
namespace {

std::mutex g_stderr_mutex;
Level g_min_level = Level::Info;

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

void append_hex_escape(std::string& out, unsigned char c) {
  static const char* kHex = "0123456789abcdef";
  out += "\\u00";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

void append_number(std::string& out, double v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.3f", v);
  out.append(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      append_hex_escape(out, c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (size_t len = utf8_sequence_length(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len - 1;
    } else {
      append_hex_escape(out, c);
    }
  }
}

int64_t unix_millis_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_rfc3339_millis(std::string& out, int64_t unix_millis) {
  time_t secs = static_cast<time_t>(unix_millis / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_millis % 1000));
  out.append(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

Field num(std::string_view key, double value) {
  Field f{key, {}, true};
  append_number(f.value, value);
  return f;
}

Field num(std::string_view key, int64_t value) { return Field{key, std::to_string(value), true}; }

Field str(std::string_view key, std::string_view value) { return Field{key, std::string(value), false}; }

void set_min_level(Level level) { g_min_level = level; }

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (level < g_min_level) return;
  std::string line;
  line.reserve(128);
  line += "{\"time\":\"";
  append_rfc3339_millis(line, unix_millis_now());
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"msg\":\"";
  append_json_escaped(line, msg);
  line += '"';
  for (const Field& f : fields) {
    line += ",\"";
    append_json_escaped(line, f.key);
    line += "\":";
    if (f.raw) {
      line += f.value;
    } else {
      line += '"';
      append_json_escaped(line, f.value);
      line += '"';
    }
  }
  line += "}\n";
  std::lock_guard<std::mutex> lock(g_stderr_mutex);
  flush_to_fd(line, STDERR_FILENO);
}

void append_access_line(std::string& out, const AccessRecord& r) {
  out += "{\"time\":\"";
  append_rfc3339_millis(out, r.unix_millis);
  out += "\",\"request_id\":\"";
  append_json_escaped(out, r.request_id);
  out += "\",\"client\":\"";
  append_json_escaped(out, r.client);
  out += "\",\"method\":\"";
  append_json_escaped(out, r.method);
  out += "\",\"path\":\"";
  append_json_escaped(out, r.path);
  out += "\",\"route\":\"";
  append_json_escaped(out, r.route);
  out += "\",\"decision\":\"";
  append_json_escaped(out, r.decision);
  out += "\",\"status\":";
  out += std::to_string(r.status);
  out += ",\"subject\":\"";
  append_json_escaped(out, r.subject);
  out += "\",\"upstream_ms\":";
  if (r.upstream_ms < 0) {
    out += "null";
  } else {
    append_number(out, r.upstream_ms);
  }
  out += ",\"total_ms\":";
  append_number(out, r.total_ms);
  out += "}\n";
}

void flush_to_fd(std::string& buf, int fd) {
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // nowhere to report a failing log sink; drop the rest
    }
    off += static_cast<size_t>(n);
  }
  buf.clear();
}

}  // namespace portcullis::log
