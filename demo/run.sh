#!/usr/bin/env bash
# The mistype demo, end to end, on loopback:
#
#   browser / curl --> Envoy 127.0.0.1:8080 (mistype_filter.wasm, block mode, embedded policy)
#                  --> demo webmail backend (demo/backend.py: compose page, JMAP, outbox)
#
#   demo/run.sh                       # or: make demo
#   MISTYPE_DEMO_PORT=9080 demo/run.sh
#   MISTYPE_DEMO_PORT=0 demo/run.sh   # Envoy takes a free port and the banner names it (tests)
#
# Installs what is missing (scripts/ensure-tools.sh), builds the filter and the web-lint npm
# package, starts both processes, prints what to open and what to try, and runs until Ctrl-C
# (or SIGTERM), which stops everything it started.
#
# Environment: MISTYPE_DEMO_PORT (default 8080); CARGO_TARGET_DIR (default <repo>/target);
# MISTYPE_DEMO_SKIP_BUILD=1 uses the already built artifacts (skips ensure-tools and the builds);
# MISTYPE_FILTER_WASM overrides the filter's path; ENVOY_BIN (default: envoy on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${MISTYPE_DEMO_PORT:-8080}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
ENVOY=${ENVOY_BIN:-envoy}
WASM=${MISTYPE_FILTER_WASM:-$TARGET_DIR/wasm32-wasip1/wasm/mistype_filter.wasm}
CONFIRM_HEADER=x-mistype-confirm

log() { printf '[demo] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "$PORT" in '' | *[!0-9]*) die "MISTYPE_DEMO_PORT must be a port number, not '$PORT'" ;; esac

if [ "${MISTYPE_DEMO_SKIP_BUILD:-0}" != 1 ]; then
  scripts/ensure-tools.sh demo
  if [ -x filter/build.sh ]; then
    filter/build.sh
  else
    log "cargo build -p mistype-filter --target wasm32-wasip1 --profile wasm"
    cargo build -q -p mistype-filter --target wasm32-wasip1 --profile wasm
  fi
  if [ -x web-lint/build.sh ] && [ -d web-lint ]; then
    web-lint/build.sh
  else
    log "web-lint is not in this checkout: the compose page is skipped (curl still works)"
  fi
fi
[ -f "$WASM" ] || die "$WASM is missing (filter/build.sh builds it)"
command -v "$ENVOY" >/dev/null || die "envoy is not on PATH (scripts/ensure-tools.sh envoy)"

if [ "$PORT" != 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "127.0.0.1:$PORT is already in use; set MISTYPE_DEMO_PORT to a free port"
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/mistype-demo.XXXXXX")
BACKEND_PID=
ENVOY_PID=

stop_all() {
  trap - INT TERM EXIT
  local pids="" pid i
  for pid in $ENVOY_PID $BACKEND_PID; do
    kill -TERM "$pid" 2>/dev/null && pids="$pids $pid"
  done
  # Bounded: 5 s for a clean exit, then SIGKILL.
  for i in $(seq 50); do
    local alive=""
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN"
}
trap 'log "stopping"; stop_all; exit 130' INT
trap 'log "stopping"; stop_all; exit 143' TERM
trap 'stop_all' EXIT

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2 i
  shift 2
  for i in $(seq $((seconds * 10))); do
    if "$@" 2>/dev/null; then return 0; fi
    for pid in $ENVOY_PID $BACKEND_PID; do
      kill -0 "$pid" 2>/dev/null || die "$what: a process exited early (see the log above)"
    done
    sleep 0.1
  done
  die "$what: not ready after ${seconds}s"
}

# 1. The webmail backend, on a port the OS chooses.
python3 demo/backend.py --port 0 --port-file "$RUN/backend.port" --root "$ROOT" &
BACKEND_PID=$!
wait_for 20 "backend" test -s "$RUN/backend.port"
BACKEND_PORT=$(cat "$RUN/backend.port")

# 2. Envoy with the filter in block mode, the embedded policy, and a confirm secret made now.
SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
CONFIG=$(printf '{"mode": "block", "check_path": "/check", "confirm": {"header": "%s", "secret": "%s", "ttl_seconds": 600}}' \
  "$CONFIRM_HEADER" "$SECRET")
python3 demo/render_envoy.py --listen-port "$PORT" --admin-port 0 --upstream-port "$BACKEND_PORT" \
  --wasm "$WASM" --config "$CONFIG" >"$RUN/envoy.yaml"
chmod 600 "$RUN/envoy.yaml"
"$ENVOY" -c "$RUN/envoy.yaml" --disable-hot-restart --concurrency 1 --log-level warn \
  --admin-address-path "$RUN/admin.address" &
ENVOY_PID=$!
admin_ready() {
  [ -s "$RUN/admin.address" ] &&
    [ "$(curl -s --max-time 2 "http://$(cat "$RUN/admin.address")/ready")" = LIVE ]
}
wait_for 90 "envoy" admin_ready
if [ "$PORT" = 0 ]; then
  # Envoy bound a port of the OS's choosing and keeps it: its admin interface says which.
  listener_port() {
    curl -s --max-time 2 "http://$(cat "$RUN/admin.address")/listeners?format=json" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["listener_statuses"]:
    if s["name"] == "webmail":
        print(s["local_address"]["socket_address"]["port_value"])'
  }
  has_listener_port() { [ -n "$(listener_port 2>/dev/null)" ]; }
  wait_for 20 "envoy listener port" has_listener_port
  PORT=$(listener_port)
fi
wait_for 20 "envoy listener" curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/healthz"

URL="http://127.0.0.1:$PORT"
cat <<EOF

  mistype demo is running (Ctrl-C stops it).

    compose page   $URL/
    outbox         $URL/outbox        (what got through; JSON: $URL/outbox.json)
    Envoy admin    http://$(cat "$RUN/admin.address")/stats?filter=mistype

  Try, from any directory:

    # a misaddressed send (navy.ml is Mali): refused in a JMAP response (notCreated: forbiddenToSend),
    # with the suggestion, and a confirm token under mistype.confirm
    curl -s $URL/jmap/api -H 'content-type: application/json' --data-binary @$ROOT/demo/send-misaddressed.json

    # send it anyway: the same request with the token from that answer
    curl -s $URL/jmap/api -H 'content-type: application/json' -H '$CONFIRM_HEADER: <token>' --data-binary @$ROOT/demo/send-misaddressed.json

    # a clean send (navy.mil): reaches the outbox
    curl -s $URL/jmap/api -H 'content-type: application/json' --data-binary @$ROOT/demo/send-clean.json

EOF

# Run until either process exits or we are told to stop (the traps above).
set +e
wait -n "$ENVOY_PID" "$BACKEND_PID"
status=$?
log "envoy or the backend exited (status $status); stopping everything"
exit "$status"
