#include "config/values.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <limits>

#include "core/ascii.h"

namespace portcullis::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Reads a run of decimal digits into `out`; false on no digits or overflow.
bool take_number(std::string_view text, size_t& pos, uint64_t& out) {
  size_t start = pos;
  uint64_t value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    uint64_t digit = static_cast<uint64_t>(text[pos] - '0');
    if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, digit, &value)) {
      return false;
    }
    ++pos;
  }
  out = value;
  return pos > start;
}

std::optional<in_addr> parse_ipv4(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::array<char, 16> buf{};
  std::memcpy(buf.data(), text.data(), text.size());
  in_addr addr{};
  if (inet_pton(AF_INET, buf.data(), &addr) != 1) return std::nullopt;
  return addr;
}

std::optional<in6_addr> parse_ipv6(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::array<char, 46> buf{};
  std::memcpy(buf.data(), text.data(), text.size());
  in6_addr addr{};
  if (inet_pton(AF_INET6, buf.data(), &addr) != 1) return std::nullopt;
  return addr;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  size_t pos = 0;
  uint64_t value = 0;
  if (!take_number(text, pos, value) || pos != text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

}  // namespace

bool is_bare_number(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_digit(c)) return false;
  }
  return true;
}

std::optional<Millis> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  int last_rank = 4;  // units must strictly decrease: h(3) m(2) s(1) ms(0)
  size_t pos = 0;
  while (pos < text.size()) {
    uint64_t amount = 0;
    if (!take_number(text, pos, amount) || pos >= text.size()) return std::nullopt;
    int rank;
    int64_t unit_ms;
    if (text.compare(pos, 2, "ms") == 0) {
      rank = 0, unit_ms = 1, pos += 2;
    } else if (text[pos] == 's') {
      rank = 1, unit_ms = 1000, pos += 1;
    } else if (text[pos] == 'm') {
      rank = 2, unit_ms = 60'000, pos += 1;
    } else if (text[pos] == 'h') {
      rank = 3, unit_ms = 3'600'000, pos += 1;
    } else {
      return std::nullopt;
    }
    if (rank >= last_rank) return std::nullopt;
    last_rank = rank;
    int64_t part;
    if (amount > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(static_cast<int64_t>(amount), unit_ms, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      return std::nullopt;
    }
  }
  return Millis(total);
}

std::string format_duration(Millis d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::pair<int64_t, const char*> units[] = {
      {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size);
      out += name;
      ms %= size;
    }
  }
  return out;
}

std::optional<uint64_t> parse_size(std::string_view text) {
  size_t pos = 0;
  uint64_t amount = 0;
  if (!take_number(text, pos, amount)) return std::nullopt;
  std::string_view unit = text.substr(pos);
  struct Unit {
    std::string_view name;
    uint64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"TiB", 1ull << 40},
      {"KB", 1000ull},
      {"MB", 1000ull * 1000},
      {"GB", 1000ull * 1000 * 1000},
      {"TB", 1000ull * 1000 * 1000 * 1000},
  };
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      uint64_t bytes;
      if (__builtin_mul_overflow(amount, u.factor, &bytes)) return std::nullopt;
      return bytes;
    }
  }
  return std::nullopt;
}

std::string format_size(uint64_t bytes) {
  const std::pair<uint64_t, const char*> units[] = {
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (const auto& [size, name] : units) {
    if (bytes >= size && bytes % size == 0) return std::to_string(bytes / size) + name;
  }
  return std::to_string(bytes);
}

bool is_valid_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.find(':') != std::string_view::npos) return parse_ipv6(host).has_value();
  // All digits and dots: an IPv4 address in dotted-quad form, never a "hostname" like 127.1
  // or 0177.0.0.1 that resolvers read in surprising ways.
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) return parse_ipv4(host).has_value();
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;  // empty label: "a..b", ".a", trailing dot
      label = 0;
      continue;
    }
    if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_') return false;
    if (label == 0 && c == '-') return false;
    ++label;
  }
  return label > 0;
}

std::optional<std::pair<std::string, uint16_t>> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (!parse_ipv6(host)) return std::nullopt;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // An unbracketed IPv6 literal is ambiguous ("::1:80"): brackets are required.
    if (host.find(':') != std::string_view::npos || !is_valid_host(host)) return std::nullopt;
  }
  auto number = parse_port(port);
  if (!number) return std::nullopt;
  return std::make_pair(std::string(host), *number);
}

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (ascii_iequals(host, "localhost")) return true;
  if (auto v4 = parse_ipv4(host)) {
    return (ntohl(v4->s_addr) >> 24) == 127;
  }
  if (auto v6 = parse_ipv6(host)) {
    if (IN6_IS_ADDR_LOOPBACK(&*v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&*v6)) return v6->s6_addr[12] == 127;
  }
  return false;
}

std::optional<Url> parse_url(std::string_view text, std::string& why) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      why = "contains whitespace, a control character or a non-ASCII byte";
      return std::nullopt;
    }
  }
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    why = "is not an absolute URL (expected http://host[:port]/...)";
    return std::nullopt;
  }
  Url url;
  for (char c : text.substr(0, sep)) url.scheme += ascii_lower(c);
  if (url.scheme != "http" && url.scheme != "https") {
    why = "has scheme '" + std::string(text.substr(0, sep)) + "'; only http and https are supported";
    return std::nullopt;
  }
  std::string_view rest = text.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) {
    why = "has a fragment ('#'), which is not allowed";
    return std::nullopt;
  }
  size_t auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) {
    why = "has userinfo ('user@'), which is not allowed; put credentials in files";
    return std::nullopt;
  }
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "has an unclosed '[' in its host";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        why = "has junk after the bracketed host";
        return std::nullopt;
      }
      has_port = true;
      port = after.substr(1);
    }
    if (!parse_ipv6(host)) {
      why = "has an invalid IPv6 literal";
      return std::nullopt;
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) {
      why = "has no host";
      return std::nullopt;
    }
    if (!is_valid_host(host)) {
      why = "has an invalid host '" + std::string(host) + "'";
      return std::nullopt;
    }
  }
  url.host = std::string(host);
  if (has_port) {
    auto number = parse_port(port);
    if (!number || *number == 0) {
      why = "has an invalid port '" + std::string(port) + "' (1..65535)";
      return std::nullopt;
    }
    url.port = *number;
    url.explicit_port = true;
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }
  size_t q = tail.find('?');
  url.path = std::string(tail.substr(0, q));
  if (q != std::string_view::npos) {
    url.has_query = true;
    url.query = std::string(tail.substr(q + 1));
  }
  return url;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (is_alpha(c) || is_digit(c)) continue;
    if (std::strchr("!#$%&'*+-.^_`|~", c) == nullptr || c == '\0') return false;
  }
  return true;
}

std::string fold_header_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) out += c == '_' ? '-' : ascii_lower(c);
  return out;
}

}  // namespace portcullis::config
