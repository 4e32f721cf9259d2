#!/usr/bin/env bash
# Builds the floor filter of benches/load-envoy.sh for wasm32-wasip1 with the workspace's `wasm`
# profile (as filter/build.sh builds mistype), keeps only the callbacks it uses
# (filter/trim-exports.sh, as filter/build.sh does), and prints the artifact's path. With a
# FEATURE (a variant of benches/floor-filter/Cargo.toml: header-reads, clock-reads,
# counter-increments, busy, large-data, large-code), builds that variant in a target directory
# of its own, so that the floor's artifact stays the floor.
#
#   benches/floor-filter/build.sh            # -> target/wasm32-wasip1/wasm/mistype_floor_filter.wasm
#   benches/floor-filter/build.sh busy       # -> target/wasm32-wasip1/wasm/mistype_floor_filter-busy.wasm
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$repo/target}
case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
cd "$repo"
feature=${1:-}
if [ -z "$feature" ]; then
  cargo build --quiet -p mistype-floor-filter --target wasm32-wasip1 --profile wasm
  artifact="$target_dir/wasm32-wasip1/wasm/mistype_floor_filter.wasm"
else
  # (cargo refuses a feature the crate does not have, naming it.)
  CARGO_TARGET_DIR="$target_dir/floor-variants" cargo build --quiet -p mistype-floor-filter \
    --target wasm32-wasip1 --profile wasm --features "$feature"
  artifact="$target_dir/wasm32-wasip1/wasm/mistype_floor_filter-$feature.wasm"
  mkdir -p "$(dirname "$artifact")"
  cp "$target_dir/floor-variants/wasm32-wasip1/wasm/mistype_floor_filter.wasm" "$artifact"
fi
filter/trim-exports.sh "$artifact" memory _initialize proxy_abi_version_0_2_1 \
    proxy_on_memory_allocate proxy_on_vm_start proxy_on_configure proxy_on_context_create \
    proxy_on_delete proxy_on_request_headers proxy_on_request_body proxy_on_request_trailers
echo "$artifact"
