#!/usr/bin/env bash
# Instruction counts of the engine benchmark's operations, under callgrind (valgrind): a check of
# a typo recipient, of a clean recipient of an unknown domain, and of a recipient of a reference
# domain (the common case: `jane@gmail.com`, bare and with a display name) against 100,000
# references, and building that engine.
# Each count is (run with N operations - run with none) / N, so set-up is not counted.
#
#   benches/instructions.sh          # needs valgrind; builds the driver in release mode
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}
cargo build -q --release -p mistype-benches --example instructions
bin="$CARGO_TARGET_DIR/release/examples/instructions"
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
