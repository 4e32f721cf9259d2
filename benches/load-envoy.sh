#!/usr/bin/env bash
# Load comparison in real Envoy: the shipped filter/envoy.yaml with the mistype filter and the
# same file without it (the lines between the BEGIN/END mistype-filter markers removed), on
# loopback, bounded in time. Prints a markdown table.
#
#   benches/load-envoy.sh
#
# What runs (all on 127.0.0.1, ports chosen by the OS):
#   upstream   a separate Envoy answering 200 from a direct_response (after buffering the request
#              body), so the upstream is fast and identical for both variants
#   A          Envoy with filter/envoy.yaml minus the filter        (--concurrency 1)
#   B          Envoy with filter/envoy.yaml (block mode, embedded policy, a test secret)
#   client     wrk, LOAD_THREADS threads x LOAD_CONNECTIONS connections (default 1 x 4: on a
#              2-core machine this leaves room for the proxy and the upstream, so the client is
#              not what saturates)
# Scenarios:
#   pass-through GET    GET /mail/inbox       the shipped config routes reads (and every path that
#                                             is not a send route) past the filter: no Wasm call
#   pass-through POST   POST /v1.0/me/messages   Graph's draft creation: JSON under a send API's
#                                             prefix, but not a send endpoint, so the shipped
#                                             config routes it past the filter too
#   JMAP API call       POST /jmap/api        Mailbox/get + Email/query: not a send, but JMAP
#                                             multiplexes every call on one path, so the filter
#                                             reads and parses the body before it lets it pass
#   send                POST /jmap/api        a JMAP Email/set + EmailSubmission/set with three
#                                             clean recipients (the filter parses and judges it)
#   draft send          POST /v1.0/me/messages/D1/send   a Graph draft sent by id, no body: the
#                                             filter looks the draft up on the upstream (a GET
#                                             answered with a Graph message, two clean
#                                             recipients), then judges it
# Each scenario runs LOAD_ROUNDS times per variant, alternating A and B, after a warm-up: a
# throughput run (LOAD_CONNECTIONS connections, saturating) and a latency run (one connection, so
# that latency is the per-request time and not queueing behind the other connections), each
# LOAD_DURATION; the table shows the median round. Then B's memory before and after
# LOAD_MEMORY_REQUESTS sends (admin /memory "allocated" and the process's VmRSS).
#
# Environment: LOAD_DURATION (5s), LOAD_ROUNDS (3), LOAD_THREADS (1), LOAD_CONNECTIONS (4),
# LOAD_MEMORY_REQUESTS (100000), CARGO_TARGET_DIR, MISTYPE_FILTER_WASM, ENVOY_BIN,
# MISTYPE_LOAD_SKIP_BUILD=1 (use the built filter as is).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
WASM=${MISTYPE_FILTER_WASM:-$TARGET_DIR/wasm32-wasip1/wasm/mistype_filter.wasm}
ENVOY=${ENVOY_BIN:-envoy}
DURATION=${LOAD_DURATION:-5s}
ROUNDS=${LOAD_ROUNDS:-3}
THREADS=${LOAD_THREADS:-1}
CONNS=${LOAD_CONNECTIONS:-4}
MEM_REQUESTS=${LOAD_MEMORY_REQUESTS:-100000}

