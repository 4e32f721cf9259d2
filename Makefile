# mistype: the two commands a newcomer needs.
#
#   make demo   # install what is missing, build, run the webmail demo behind real Envoy
#   make test   # install what is missing, then every check CI runs
#
# Both honour CARGO_TARGET_DIR (default: target/).

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
.PHONY: demo test tools lint wasm-core test-core test-filter test-host test-web accuracy bench instructions fuzz corpus

demo:
	demo/run.sh

test: tools lint wasm-core test-core test-filter test-host test-web
	@echo "make test: all checks passed"

tools:
	scripts/ensure-tools.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p mistype-filter --target wasm32-wasip1 -- -D warnings
	cargo clippy -p mistype-web-lint --target wasm32-unknown-unknown -- -D warnings

# The core builds unchanged for both wasm targets (no I/O, clock, threads or cfg(target_arch)).
wasm-core:
	cargo build -p mistype --lib --no-default-features --target wasm32-wasip1
	cargo build -p mistype --lib --no-default-features --target wasm32-unknown-unknown

# Core unit tests, the shared corpus (must-hold cases, golden verdicts, accuracy), the CLI, doc
# tests, the README's and docs/' console examples; the corpus crate's own tests.
test-core:
	cargo test -p mistype
	cargo test -p mistype-testdata

# The filter's pure logic natively, then the built mistype_filter.wasm.
test-filter:
	cargo test -p mistype-filter
	filter/build.sh

# The built filter under the wasmtime proxy-wasm host, in real Envoy, and the demo run as a user would.
test-host:
	cargo test -p host-tests

# The browser module: its TypeScript types against the Rust ones (native), the corpus under
# wasm-bindgen-test in Node and headless Chromium, the package, end to end.
test-web:
	cargo test -p mistype-web-lint --test types
	web-lint/test.sh

# --- measurements and tools (not part of `make test`) ---

# The accuracy table: mistype beside mailcheck and email-spell-checker on testdata/.
accuracy:
	cargo build -q --release -p mistype
	node benches/compare-peers.mjs

bench:
	cargo bench -p mistype-benches

# Instruction counts of a check and of building the engine (callgrind; compare code versions).
instructions:
	benches/instructions.sh

corpus:
	python3 testdata/make-corpus.py
	MISTYPE_BLESS=1 cargo test -p mistype --test integration golden

# Bounded fuzzing of address parsing and the filter's body parsers (nightly + cargo-fuzz).
fuzz:
	fuzz/run.sh
