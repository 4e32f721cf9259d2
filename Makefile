# mistype: the two commands a newcomer needs.
#
#   make demo   # install what is missing, build, run the webmail demo behind real Envoy
#   make test   # install what is missing, then every check CI runs
#
# Both honour CARGO_TARGET_DIR (default: target/).

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
.PHONY: demo test tools test-tools lint wasm-core test-core test-filter test-host test-web test-audit test-smtp test-webmail test-clients fuzz-short accuracy accuracy-field bench bench-check instructions fuzz corpus bless

demo:
	demo/run.sh

test: tools test-tools lint wasm-core test-core test-filter fuzz-short test-host test-web test-clients test-webmail test-audit test-smtp
	@echo "make test: all checks passed"

tools:
	scripts/ensure-tools.sh

# The source roots of the crates whose modules must not import each other in a circle.
IMPORT_GRAPH_CRATES := src cli/src filter/src smtp/src web-lint/src testdata/src benches/src host-tests/src

# The install plan for a bare machine covers what every target and script runs.
test-tools:
	scripts/check-install-plan.py

# Formatting, clippy (native and both wasm targets), the docs, the library crates on their
# rust-version, and the licences and sources of every dependency (offline: no advisories).
lint:
	scripts/ensure-tools.sh lint
	cargo fmt --all -- --check
	python3 scripts/import-circles.py --self-test
	python3 scripts/import-circles.py $(IMPORT_GRAPH_CRATES)
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p mistype-filter --target wasm32-wasip1 -- -D warnings
	cargo clippy -p mistype-web-lint --target wasm32-unknown-unknown -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
	msrv=$$(sed -n '/^\[workspace.package\]/,/^\[/s/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
	cargo +$$msrv build --quiet -p mistype --lib --target-dir "$${CARGO_TARGET_DIR:-target}/msrv"
	# (cargo-deny reads every package of the lock file, those of other platforms too, which a
	# build on this one never downloads: fetched first, or a fresh machine fails here.)
	cargo fetch --locked --quiet
	cargo deny --offline --log-level error check licenses bans sources

# The core builds unchanged for both wasm targets (no I/O, clock, threads or cfg(target_arch)).
wasm-core:
	cargo build -p mistype --lib --target wasm32-wasip1
	cargo build -p mistype --lib --target wasm32-unknown-unknown

# Core unit tests, the shared corpus (must-hold cases, golden verdicts, accuracy), doc tests; the
# CLI's unit tests, its commands and audits as a user runs them, the README's and docs/' console
# examples; the corpus crate's own tests.
test-core:
	cargo test -p mistype
	cargo test -p mistype-cli
	cargo test -p mistype-testdata

# `mistype audit` on the log of a real Postfix (a private instance on loopback, relaying to a sink).
test-audit:
	scripts/ensure-tools.sh postfix
	cargo build -q -p mistype-cli
	cli/tests/postfix.py "$${CARGO_TARGET_DIR:-target}/debug/mistype"

# The mail-server surface: mistype-smtpd's pure modules and the built binary under hostile input
# (cargo test), then the Debian package installed with dpkg -i and run behind a real Postfix
# (policy service, SASL through Dovecot, milter over SMTP and through sendmail) with swaks and
# smtplib as clients. Roundcube sending over SMTP runs with the webmail tests (one Roundcube).
test-smtp:
	scripts/ensure-tools.sh smtp
	cargo test -p mistype-smtp
	smtp/tests/e2e.py

# The filter's pure logic natively, then the built mistype_filter.wasm.
test-filter:
	scripts/ensure-tools.sh filter
	cargo test -p mistype-filter
	filter/build.sh

# The built filter under the wasmtime proxy-wasm host, in real Envoy, and the demo run as a user
# would. The filter and the web-lint package (the demo's compose page) are built first, so that
# these never test a stale mistype_filter.wasm or find no package.
test-host:
	scripts/ensure-tools.sh host
	filter/build.sh >/dev/null
	web-lint/build.sh
	cargo test -p host-tests

# The browser module: its TypeScript types against the Rust ones (native), the corpus under
# wasm-bindgen-test in Node and headless Chromium, the package, end to end.
test-web:
	cargo test -p mistype-web-lint --test types
	web-lint/test.sh

# Real webmail: the Roundcube plugin (Debian Roundcube, Dovecot, an SMTP sink, behind Envoy) and
# the browser extension, in headless Chromium.
test-webmail:
	integrations/test.sh

# A short run of every fuzz target (a minute in all) on the nightly toolchain with cargo-fuzz; fails,
# saying which, when either is missing.
fuzz-short:
	scripts/ensure-tools.sh fuzz
	FUZZ_TOTAL_SECONDS=60 fuzz/run.sh

# The official mail API client libraries (Graph JS, msgraph-sdk, @googleapis/gmail,
# google-api-python-client, jmap-jam, jmapc) sending through real Envoy with the shipped
# filter/envoy.yaml to a test mail server (host-tests/clients/README.md).
test-clients:
	scripts/ensure-tools.sh clients
	filter/build.sh >/dev/null
	python3 host-tests/clients/run.py

# --- measurements and tools (not part of `make test`) ---
# Each installs what it needs first, as the test targets do (scripts/ensure-tools.sh GROUP).

# The accuracy table: mistype beside mailcheck and email-spell-checker on testdata/.
accuracy:
	scripts/ensure-tools.sh node
	cargo build -q --release -p mistype-cli
	node benches/compare-peers.mjs

# Field accuracy on held-out data (dnstwist permutations, public domain lists; cached, not committed).
accuracy-field:
	cargo build -q --release -p mistype-cli
	python3 benches/accuracy/field.py

bench:
	scripts/ensure-tools.sh filter
	cargo bench -p mistype-benches

# `mistype check` on JSON lines beside mailcheck on the same requests (requests per second).
bench-check:
	scripts/ensure-tools.sh node
	cargo build -q --release -p mistype-cli
	node benches/bench-check.mjs

# Instruction counts of a check and of building the engine (callgrind; compare code versions).
instructions:
	scripts/ensure-tools.sh bench filter
	benches/instructions.sh

# Regenerate the corpus, then compare: a changed verdict fails with the diff. After reading it,
# `make bless` writes the new golden verdicts (and still fails, showing what it wrote).
corpus:
	python3 testdata/make-corpus.py
	cargo test -p mistype --test integration golden

bless:
	MISTYPE_BLESS=1 cargo test -p mistype --test integration golden

# Bounded fuzzing of every target in fuzz/ (address parsing, the filter's body parsers), 60 s each
# (FUZZ_SECONDS overrides); nightly + cargo-fuzz.
fuzz:
	scripts/ensure-tools.sh fuzz
	fuzz/run.sh
