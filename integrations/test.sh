#!/usr/bin/env bash
# mistype in real webmail, with real parts (no mocks):
#   - Roundcube 1.6 from Debian (elastic and larry skins) with the mistype plugin, Dovecot and an
#     SMTP sink, both skins behind Envoy with the shipped filter/envoy.yaml and the built filter,
#     driven in headless Chromium (integrations/tests/roundcube.suite.mjs);
#   - the browser extension loaded unpacked into Chromium (--headless=new) on compose pages that
#     model the big webmails' compose windows (integrations/tests/compose-models/), on that
#     Roundcube and on the demo page, plus the options page and a managed-policy case
#     (integrations/tests/extension.suite.mjs);
#   - the same Roundcube, without the plugin, sending over SMTP to a private Postfix whose policy
#     service is mistype-smtpd (integrations/tests/smtp.suite.mjs).
# One Roundcube set-up for all of it, on loopback, each server on a port it holds from bind to use
# (integrations/tests/roundcube-env.mjs).
#
#   integrations/test.sh              # everything
#   integrations/test.sh roundcube    # only the plugin
#   integrations/test.sh extension    # only the extension
#   integrations/test.sh smtp         # only Roundcube over SMTP
#
# Honours $CARGO_TARGET_DIR (default <repo>/target); screenshots of every state go to
# $CARGO_TARGET_DIR/webmail-e2e/. Needs root (it installs the plugin into Roundcube's plugins
# folder, starts Apache as www-data, and the extension's Chromium runs in a private mount
# namespace where a per-run copy of /etc/chromium holds its policy files; nothing machine-global
# is written).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
what=${1:-all}
log() { printf '[test-webmail] %s\n' "$*" >&2; }

scripts/ensure-tools.sh webmail
web-lint/build.sh
filter/build.sh >/dev/null

case "$what" in
  all|roundcube|extension|smtp) ;;
  *) echo "usage: $0 [all|roundcube|extension|smtp]" >&2; exit 2 ;;
esac
if [ "$what" = all ] || [ "$what" = smtp ]; then
  scripts/ensure-tools.sh smtp
  cargo build -q -p mistype-smtp
fi
if [ "$what" = all ] || [ "$what" = extension ]; then integrations/build-extension.sh >/dev/null; fi
log "node --test integrations/tests/webmail.test.mjs ($what)"
# One process for every suite: they share one Roundcube set-up.
MISTYPE_WEBMAIL=$what node --test integrations/tests/webmail.test.mjs