log() { printf '[load-envoy] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v wrk >/dev/null || die "wrk is missing (scripts/ensure-tools.sh load)"
command -v "$ENVOY" >/dev/null || die "envoy is missing (scripts/ensure-tools.sh envoy)"
if [ "${MISTYPE_LOAD_SKIP_BUILD:-0}" != 1 ] && [ -z "${MISTYPE_FILTER_WASM:-}" ]; then
  if [ -x filter/build.sh ]; then
    filter/build.sh
  else
    cargo build -q -p mistype-filter --target wasm32-wasip1 --profile wasm
  fi
fi
[ -f "$WASM" ] || die "$WASM is missing (filter/build.sh)"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/mistype-load.XXXXXX")
PIDS=""
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
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_envoy NAME CONFIG: starts Envoy, waits for /ready (bounded), sets ADMIN_<NAME>, PID_<NAME>.
start_envoy() {
  local name=$1 config=$2 addr="$RUN/$1.admin"
  "$ENVOY" -c "$config" --disable-hot-restart --concurrency 1 --log-level error \
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

# listener_port ADMIN NAME
listener_port() {
  curl -s --max-time 5 "http://$1/listeners?format=json" | python3 -c '
import json, sys
for l in json.load(sys.stdin)["listener_statuses"]:
    if l["name"] == sys.argv[1]:
        print(l["local_address"]["socket_address"]["port_value"])' "$2"
}

# The upstream.
cat >"$RUN/upstream.yaml" <<'EOF'
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
static_resources:
  listeners:
  - name: upstream
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: upstream
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match:
                  safe_regex: {regex: '/v1\.0/me/messages/[^/]+'}
                  headers:
                  - name: ":method"
                    string_match: {exact: GET}
                direct_response:
                  status: 200
                  body: {inline_string: '{"id":"D1","from":{"emailAddress":{"address":"ray.k@army.mil"}},"toRecipients":[{"emailAddress":{"address":"j.smith@navy.mil"}}],"ccRecipients":[{"emailAddress":{"address":"friend@gmail.com"}}],"bccRecipients":[]}'}
              - match: {prefix: "/"}
                direct_response: {status: 200, body: {inline_string: '{"ok":true}'}}
          http_filters:
          - name: envoy.filters.http.buffer
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer
              max_request_bytes: 1048576
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
EOF
start_envoy upstream "$RUN/upstream.yaml"
UPSTREAM_PORT=$(listener_port "$ADMIN_upstream" upstream)

CONFIG='{"mode": "block", "check_path": "/check", "confirm": {"header": "x-mistype-confirm", "secret": "load-test-secret-not-for-production", "ttl_seconds": 600}}'
python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
  --without-filter >"$RUN/nofilter.yaml"
python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
  --wasm "$WASM" --config "$CONFIG" >"$RUN/filter.yaml"
start_envoy nofilter "$RUN/nofilter.yaml"
start_envoy filter "$RUN/filter.yaml"
PORT_nofilter=$(listener_port "$ADMIN_nofilter" webmail)
PORT_filter=$(listener_port "$ADMIN_filter" webmail)

# wrk scripts: a done() that prints one machine-readable line (latencies in microseconds).
cat >"$RUN/report.lua" <<'EOF'
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d rps=%.1f p50=%d p99=%d non2xx=%d errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
EOF
BODY=$(python3 -c '
import json
rcpt = ["j.smith@navy.mil", "ops@army.mil", "friend@gmail.com"]
print(json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"],
  "methodCalls": [["Email/set", {"accountId": "demo", "create": {"m1": {
      "from": [{"name": "Sgt Ray", "email": "ray.k@army.mil"}],
      "to": [{"name": None, "email": r} for r in rcpt], "cc": [], "bcc": [],
      "subject": "Movement schedule", "bodyValues": {"1": {"value": "Schedule for next week attached."}},
      "textBody": [{"partId": "1", "type": "text/plain"}]}}}, "0"],
    ["EmailSubmission/set", {"accountId": "demo", "create": {"s1": {"emailId": "#m1",
      "envelope": {"mailFrom": {"email": "ray.k@army.mil"}, "rcptTo": [{"email": r} for r in rcpt]}}}}, "1"]]}))')
{
  printf 'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n'
  printf 'wrk.body = [==[%s]==]\n' "$BODY"
  cat "$RUN/report.lua"
} >"$RUN/send.lua"
{
  printf 'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n'
  printf 'wrk.body = [==[{"subject": "Movement schedule", "body": {"content": "draft"}}]==]\n'
  cat "$RUN/report.lua"
} >"$RUN/post.lua"
{
  printf 'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n'
  printf 'wrk.body = [==[%s]==]\n' '{"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], "methodCalls": [["Mailbox/get", {"accountId": "demo", "ids": null}, "0"], ["Email/query", {"accountId": "demo", "filter": {"inMailbox": "inbox"}, "sort": [{"property": "receivedAt", "isAscending": false}], "limit": 50}, "1"]]}'
  cat "$RUN/report.lua"
} >"$RUN/api.lua"
{
  printf 'wrk.method = "POST"\nwrk.headers["authorization"] = "Bearer load-test"\n'
  cat "$RUN/report.lua"
} >"$RUN/draft.lua"

# Sanity: the send passes the filter (200), a misaddressed one is blocked (422).
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' --data-binary "$BODY" \
  "http://127.0.0.1:$PORT_filter/jmap/api")
[ "$code" = 200 ] || die "the clean send got $code through the filter (expected 200)"
verdict=$(curl -s -o /dev/null -D - -H 'content-type: application/json' \
  --data-binary @demo/send-misaddressed.json "http://127.0.0.1:$PORT_filter/jmap/api" |
  tr -d '\r' | sed -n 's/^x-mistype-verdict: //Ip')
[ "$verdict" = block ] || die "the misaddressed sample was not refused (x-mistype-verdict: '$verdict')"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'authorization: Bearer load-test' \
  "http://127.0.0.1:$PORT_filter/v1.0/me/messages/D1/send")
[ "$code" = 200 ] || die "the clean draft send got $code through the filter (expected 200)"

