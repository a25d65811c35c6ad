#include "cli/args.h"

namespace portcullis::cli {

namespace {

const FlagSpec* find_spec(std::span<const FlagSpec> specs, std::string_view name) {
  for (const FlagSpec& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace

ParsedFlags parse_flags(std::span<const std::string_view> args, std::span<const FlagSpec> specs) {
  ParsedFlags out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.values.clear();
      out.values.emplace("help", "");
      out.error.clear();
      return out;
    }
    if (!out.error.empty()) continue;  // keep scanning only for --help
    if (!arg.starts_with("--") || arg.size() == 2) {
      out.error = "unexpected argument: " + std::string(arg);
      continue;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = find_spec(specs, name);
    if (spec == nullptr) {
      out.error = "unknown flag: --" + std::string(name);
      continue;
    }
    if (out.has(name)) {
      out.error = "--" + std::string(name) + " given twice";
      continue;
    }
    if (!spec->takes_value) {
      if (inline_value) {
        out.error = "--" + std::string(name) + " takes no value";
        continue;
      }
      out.values.emplace(std::string(name), "");
      continue;
    }
    if (inline_value) {
      out.values.emplace(std::string(name), std::string(*inline_value));
    } else if (i + 1 < args.size()) {
      out.values.emplace(std::string(name), std::string(args[++i]));
    } else {
      out.error = "--" + std::string(name) + " needs a value";
    }
  }
  return out;
}

}  // namespace portcullis::cli
