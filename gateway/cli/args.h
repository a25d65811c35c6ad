// A small strict flag parser for the subcommands: "--name value" or "--name=value", boolean
// "--name", no positionals, no repeats. Unknown flags are errors (PRODUCT.md).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace portcullis::cli {

struct FlagSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value;
};

struct ParsedFlags {
  std::map<std::string, std::string, std::less<>> values;  // boolean flags map to ""
  std::string error;                                        // non-empty: a usage error

  bool has(std::string_view name) const { return values.find(name) != values.end(); }
  std::optional<std::string> get(std::string_view name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

// `args` are the arguments after the subcommand's name. "--help" and "-h" are recorded as
// "help" and stop parsing (so `--help` works even after a bad flag's neighbours).
ParsedFlags parse_flags(std::span<const std::string_view> args, std::span<const FlagSpec> specs);

}  // namespace portcullis::cli
