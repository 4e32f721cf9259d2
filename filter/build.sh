#!/usr/bin/env bash
# Builds the proxy-wasm filter (filter/, crate mistype-filter) for wasm32-wasip1 with the
# `wasm` profile, prints the artifact's path on stdout and its size on stderr.
#
#   filter/build.sh            # -> target/wasm32-wasip1/wasm/mistype_filter.wasm
#   CARGO_TARGET_DIR=/tmp/t filter/build.sh
#
# Honours $CARGO_TARGET_DIR (default: target/ in the repository).
#
# The proxy-wasm SDK exports every callback of the ABI. Envoy calls an exported callback on every
# stream whether or not the filter does anything in it, and skips callbacks a module does not
# export; each call is a crossing into V8. So the artifact keeps only the callbacks the filter
# uses (wasm-metadce from binaryen drops the rest and the code only they reach): per request,
# context create, request headers, body and trailers, response headers, delete, and the answer to
# an HTTP call (the lookup of a draft sent by id); per root context, the tick that watches held
# sends (a send whose body never reaches the filter is answered, not left to stall). Response
# body and trailers, on_log, on_done (whose default is "done") and the TCP, gRPC and queue
# callbacks are gone.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$repo/target}
cd "$repo"
cargo build --quiet -p mistype-filter --target wasm32-wasip1 --profile wasm
artifact="$target_dir/wasm32-wasip1/wasm/mistype_filter.wasm"
if [[ ! -f "$artifact" ]]; then
    echo "filter/build.sh: cargo succeeded but $artifact is missing" >&2
    exit 1
fi
filter/trim-exports.sh "$artifact" memory _initialize proxy_abi_version_0_2_1 \
    proxy_on_memory_allocate proxy_on_vm_start proxy_on_configure proxy_on_context_create \
    proxy_on_delete proxy_on_request_headers proxy_on_request_body proxy_on_request_trailers \
    proxy_on_response_headers proxy_on_http_call_response proxy_on_tick
bytes=$(wc -c <"$artifact")
echo "mistype_filter.wasm: $bytes bytes ($(( (bytes + 1023) / 1024 )) KiB)" >&2
echo "$artifact"
