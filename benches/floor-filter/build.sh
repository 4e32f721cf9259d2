#!/usr/bin/env bash
# Builds the floor filter of benches/load-envoy.sh for wasm32-wasip1 with the workspace's `wasm`
# profile (as filter/build.sh builds mistype), keeps only the callbacks it uses
# (filter/trim-exports.sh, as filter/build.sh does), and prints the artifact's path.
#
#   benches/floor-filter/build.sh     # -> target/wasm32-wasip1/wasm/mistype_floor_filter.wasm
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$repo/target}
cd "$repo"
cargo build --quiet -p mistype-floor-filter --target wasm32-wasip1 --profile wasm
artifact="$target_dir/wasm32-wasip1/wasm/mistype_floor_filter.wasm"
filter/trim-exports.sh "$artifact" memory _initialize proxy_abi_version_0_2_1 \
    proxy_on_memory_allocate proxy_on_vm_start proxy_on_configure proxy_on_context_create \
    proxy_on_delete proxy_on_request_headers proxy_on_request_body proxy_on_request_trailers
echo "$artifact"
