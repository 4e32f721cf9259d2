# Shell functions the Envoy benchmarks share (sourced by benches/load-envoy.sh and
# benches/big-sends.sh). They use the caller's $ENVOY and die().

# run_dir NAME: a run directory in $RUN and the processes to stop at exit in $PIDS; on exit,
# interrupt or termination the processes are stopped (TERM, then KILL) and the directory removed.
run_dir() {
  RUN=$(mktemp -d "${TMPDIR:-/tmp}/mistype-$1.XXXXXX")
  PIDS=""
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

cleanup() {
  trap - INT TERM EXIT
  local pid
  for pid in $PIDS; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $PIDS; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$RUN"
}

# start_envoy NAME CONFIG: starts Envoy, waits for /ready (bounded), sets ADMIN_<NAME>, PID_<NAME>.
# With ENVOY_CPUS set (a taskset CPU list), Envoy runs on those CPUs only.
start_envoy() {
  local name=$1 config=$2 addr="$RUN/$1.admin"
  ${ENVOY_CPUS:+taskset -c "$ENVOY_CPUS"} "$ENVOY" -c "$config" --disable-hot-restart --concurrency 1 --log-level error \
    --admin-address-path "$addr" >"$RUN/$name.log" 2>&1 &
  local pid=$!
  PIDS="$PIDS $pid"
  for _ in $(seq 900); do
    kill -0 "$pid" 2>/dev/null || { cat "$RUN/$name.log" >&2; die "envoy $name exited"; }
    if [ -s "$addr" ] && [ "$(curl -s --max-time 2 "http://$(cat "$addr")/ready")" = LIVE ]; then
      printf -v "ADMIN_$name" '%s' "$(cat "$addr")"
      printf -v "PID_$name" '%s' "$pid"
      return 0
    fi
    sleep 0.1
  done
  die "envoy $name not ready after 90s"
}

# listener_port ADMIN NAME: the port Envoy bound for its listener NAME.
listener_port() {
  curl -s --max-time 5 "http://$1/listeners?format=json" | python3 -c '
import json, sys
for l in json.load(sys.stdin)["listener_statuses"]:
    if l["name"] == sys.argv[1]:
        print(l["local_address"]["socket_address"]["port_value"])' "$2"
}
