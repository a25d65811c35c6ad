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

}  // namespace portcullis::cli
