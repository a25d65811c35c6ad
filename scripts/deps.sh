#!/usr/bin/env bash
# Installs the Debian 12 packages Portcullis needs, only those that are missing.
# Usage: scripts/deps.sh [build|test|bench|all]   (default: test)
set -euo pipefail

what="${1:-test}"
build_pkgs=(g++ cmake make pkg-config libevent-dev libssl-dev rapidjson-dev libcurl4-openssl-dev
            libyaml-cpp-dev prometheus-cpp-dev doctest-dev)
test_pkgs=(python3 openssl curl python3-yaml python3-jsonschema)
bench_pkgs=(wrk nginx-light haproxy gnuplot-nox)
fuzz_pkgs=(clang libclang-rt-14-dev)

pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;  # scripts/test ends with a short fuzz run
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  fuzz) pkgs+=("${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  all) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench|fuzz|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx and haproxy services on install; the benches run their own instances.
if printf '%s\n' "${missing[@]}" | grep -qE '^(nginx-light|haproxy)$'; then
  ("${sudo_cmd[@]}" service nginx stop; "${sudo_cmd[@]}" service haproxy stop) >/dev/null 2>&1 || true
fi
