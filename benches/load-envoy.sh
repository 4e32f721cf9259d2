#!/usr/bin/env bash
# Load comparison in real Envoy: the shipped filter/envoy.yaml with the mistype filter, the same
# file with a floor filter in its place, and the same file without a filter (the lines between
# the BEGIN/END mistype-filter markers removed), on loopback, bounded in time. Prints markdown
# tables.
#
#   benches/load-envoy.sh
#
# What runs (all on 127.0.0.1, ports chosen by the OS):
#   upstream   a separate Envoy answering 200 from a direct_response (after buffering the request
#              body), so the upstream is fast and identical for both variants
#   A          Envoy with filter/envoy.yaml minus the filter        (--concurrency 1)
#   F          Envoy with filter/envoy.yaml, the floor filter in place of mistype
#              (benches/floor-filter: the same SDK; it holds a request's headers and body, copies
#              the whole body into the VM once, and continues: what any proxy-wasm filter that
#              judges a body pays, on the same routes)
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
# Each scenario runs LOAD_ROUNDS times per variant, interleaving A, F and B, after a warm-up: a
# throughput run (LOAD_CONNECTIONS connections, saturating) and a latency run (one connection, so
# that latency is the per-request time and not queueing behind the other connections), each
# LOAD_DURATION; the table shows the median round. Then B's memory before and after
# LOAD_MEMORY_REQUESTS sends (admin /memory "allocated" and the process's VmRSS).
#
# Environment: LOAD_DURATION (5s), LOAD_ROUNDS (3), LOAD_THREADS (1), LOAD_CONNECTIONS (4),
# LOAD_MEMORY_REQUESTS (100000), LOAD_SCENARIOS (all: "pass post api send draft"),
# LOAD_DELAY_MS (unset: each connection sends as fast as it is answered; set: it waits that long
# after each answer of the send scenario, for a comparison below saturation),
# CARGO_TARGET_DIR, MISTYPE_FILTER_WASM, MISTYPE_FLOOR_WASM (the floor filter ignores its plugin
# configuration and gets B's; another mistype build there makes a paired comparison of two builds
# in one run, far closer than two runs), ENVOY_BIN,
# MISTYPE_LOAD_SKIP_BUILD=1 (use the built filters as they are), LOAD_PIN=1 (the three proxies
# under test on the last CPU, the upstream and wrk on the others, as a proxy runs on cores of its
# own in production: the proxy does not share its core's caches with the load generator, and
# the comparison is steadier; needs taskset and two CPUs), LOAD_EXTRA="NAME=WASM ..." (more
# proxies, each with another build in the floor's place, e.g. the floor filter's variants of
# benches/floor-filter/build.sh; interleaved after the three, throughput runs only, and reported
# as Envoy CPU per request beside the floor's, round by round), LOAD_PERF=1 (perf records each
# proxy in the last round's throughput run and splits its CPU per request between Envoy's own
# code, V8 included; the module's compiled code; and the kernel; needs perf; LOAD_PERF_DIR=DIR
# keeps the recordings there, perf.SCENARIO.VARIANT, for `perf report -i`).
# The load average is read before each round and printed beside the results: the machine may be
# shared, and other work slows every variant.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
WASM=${MISTYPE_FILTER_WASM:-$TARGET_DIR/wasm32-wasip1/wasm/mistype_filter.wasm}
FLOOR_WASM=${MISTYPE_FLOOR_WASM:-$TARGET_DIR/wasm32-wasip1/wasm/mistype_floor_filter.wasm}
SCENARIOS=${LOAD_SCENARIOS:-pass post api send draft}
ENVOY=${ENVOY_BIN:-envoy}
DURATION=${LOAD_DURATION:-5s}
ROUNDS=${LOAD_ROUNDS:-3}
THREADS=${LOAD_THREADS:-1}
CONNS=${LOAD_CONNECTIONS:-4}
MEM_REQUESTS=${LOAD_MEMORY_REQUESTS:-100000}

