// The testable form of the subcommands in commands.h: arguments as views, output streams
// and the clock injected. keys_main / token_main call these with stdout, stderr and the
// system clock.
#pragma once

#include <cstdio>
#include <span>
#include <string_view>

#include "core/clock.h"

namespace portcullis::cli {

struct Io {
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  const Clock* clock = nullptr;  // token mint's "now"; null means the system clock
};

// `args` are the arguments after "keys" / "token" (args[0] is "generate" / "mint").
// Exit codes: 0 ok, 1 failure, 2 usage error.
int run_keys(std::span<const std::string_view> args, const Io& io);
int run_token(std::span<const std::string_view> args, const Io& io);

// The usage texts, printed for --help (stdout) and after usage errors (stderr).
extern const std::string_view kKeysUsage;
extern const std::string_view kTokenUsage;

// "portcullis <command>: <why>" on stderr, then the command's usage text; exit code 2.
inline int usage_error(const Io& io, std::string_view command, std::string_view usage, std::string_view why) {
  std::fprintf(io.err, "portcullis %.*s: %.*s\n\n%.*s", static_cast<int>(command.size()), command.data(),
               static_cast<int>(why.size()), why.data(), static_cast<int>(usage.size()), usage.data());
  return 2;
}

// "portcullis <command>: <why>" on stderr; exit code 1.
inline int failure(const Io& io, std::string_view command, std::string_view why) {
  std::fprintf(io.err, "portcullis %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(why.size()), why.data());
  return 1;
}

}  // namespace portcullis::cli
