#!/usr/bin/env bash
# Keeps only the named exports of a proxy-wasm module, and the code they reach (wasm-metadce from
# binaryen), in place. Envoy calls every exported callback on every stream and skips the ones a
# module does not export, so a filter exports only those it uses.
#
#   filter/trim-exports.sh ARTIFACT EXPORT...
#
# Used by filter/build.sh and benches/floor-filter/build.sh.
set -euo pipefail
[ "$#" -ge 2 ] || { echo "usage: filter/trim-exports.sh ARTIFACT EXPORT..." >&2; exit 2; }
artifact=$1
shift
[[ -f "$artifact" ]] || { echo "trim-exports.sh: $artifact is missing" >&2; exit 1; }
command -v wasm-metadce >/dev/null || {
    echo "trim-exports.sh: wasm-metadce (binaryen) is missing; run scripts/ensure-tools.sh" >&2
    exit 1
}
graph=$(mktemp)
trimmed=$(mktemp)
trap 'rm -f "$graph" "$trimmed"' EXIT
{
    printf '['
    sep=''
    for export in "$@"; do
        printf '%s{"name": "%s", "root": true, "export": "%s"}' "$sep" "$export" "$export"
        sep=', '
    done
    printf ']\n'
} >"$graph"
wasm-metadce -f "$graph" "$artifact" -o "$trimmed" >/dev/null
# Replace the file (cargo hard-links it to deps/; leave that one alone).
rm -f "$artifact"
cp "$trimmed" "$artifact"
