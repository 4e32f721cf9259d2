#!/usr/bin/env bash
# Bounded fuzzing with cargo-fuzz (libFuzzer, nightly toolchain):
#   fuzz/             address parsing and judging (target: address); mistype-smtpd's policy
#                     protocol and milter protocol (targets: policy_request, milter_packet)
#   filter/fuzz/      the filter's body parsers (target: parse_body)
#
#   fuzz/run.sh            # 60 s per target
#   FUZZ_SECONDS=600 fuzz/run.sh
# Not part of `make test` (it needs nightly and takes minutes); run it before a release.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
(cd fuzz && cargo +nightly fuzz run address -- -max_total_time="$secs" -max_len=4096)
(cd fuzz && cargo +nightly fuzz run policy_request -- -max_total_time="$secs" -max_len=65536)
(cd fuzz && cargo +nightly fuzz run milter_packet -- -max_total_time="$secs" -max_len=65536)
(cd filter/fuzz && cargo +nightly fuzz run parse_body -- -max_total_time="$secs" -max_len=65536)
echo "fuzz: every target ran ${secs}s without a crash"
