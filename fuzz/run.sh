#!/usr/bin/env bash
# Bounded fuzzing with cargo-fuzz (libFuzzer, nightly toolchain) of every target in fuzz/:
#   address      the core's address parsing and judging
#   parse_body   the filter's header-only look, body parsers, confirm-token binding, and the
#                readers of the mail server's answers about stored messages
#   policy_request, milter_packet   mistype-smtpd's Postfix policy and milter protocol parsers
#
#   fuzz/run.sh                     # 60 s per target (`make fuzz`)
#   FUZZ_SECONDS=30 fuzz/run.sh     # 30 s per target
#   FUZZ_TOTAL_SECONDS=60 fuzz/run.sh   # a minute in all, shared by the targets (`make fuzz-short`,
#                                       # part of `make test`)
#
# Needs the nightly toolchain and cargo-fuzz (scripts/ensure-tools.sh installs them); fails,
# saying so, when either is missing. Builds in $CARGO_TARGET_DIR/fuzz (default target/fuzz);
# the corpus grows in fuzz/corpus/<target>, crashes land in fuzz/artifacts/<target>.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: the nightly toolchain is missing (rustup toolchain install nightly --profile minimal)" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: cargo-fuzz is missing (cargo install cargo-fuzz --version 0.13.2 --locked)" >&2
    exit 1
fi
target_dir=${CARGO_TARGET_DIR:-$PWD/target}/fuzz
mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz/run.sh: no fuzz targets in fuzz/" >&2
    exit 1
fi
if [ -n "${FUZZ_TOTAL_SECONDS:-}" ]; then
    secs=$(( FUZZ_TOTAL_SECONDS / ${#targets[@]} ))
    [ "$secs" -ge 5 ] || secs=5
fi
for t in "${targets[@]}"; do
    case "$t" in
        parse_body) max_len=65536 ;; # whole request bodies
        *) max_len=4096 ;;
    esac
    echo "fuzz: $t for ${secs}s" >&2
    (cd fuzz && cargo +nightly fuzz run "$t" --target-dir "$target_dir" -- \
        -max_total_time="$secs" -max_len="$max_len" -rss_limit_mb=1024)
done
echo "fuzz: ${targets[*]} ran ${secs}s each without a crash"