log() { printf '[load-envoy] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v wrk >/dev/null || die "wrk is missing (scripts/ensure-tools.sh load)"
if [ "${LOAD_PERF:-0}" = 1 ]; then
  command -v perf >/dev/null || die "LOAD_PERF=1 needs perf (linux-perf)"
fi
PROXY_CPUS="" OTHER_CPUS="" PIN=""
if [ "${LOAD_PIN:-0}" = 1 ]; then
  command -v taskset >/dev/null || die "LOAD_PIN=1 needs taskset (util-linux)"
  cpus=$(nproc)
  [ "$cpus" -ge 2 ] || die "LOAD_PIN=1 needs two CPUs; this machine has $cpus"
  PROXY_CPUS=$((cpus - 1))
  OTHER_CPUS="0-$((cpus - 2))"
  PIN="taskset -c $OTHER_CPUS"
fi
command -v "$ENVOY" >/dev/null || die "envoy is missing (scripts/ensure-tools.sh envoy)"
if [ "${MISTYPE_LOAD_SKIP_BUILD:-0}" != 1 ] && [ -z "${MISTYPE_FILTER_WASM:-}" ]; then
  if [ -x filter/build.sh ]; then
    filter/build.sh
  else
    cargo build -q -p mistype-filter --target wasm32-wasip1 --profile wasm
  fi
fi
if [ "${MISTYPE_LOAD_SKIP_BUILD:-0}" != 1 ] && [ -z "${MISTYPE_FLOOR_WASM:-}" ]; then
  benches/floor-filter/build.sh >/dev/null
fi
[ -f "$WASM" ] || die "$WASM is missing (filter/build.sh)"
[ -f "$FLOOR_WASM" ] || die "$FLOOR_WASM is missing (benches/floor-filter/build.sh)"
EXTRA_NAMES=""
declare -A EXTRA_WASM
for entry in ${LOAD_EXTRA:-}; do
  name=${entry%%=*} wasm=${entry#*=}
  [[ "$entry" == *=* && "$name" =~ ^[a-z][a-z0-9_]*$ ]] ||
    die "LOAD_EXTRA: '$entry' is not NAME=WASM (NAME: lower-case letters, digits, _)"
  case " nofilter floor filter upstream $EXTRA_NAMES " in
    *" $name "*) die "LOAD_EXTRA: the name '$name' is taken" ;;
  esac
  [ -f "$wasm" ] || die "LOAD_EXTRA: $name: $wasm is missing"
  EXTRA_WASM[$name]=$wasm
  EXTRA_NAMES="$EXTRA_NAMES $name"
done

# Shared: run_dir, start_envoy, listener_port.
# shellcheck source=benches/envoy-lib.sh
source benches/envoy-lib.sh
run_dir load


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
ENVOY_CPUS=$OTHER_CPUS start_envoy upstream "$RUN/upstream.yaml"
UPSTREAM_PORT=$(listener_port "$ADMIN_upstream" upstream)

# The filter's configuration and the send it judges are in benches/load/ (benches/instructions.sh
# counts the same send under the wasmtime host).
CONFIG=$(cat benches/load/filter-config.json)
python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
  --without-filter >"$RUN/nofilter.yaml"
python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
  --wasm "$WASM" --config "$CONFIG" >"$RUN/filter.yaml"
python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
  --wasm "$FLOOR_WASM" --config "$CONFIG" >"$RUN/floor.yaml"
ENVOY_CPUS=$PROXY_CPUS start_envoy nofilter "$RUN/nofilter.yaml"
ENVOY_CPUS=$PROXY_CPUS start_envoy floor "$RUN/floor.yaml"
ENVOY_CPUS=$PROXY_CPUS start_envoy filter "$RUN/filter.yaml"
PORT_nofilter=$(listener_port "$ADMIN_nofilter" webmail)
PORT_floor=$(listener_port "$ADMIN_floor" webmail)
PORT_filter=$(listener_port "$ADMIN_filter" webmail)
for name in $EXTRA_NAMES; do
  python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
    --wasm "${EXTRA_WASM[$name]}" --config "$CONFIG" >"$RUN/$name.yaml"
  ENVOY_CPUS=$PROXY_CPUS start_envoy "$name" "$RUN/$name.yaml"
  admin_var="ADMIN_$name"
  printf -v "PORT_$name" '%s' "$(listener_port "${!admin_var}" webmail)"
done

# wrk scripts: a done() that prints one machine-readable line (latencies in microseconds).
cat >"$RUN/report.lua" <<'EOF'
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d rps=%.1f p50=%d p99=%d non2xx=%d errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
EOF
BODY=$(cat benches/load/send.json)
{
  printf 'wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n'
  printf 'wrk.body = [==[%s]==]\n' "$BODY"
  if [ -n "${LOAD_DELAY_MS:-}" ]; then printf 'function delay() return %s end\n' "$LOAD_DELAY_MS"; fi
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
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  --data-binary @demo/send-misaddressed.json "http://127.0.0.1:$PORT_floor/jmap/api")
[ "$code" = 200 ] || die "the floor filter answered $code (expected the upstream's 200)"

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
  $PIN wrk -t"$THREADS" -c"$4" -d"$3" --latency -s "$script" "$url" | grep '^RESULT'
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }

