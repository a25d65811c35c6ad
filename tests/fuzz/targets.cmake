# The fuzz targets and the libraries each one links: tests/fuzz/<name>_fuzz.cc, its seed
# corpus in corpus/<name>/ and its minimized crash reproducers in regressions/<name>/.
# Read by the libFuzzer build (tests/fuzz/CMakeLists.txt) and by the corpus replay tests of
# the normal build (end of the top-level CMakeLists.txt).
set(PORTCULLIS_FUZZ_TARGETS
    request_head response_head chunked path jws jwks introspection gateway_config policy)
set(portcullis_fuzz_libs_request_head portcullis_http)
set(portcullis_fuzz_libs_response_head portcullis_http)
set(portcullis_fuzz_libs_chunked portcullis_http)
set(portcullis_fuzz_libs_path portcullis_http)
set(portcullis_fuzz_libs_jws portcullis_auth)
set(portcullis_fuzz_libs_jwks portcullis_auth)
set(portcullis_fuzz_libs_introspection portcullis_auth)
set(portcullis_fuzz_libs_gateway_config portcullis_config)
set(portcullis_fuzz_libs_policy portcullis_config portcullis_policy)
