// Subcommands other than `run` and `validate`. Each takes the arguments after its own name
// (argv[0] is the first of them), prints to stdout/stderr, and returns the exit code
// (0 ok, 1 failure, 2 usage error).
#pragma once

namespace portcullis::cli {

int keys_main(int argc, char** argv);   // portcullis keys generate --alg ES256 --out DIR
int token_main(int argc, char** argv);  // portcullis token mint --key DIR/private.pem --claims '{...}' [--ttl 15m]
int explain_main(int argc, char** argv);  // portcullis explain --config F --method M --path P [--host H] [--token|--claims]
int test_main(int argc, char** argv);     // portcullis test --config F CASES.yaml

}  // namespace portcullis::cli
