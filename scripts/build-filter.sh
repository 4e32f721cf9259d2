#!/usr/bin/env bash
# Builds the proxy-wasm filter (filter/, crate mistype-filter) for wasm32-wasip1 with the
# `wasm` profile, prints the artifact's path on stdout and its size on stderr.
#
#   scripts/build-filter.sh            # -> target/wasm32-wasip1/wasm/mistype_filter.wasm
#   CARGO_TARGET_DIR=/tmp/t scripts/build-filter.sh
#
# Honours $CARGO_TARGET_DIR (default: target/ in the repository).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$repo/target}
cd "$repo"
cargo build --quiet -p mistype-filter --target wasm32-wasip1 --profile wasm
artifact="$target_dir/wasm32-wasip1/wasm/mistype_filter.wasm"
if [[ ! -f "$artifact" ]]; then
    echo "build-filter.sh: cargo succeeded but $artifact is missing" >&2
    exit 1
fi
bytes=$(wc -c <"$artifact")
echo "mistype_filter.wasm: $bytes bytes ($(( (bytes + 1023) / 1024 )) KiB)" >&2
echo "$artifact"