# run_wrk VARIANT SCENARIO DURATION CONNECTIONS -> RESULT line
run_wrk() {
  local port_var="PORT_$1" url script
  case "$2" in
    pass) url="http://127.0.0.1:${!port_var}/mail/inbox"; script="$RUN/report.lua" ;;
    post) url="http://127.0.0.1:${!port_var}/v1.0/me/messages"; script="$RUN/post.lua" ;;
    api) url="http://127.0.0.1:${!port_var}/jmap/api"; script="$RUN/api.lua" ;;
    send) url="http://127.0.0.1:${!port_var}/jmap/api"; script="$RUN/send.lua" ;;
    draft) url="http://127.0.0.1:${!port_var}/v1.0/me/messages/D1/send"; script="$RUN/draft.lua" ;;
  esac
  wrk -t"$THREADS" -c"$4" -d"$3" --latency -s "$script" "$url" | grep '^RESULT'
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# cpu_ticks PID: user + system CPU time of a process, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

declare -A RESULTS LATENCY
for scenario in pass post api send draft; do
  for variant in nofilter filter; do
    log "warm-up: $scenario via $variant"
    run_wrk "$variant" "$scenario" 3s "$CONNS" >/dev/null
  done
  for round in $(seq "$ROUNDS"); do
    for variant in nofilter filter; do
      log "round $round/$ROUNDS: $scenario via $variant: throughput ($DURATION, $CONNS connections), latency ($DURATION, 1 connection)"
      pid_var="PID_$variant"
      t0=$(cpu_ticks "${!pid_var}")
      line=$(run_wrk "$variant" "$scenario" "$DURATION" "$CONNS")
      t1=$(cpu_ticks "${!pid_var}")
      [ "$(field non2xx "$line")" = 0 ] && [ "$(field errors "$line")" = 0 ] ||
        die "$scenario via $variant had errors: $line"
      # Envoy's own CPU time per request (µs): what the filter costs, independent of how busy
      # the rest of the machine is.
      cpu=$(awk -v t=$((t1 - t0)) -v us="$TICK_US" -v n="$(field requests "$line")" 'BEGIN {printf "%.1f", t * us / n}')
      RESULTS[$scenario.$variant.$round]="$line cpu=$cpu"
      line=$(run_wrk "$variant" "$scenario" "$DURATION" 1)
      [ "$(field non2xx "$line")" = 0 ] && [ "$(field errors "$line")" = 0 ] ||
        die "$scenario via $variant had errors: $line"
      LATENCY[$scenario.$variant.$round]=$line
    done
  done
done

