# mistype: the two commands a newcomer needs.
#
#   make demo   # install what is missing, build, run the webmail demo behind real Envoy
#   make test   # install what is missing, then every check CI runs
#
# Both honour CARGO_TARGET_DIR (default: target/).

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
.PHONY: demo test tools lint wasm-core test-core test-filter test-host test-web test-clients accuracy bench fuzz corpus

demo:
	scripts/demo.sh

test: tools lint wasm-core test-core test-filter test-host test-web test-clients
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

# Core unit tests, the shared corpus (must-hold cases, golden verdicts, accuracy), the CLI, doc tests.
test-core:
	cargo test -p mistype

# The filter's pure logic natively, then the built mistype_filter.wasm.
test-filter:
	cargo test -p mistype-filter
	scripts/build-filter.sh

# The built filter under the wasmtime proxy-wasm host, in real Envoy, and the demo run as a user would.
test-host:
	cargo test -p host-tests

# The browser module: corpus under wasm-bindgen-test in Node and headless Chromium, package, e2e.
test-web:
	scripts/test-web-lint.sh

# The official mail API client libraries (Graph JS, msgraph-sdk, @googleapis/gmail,
# google-api-python-client, jmap-jam, jmapc) sending through real Envoy with the shipped
# filter/envoy.yaml to a test mail server (host-tests/clients/README.md).
test-clients:
	scripts/ensure-tools.sh clients
	scripts/build-filter.sh >/dev/null
	python3 host-tests/clients/run.py

# --- measurements and tools (not part of `make test`) ---

# The accuracy table: mistype beside mailcheck and email-spell-checker on testdata/.
accuracy:
	cargo build -q --release -p mistype
	node scripts/compare-peers.mjs

bench:
	cargo bench -p mistype-benches

corpus:
	python3 scripts/make-corpus.py
	MISTYPE_BLESS=1 cargo test -p mistype --test integration golden

# Bounded fuzzing of address parsing and the filter's body parsers (nightly + cargo-fuzz).
fuzz:
	scripts/fuzz.sh