# cpu_ticks PID: user + system CPU time of a process, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

declare -A RESULTS LATENCY LOADAVG
for scenario in $SCENARIOS; do
  for variant in nofilter floor filter $EXTRA_NAMES; do
    log "warm-up: $scenario via $variant"
    run_wrk "$variant" "$scenario" 3s "$CONNS" >/dev/null
  done
  for round in $(seq "$ROUNDS"); do
    LOADAVG[$scenario.$round]=$(cut -d' ' -f1 /proc/loadavg)
    for variant in nofilter floor filter $EXTRA_NAMES; do
      log "round $round/$ROUNDS: $scenario via $variant: throughput ($DURATION, $CONNS connections), latency ($DURATION, 1 connection)"
      pid_var="PID_$variant"
      perf_pid=""
      if [ "${LOAD_PERF:-0}" = 1 ] && [ "$round" = "$ROUNDS" ]; then
        perf record -q -F 999 -p "${!pid_var}" -o "$RUN/perf.$scenario.$variant" 2>/dev/null &
        perf_pid=$!
        sleep 0.5
      fi
      t0=$(cpu_ticks "${!pid_var}")
      line=$(run_wrk "$variant" "$scenario" "$DURATION" "$CONNS")
      t1=$(cpu_ticks "${!pid_var}")
      if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
      [ "$(field non2xx "$line")" = 0 ] && [ "$(field errors "$line")" = 0 ] ||
        die "$scenario via $variant had errors: $line"
      # Envoy's own CPU time per request (µs): what the filter costs, independent of how busy
      # the rest of the machine is.
      cpu=$(awk -v t=$((t1 - t0)) -v us="$TICK_US" -v n="$(field requests "$line")" 'BEGIN {printf "%.1f", t * us / n}')
      RESULTS[$scenario.$variant.$round]="$line cpu=$cpu"
      # (The extra variants are compared by CPU only.)
      [ -n "${EXTRA_WASM[$variant]:-}" ] && continue
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
MEM_DONE=0
if [ "$MEM_REQUESTS" -gt 0 ]; then
  log "memory: $MEM_REQUESTS sends via the filter"
  # wrk runs for a duration, not a count: 5 s runs until the count is reached (at most 60 runs).
  for _ in $(seq 60); do
    line=$($PIN wrk -t"$THREADS" -c"$CONNS" -d5s -s "$RUN/send.lua" "http://127.0.0.1:$PORT_filter/jmap/api" | grep '^RESULT')
    [ "$(field non2xx "$line")" = 0 ] || die "memory run had non-2xx answers: $line"
    MEM_DONE=$((MEM_DONE + $(field requests "$line")))
    [ "$MEM_DONE" -ge "$MEM_REQUESTS" ] && break
  done
fi
ALLOC_AFTER=$(mem_allocated)
RSS_AFTER=$(mem_rss)
STATS=$(curl -s --max-time 5 "http://$ADMIN_filter/stats?filter=mistype" | grep -v -e '\.api\.' -e vm_reload | sed 's/^/    /')

python3 - "$ROUNDS" "$DURATION" "$THREADS" "$CONNS" \
  "$MEM_DONE" "$ALLOC_BEFORE" "$ALLOC_AFTER" "$RSS_BEFORE" "$RSS_AFTER" "$(nproc)" "$SCENARIOS" \
  "$(for sc in $SCENARIOS; do printf '%s=' "$sc"; for r in $(seq "$ROUNDS"); do printf '%s,' "${LOADAVG[$sc.$r]}"; done; printf ' '; done)" \
  $(for sc in $SCENARIOS; do for va in nofilter floor filter; do for f in rps p50 p99 cpu; do median "$sc.$va" "$f"; done; done; done) <<'EOF'
