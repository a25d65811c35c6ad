// FUZZ_CHECK: an invariant a fuzz target asserts about the code under test (a differential
// or a postcondition). A failure prints what broke and aborts, which libFuzzer records as a
// crash with its input, and which fails the replay test.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)
