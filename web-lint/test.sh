#!/usr/bin/env bash
# Test mistype-web-lint for real, no mocks:
#   1. the shared case corpus (testdata/) through the module under wasm-bindgen-test, in Node and
#      in headless Chromium (chromedriver), compared with the native golden verdicts;
#   2. the npm package (web-lint/build.sh) loaded in Node (initSync) and the demo page
#      driven end to end in headless Chromium (playwright-core from scripts/js/node_modules, the
#      system chromium; nothing downloaded), also against the real demo backend and behind real
#      Envoy with the built filter (a missing Envoy fails the run; see e2e.test.mjs).
#
#   web-lint/test.sh            # everything
#   web-lint/test.sh wasm       # only 1
#   web-lint/test.sh e2e        # only 2
#
# Honours $CARGO_TARGET_DIR (default <repo>/target); the screenshot of the warning is written to
# $CARGO_TARGET_DIR/web-lint-e2e/warning.png.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
what=${1:-all}
log() { printf '[test-web-lint] %s\n' "$*" >&2; }

scripts/ensure-tools.sh web

run_wasm_tests() {
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
  # Generous: the first browser start on a busy machine can be slow.
  export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
  log "wasm-bindgen-test in Node"
  cargo test -p mistype-web-lint --target wasm32-unknown-unknown --test web

  log "wasm-bindgen-test in headless Chromium"
  local caps="$CARGO_TARGET_DIR/web-lint-webdriver.json"
  mkdir -p "$CARGO_TARGET_DIR"
  cat >"$caps" <<EOF
{"goog:chromeOptions": {"binary": "$(command -v chromium)",
  "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-dev-shm-usage"]}}
EOF
  CHROMEDRIVER=$(command -v chromedriver) \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$caps" \
  WASM_BINDGEN_USE_BROWSER=1 \
    cargo test -p mistype-web-lint --target wasm32-unknown-unknown --test web
}

run_e2e() {
  scripts/ensure-tools.sh envoy
  web-lint/build.sh
  filter/build.sh >/dev/null
  log "the package in Node, and end to end in headless Chromium (node --test)"
  node --test web-lint/tests/node.test.mjs web-lint/tests/e2e.test.mjs
}

case "$what" in
  wasm) run_wasm_tests ;;
  e2e) run_e2e ;;
  all) run_wasm_tests; run_e2e ;;
  *) echo "usage: $0 [all|wasm|e2e]" >&2; exit 2 ;;
esac