import os
import sys
a = sys.argv[1:]
rounds, duration, threads, conns = a[0:4]
mem_n, ab, aa, rb, ra, cores = int(a[4]), int(a[5]), int(a[6]), int(a[7]), int(a[8]), a[9]
scenarios = a[10].split()
loads = dict(x.split("=", 1) for x in a[11].split())
v = [float(x) for x in a[12:]]
names = {"pass": "pass-through GET (routed past the filter)",
         "post": "pass-through POST to a non-send endpoint, Graph draft creation (routed past the filter)",
         "api": "JMAP API call, not a send: Mailbox/get + Email/query (body read, then passed)",
         "send": "JMAP send, 3 clean recipients (held, read and judged)",
         "draft": "Graph draft sent by id (held, looked up on the upstream, then judged)"}
# per scenario: (no filter, floor, mistype), each (rps, p50, p99, cpu)
rows = {}
for k, sc in enumerate(scenarios):
    base = v[12 * k:12 * k + 12]
    rows[sc] = (base[0:4], base[4:8], base[8:12])
def ok(b): return "yes" if b else "**no**"
def pct(x, y): return 100 * x / y if y else 0
print()
print("Envoy 1.40 (V8), loopback, %s cores. Variants: no filter, the floor filter "
      "(benches/floor-filter: holds the request, copies the body into the VM once, continues), "
      "mistype. Throughput: wrk %s thread(s) x %s connections (saturating). "
      "Latency: wrk 1 thread x 1 connection (no queueing: p50/p99 are per-request times). "
      "Envoy CPU: the proxy's user+system CPU time per request in the throughput runs. "
      "%s per run, the three variants interleaved, median of %s rounds.%s" % (cores, threads, conns, duration, rounds,
      " Pinned (LOAD_PIN=1): the proxies under test on their own CPU, the upstream and wrk on the others." if os.environ.get("LOAD_PIN") == "1" else ""))
print()
print("| scenario | load average at each round | req/s no filter / floor / mistype | Envoy CPU µs/req no filter / floor / mistype | p50 µs no filter / floor / mistype | p99 µs no filter / floor / mistype |")
print("|---|---|---:|---:|---:|---:|")
for sc in scenarios:
    n, f, m = rows[sc]
    print("| %s | %s | %.0f / %.0f / %.0f | %.1f / %.1f / %.1f | %.0f / %.0f / %.0f | %.0f / %.0f / %.0f |"
          % (names[sc], loads.get(sc, "").strip(",").replace(",", ", "), n[0], f[0], m[0], n[3], f[3], m[3],
             n[1], f[1], m[1], n[2], f[2], m[2]))
print()
print("Beside the floor (added = over no filter):")
print()
print("| scenario | added Envoy CPU µs/req floor / mistype | mistype CPU / floor CPU | added p50 µs floor / mistype | added p99 µs floor / mistype |")
print("|---|---:|---:|---:|---:|")
for sc in scenarios:
    n, f, m = rows[sc]
    print("| %s | %+.1f / %+.1f | %.2f× | %+.0f / %+.0f | %+.0f / %+.0f |"
          % (names[sc], f[3] - n[3], m[3] - n[3], m[3] / f[3] if f[3] else 0,
             f[1] - n[1], m[1] - n[1], f[2] - n[2], m[2] - n[2]))
print()
print("| target | measured | met |")
print("|---|---:|---|")
for sc, label in (("pass", "GET"), ("post", "POST")):
    if sc in rows:
        (r0, _, _, c0), _, (r1, _, _, c1) = rows[sc]
        print("| pass-through %s throughput >= 95%% of no filter: measured req/s ratio; capacity from Envoy CPU per request | %.1f%%; %.1f%% | %s; %s |"
              % (label, pct(r1, r0), pct(c0, c1), ok(r1 >= 0.95 * r0), ok(c1 and c0 >= 0.95 * c1)))
if "api" in rows:
    (r0, _, _, c0), (_, _, _, cf), (r1, _, _, c1) = rows["api"]
    print("| JMAP non-send API call (no target; for sizing): req/s ratio; Envoy CPU ratio to no filter; to the floor | %.1f%%; %.1f%%; %.2f× | |"
          % (pct(r1, r0), pct(c0, c1), c1 / cf if cf else 0))
