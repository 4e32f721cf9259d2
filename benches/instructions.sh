#!/usr/bin/env bash
# Instruction counts of the engine benchmark's operations, under callgrind (valgrind): a check of
# a typo recipient, of a clean recipient of an unknown domain, and of a recipient of a reference
# domain (the common case: `jane@gmail.com`, bare and with a display name) against 100,000
# references, and building that engine; and one judged JMAP send through the built filter under
# the wasmtime host (host_tests::Filter; the host's own work included), beside the same request
# through the floor filter of the Envoy comparison (benches/floor-filter: holds the request, copies
# its body into the VM, lets it go), so that the difference is what mistype itself costs; and the
# same for the Envoy load test's send and configuration (benches/load/, benches/load-envoy.sh).
# Each count is (run with N operations - run with none) / N, so set-up is not counted. For the
# two filters, also the instructions and the distinct 64-byte lines of the module's own compiled
# code that a send runs (benches/code-lines.py).
#
#   benches/instructions.sh          # needs valgrind; builds the driver in release mode
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || {
  echo "instructions.sh: valgrind is missing (scripts/ensure-tools.sh bench)" >&2
  exit 2
}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}
cargo build -q --release -p mistype-benches --example instructions --example filter_instructions
bin="$CARGO_TARGET_DIR/release/examples/instructions"
filter_bin="$CARGO_TARGET_DIR/release/examples/filter_instructions"
wasm=$(filter/build.sh 2>/dev/null)
floor=$(benches/floor-filter/build.sh 2>/dev/null)
ir() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
n=2000
base=$(ir check 0)
check=$(ir check $n)
clean=$(ir clean $n)
known=$(ir known $n)
named=$(ir known-named $n)
build0=$(ir build 0)
build=$(ir build 2)
echo "check (typo recipient, 100,000 references): $(((check - base) / n)) instructions"
echo "check (clean recipient, unknown domain, 100,000 references): $(((clean - base) / n)) instructions"
echo "check (jane@gmail.com, a reference, 100,000 references): $(((known - base) / n)) instructions"
echo "check (Jane Doe <jane@gmail.com>, 100,000 references): $(((named - base) / n)) instructions"
echo "build_engine (100,000 references, and drop): $(((build - build0) / 2)) instructions"
# The filter: wasmtime compiles the module once and caches it on disk; the first run under
# callgrind fills that cache (valgrind's CPU differs from the machine's), so it is not counted.
# Runs of 100 and 200 sends also say which instructions ran where, for benches/code-lines.py: the
# module's compiled code a send runs, and the distinct 64-byte lines of it (the code a send brings
# into the instruction cache, which in Envoy costs beside the instruction count;
# docs/performance.md).
profiles=$(mktemp -d)
trap 'rm -rf "$profiles"' EXIT
filter_ir() { # WASM N PROFILE [CONFIG BODY]
  local wasm=$1 n=$2 out=$3
  shift 3
  MISTYPE_FILTER_WASM="$wasm" valgrind --tool=callgrind --smc-check=all-non-file \
    --dump-instr=yes --dump-line=no --compress-pos=no --compress-strings=no \
    --callgrind-out-file="$out" "$filter_bin" "$n" "$@" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
# One filter's send (NAME: the profiles' name; then filter_ir's WASM and its optional files):
# "INSTRUCTIONS|CODE", CODE as benches/code-lines.py says it.
count_send() { # NAME WASM [CONFIG BODY]
  local name=$1 wasm=$2
  shift 2
  filter_ir "$wasm" 0 /dev/null "$@" >/dev/null
  local base send
  base=$(filter_ir "$wasm" 0 /dev/null "$@")
  filter_ir "$wasm" 100 "$profiles/$name.100" "$@" >/dev/null
  send=$(filter_ir "$wasm" 200 "$profiles/$name.200" "$@")
  # (Between 100 and 200 sends: what every send runs, not the first send's one-time work.)
  echo "$(((send - base) / 200))|$(python3 benches/code-lines.py "$profiles/$name.100" "$profiles/$name.200" 100)"
}
load=(benches/load/filter-config.json benches/load/send.json)
f=$(count_send filter "$wasm")
fl=$(count_send floor "$floor")
lf=$(count_send load-filter "$wasm" "${load[@]}")
lfl=$(count_send load-floor "$floor" "${load[@]}")
echo "filter, a judged JMAP send (3 clean recipients) under the wasmtime host: ${f%%|*} instructions"
echo "  of which the module's compiled code: ${f#*|}"
echo "floor filter, the same request under the wasmtime host: ${fl%%|*} instructions"
echo "  of which the module's compiled code: ${fl#*|}"
echo "filter, the Envoy load test's send (benches/load/) under the wasmtime host: ${lf%%|*} instructions"
echo "  of which the module's compiled code: ${lf#*|}"
echo "floor filter, the same request under the wasmtime host: ${lfl%%|*} instructions"
echo "  of which the module's compiled code: ${lfl#*|}"