# median KEY_PREFIX FIELD: the median over rounds (rps from the throughput runs, p50/p99 from
# the single-connection latency runs)
median() {
  local r vals=()
  for r in $(seq "$ROUNDS"); do
    if [ "$2" = rps ] || [ "$2" = cpu ]; then vals+=("$(field "$2" "${RESULTS[$1.$r]}")"); else vals+=("$(field "$2" "${LATENCY[$1.$r]}")"); fi
  done
  printf '%s\n' "${vals[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

mem_allocated() { curl -s --max-time 5 "http://$ADMIN_filter/memory" | python3 -c 'import json,sys; print(json.load(sys.stdin)["allocated"])'; }
mem_rss() { awk '/^VmRSS/ {print $2 * 1024}' "/proc/$PID_filter/status"; }
curl -s --max-time 5 -o /dev/null "http://$ADMIN_filter/stats" # settle stats allocation
ALLOC_BEFORE=$(mem_allocated)
RSS_BEFORE=$(mem_rss)
log "memory: $MEM_REQUESTS sends via the filter"
# wrk runs for a duration, not a count: 5 s runs until the count is reached (at most 60 runs).
MEM_DONE=0
for _ in $(seq 60); do
  line=$(wrk -t"$THREADS" -c"$CONNS" -d5s -s "$RUN/send.lua" "http://127.0.0.1:$PORT_filter/jmap/api" | grep '^RESULT')
  [ "$(field non2xx "$line")" = 0 ] || die "memory run had non-2xx answers: $line"
  MEM_DONE=$((MEM_DONE + $(field requests "$line")))
  [ "$MEM_DONE" -ge "$MEM_REQUESTS" ] && break
done
ALLOC_AFTER=$(mem_allocated)
RSS_AFTER=$(mem_rss)
STATS=$(curl -s --max-time 5 "http://$ADMIN_filter/stats?filter=mistype" | grep -v -e '\.api\.' -e vm_reload | sed 's/^/    /')

python3 - "$ROUNDS" "$DURATION" "$THREADS" "$CONNS" \
  "$MEM_DONE" "$ALLOC_BEFORE" "$ALLOC_AFTER" "$RSS_BEFORE" "$RSS_AFTER" "$(nproc)" \
  $(for sc in pass post api send draft; do for va in nofilter filter; do for f in rps p50 p99 cpu; do median "$sc.$va" "$f"; done; done; done) <<'EOF'
import sys
a = sys.argv[1:]
rounds, duration, threads, conns = a[0:4]
mem_n, ab, aa, rb, ra, cores = int(a[4]), int(a[5]), int(a[6]), int(a[7]), int(a[8]), a[9]
v = [float(x) for x in a[10:]]
names = ["pass-through GET (routed past the filter)",
         "pass-through POST to a non-send endpoint, Graph draft creation (routed past the filter)",
         "JMAP API call, not a send: Mailbox/get + Email/query (body parsed, then passed)",
         "JMAP send, 3 clean recipients (parsed and judged)",
         "Graph draft sent by id (looked up on the upstream, then judged)"]
rows = []
for k, name in enumerate(names):
    base, filt = v[8 * k:8 * k + 4], v[8 * k + 4:8 * k + 8]
    rows.append((name, base, filt))
def ok(b): return "yes" if b else "**no**"
print()
print("Envoy 1.40 (V8), loopback, %s cores. Throughput: wrk %s thread(s) x %s connections (saturating). "
      "Latency: wrk 1 thread x 1 connection (no queueing: p50/p99 are per-request times). "
      "Envoy CPU: the proxy's user+system CPU time per request in the throughput runs. "
      "%s per run, A/B interleaved, median of %s rounds." % (cores, threads, conns, duration, rounds))
print()
print("| scenario | req/s no filter / filter | ratio | Envoy CPU µs/req no filter / filter | CPU ratio | p50 µs no filter / filter (added) | p99 µs no filter / filter (added) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, (r0, a50, a99, c0), (r1, b50, b99, c1) in rows:
    print("| %s | %.0f / %.0f | %.1f%% | %.1f / %.1f | %.1f%% | %.0f / %.0f (%+.0f) | %.0f / %.0f (%+.0f) |"
          % (name, r0, r1, 100 * r1 / r0, c0, c1, 100 * c0 / c1 if c1 else 0, a50, b50, b50 - a50, a99, b99, b99 - a99))
g, p, j, s, d = rows
print()
print("| target | measured | met |")
print("|---|---:|---|")
for label, (name, (r0, _, _, c0), (r1, _, _, c1)) in (("GET", g), ("POST", p)):
    print("| pass-through %s throughput >= 95%% of no filter: measured req/s ratio; capacity from Envoy CPU per request | %.1f%%; %.1f%% | %s; %s |"
          % (label, 100 * r1 / r0, 100 * c0 / c1 if c1 else 0, ok(r1 >= 0.95 * r0), ok(c1 and c0 >= 0.95 * c1)))
(name, (r0, _, _, c0), (r1, _, _, c1)) = j
print("| JMAP non-send API call (no target; for sizing): req/s ratio; Envoy CPU ratio | %.1f%%; %.1f%% | |"
      % (100 * r1 / r0, 100 * c0 / c1 if c1 else 0))
(_, (_, a50, a99, _), (_, b50, b99, _)) = s
print("| send: added p50 <= 200 µs | %+.0f µs | %s |" % (b50 - a50, ok(b50 - a50 <= 200)))
print("| send: added p99 <= 1 ms | %+.0f µs | %s |" % (b99 - a99, ok(b99 - a99 <= 1000)))
(_, (_, a50, a99, _), (_, b50, b99, _)) = d
print("| draft send by id, with its lookup (no target; what the lookup adds): added p50; added p99 | %+.0f µs; %+.0f µs | |"
      % (b50 - a50, b99 - a99))
def mib(x): return x / 1048576
print("| memory flat across %d sends: Envoy allocated (admin /memory) | %.1f -> %.1f MiB (%+.2f MiB) | %s |"
      % (mem_n, mib(ab), mib(aa), mib(aa - ab), ok(aa - ab < 4 * 1048576)))
print("| memory flat across %d sends: process RSS (Envoy + V8) | %.1f -> %.1f MiB (%+.2f MiB) | %s |"
      % (mem_n, mib(rb), mib(ra), mib(ra - rb), ok(ra - rb < 8 * 1048576)))
la = open("/proc/loadavg").read().split()[:3]
print()
print("Load average at the end of the run: %s. Other work on the machine lowers throughput and inflates p99 "
      "for both variants; Envoy CPU per request is the least disturbed figure." % " ".join(la))
EOF
echo
echo "Filter counters after the run (B):"
echo "$STATS"