if "send" in rows:
    (_, a50, a99, _), (_, _, _, cf), (_, b50, b99, c1) = rows["send"]
    print("| judged send: Envoy CPU <= 1.25× the floor's | %.2f× (%.1f / %.1f µs) | %s |" % (c1 / cf, c1, cf, ok(c1 <= 1.25 * cf)))
    print("| send: added p50 <= 200 µs | %+.0f µs | %s |" % (b50 - a50, ok(b50 - a50 <= 200)))
    print("| send: added p99 <= 1 ms | %+.0f µs | %s |" % (b99 - a99, ok(b99 - a99 <= 1000)))
if "draft" in rows:
    (_, a50, a99, _), (_, _, _, cf), (_, b50, b99, c1) = rows["draft"]
    print("| draft send by id, with its lookup (no target; the floor makes no lookup): added p50; added p99; Envoy CPU to the floor's | %+.0f µs; %+.0f µs; %.2f× | |"
          % (b50 - a50, b99 - a99, c1 / cf if cf else 0))
def mib(x): return x / 1048576
if mem_n:
    print("| memory flat across %d sends: Envoy allocated (admin /memory) | %.1f -> %.1f MiB (%+.2f MiB) | %s |"
          % (mem_n, mib(ab), mib(aa), mib(aa - ab), ok(aa - ab < 4 * 1048576)))
    print("| memory flat across %d sends: process RSS (Envoy + V8) | %.1f -> %.1f MiB (%+.2f MiB) | %s |"
          % (mem_n, mib(rb), mib(ra), mib(ra - rb), ok(ra - rb < 8 * 1048576)))
la = open("/proc/loadavg").read().split()[:3]
print()
print("Load average at the end of the run: %s. Other work on the machine lowers throughput and inflates p99 "
      "for every variant; Envoy CPU per request is the least disturbed figure." % " ".join(la))
EOF
if [ -n "$EXTRA_NAMES" ]; then
  echo
  echo "More variants (LOAD_EXTRA), Envoy CPU µs/req in the throughput runs, round by round, and the median of each round's difference to the floor's:"
  echo
  echo "| scenario | variant | Envoy CPU µs/req, each round | floor, each round | median difference to the floor |"
  echo "|---|---|---|---|---:|"
  for scenario in $SCENARIOS; do
    for name in $EXTRA_NAMES; do
      own="" floor="" diffs=()
      for r in $(seq "$ROUNDS"); do
        a=$(field cpu "${RESULTS[$scenario.$name.$r]}") f=$(field cpu "${RESULTS[$scenario.floor.$r]}")
        own="$own${own:+, }$a" floor="$floor${floor:+, }$f"
        diffs+=("$(awk -v a="$a" -v f="$f" 'BEGIN {printf "%.1f", a - f}')")
      done
      mid=$(printf '%s\n' "${diffs[@]}" | sort -g | awk '{v[NR]=$1} END {printf "%+.1f", v[int((NR+1)/2)]}')
      echo "| $scenario | $name | $own | $floor | $mid |"
    done
  done
fi
if [ "${LOAD_PERF:-0}" = 1 ]; then
  echo
  echo "Where each proxy's CPU went in the last round's throughput run (perf, 999 Hz), µs per request:"
  echo
  echo "| scenario | variant | Envoy CPU µs/req | Envoy's own code (V8 included) | the module's code | kernel | other |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for scenario in $SCENARIOS; do
    for variant in nofilter floor filter $EXTRA_NAMES; do
      cpu=$(field cpu "${RESULTS[$scenario.$variant.$ROUNDS]}")
      perf report -i "$RUN/perf.$scenario.$variant" --no-children --sort dso --stdio 2>/dev/null |
        awk -v cpu="$cpu" -v sc="$scenario" -v va="$variant" '
          /^#/ || NF < 2 { next }
          { p = $1; sub("%", "", p); d = $2 }
          d == "envoy" { e += p; next }
          d == "[JIT]" { j += p; next }
          d == "[kernel.kallsyms]" { k += p; next }
          { o += p }
          END { printf "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", sc, va, cpu, cpu*e/100, cpu*j/100, cpu*k/100, cpu*o/100 }'
    done
  done
fi
if [ -n "${LOAD_PERF_DIR:-}" ] && [ "${LOAD_PERF:-0}" = 1 ]; then
  mkdir -p "$LOAD_PERF_DIR"
  cp "$RUN"/perf.* "$LOAD_PERF_DIR"/
fi
echo
echo "Filter counters after the run (mistype):"
echo "$STATS"
