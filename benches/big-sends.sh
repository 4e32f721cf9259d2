#!/usr/bin/env bash
# Big sends in real Envoy: what a send with a large attachment costs the proxy, with the shipped
# filter/envoy.yaml and the same file without the filter (the lines between the BEGIN/END
# mistype-filter markers removed), on loopback. Prints markdown tables.
#
#   benches/big-sends.sh
#   MISTYPE_FILTER_WASM=path/to/other/mistype_filter.wasm benches/big-sends.sh   # another build
#
# What runs (all on 127.0.0.1, ports chosen by the OS):
#   upstream   a small Python HTTP/1.1 server that reads each request body whole and answers 200
#              with the number of bytes it received (the same for both variants)
#   A          Envoy with filter/envoy.yaml minus the filter        (--concurrency 1)
#   B          Envoy with filter/envoy.yaml as shipped (its plugin configuration, its limits)
#   client     Python http.client: a fresh connection for each timed send, one kept for the rest
# Sends (each body BIG_SEND_MIB, default 23 MiB, clean recipients; a random attachment):
#   gmail-raw      Gmail messages.send, JSON {"raw": base64url(message)} (the message's
#                  headers come first; the attachment is in its body)
#   gmail-upload   Gmail /upload messages.send?uploadType=media, the message as message/rfc822
#   graph-json     Graph sendMail, JSON with the attachment's contentBytes *before* toRecipients
#                  (the recipients can only be read at the end of the body)
#   graph-json-limit  the same send at GRAPH_LIMIT_MIB (3.8 MiB): Graph takes a file attachment in
#                  a send's JSON only under 3 MB and a request body of about 4 MB at most (larger
#                  files go through an upload session on a draft, which is then sent by id), so
#                  this is the largest Graph JSON send that Graph itself accepts
# For each send, first: the same send to a misaddressed recipient is refused by B (so the filter
# judges these sends), and the clean send reaches the upstream whole through B.
# Then, per send:
#   latency    BIG_SENDS_ROUNDS (default 9) rounds, A and B interleaved; the time from the first
#              byte sent to the last byte of the answer; median per variant, and B - A
#   memory     B's process RSS (VmRSS, Envoy + V8) and Envoy's allocated bytes (admin /memory)
#              before the first send of this kind, after it, and after BIG_SENDS_COUNT (default
#              1000) such sends; and the peak (VmHWM, reset before the first send)
#   idle       and B's RSS once idle after the first big send: polled every 5 s until it is
#              within 8 MiB of where it started, for at most BIG_SENDS_SETTLE seconds (default
#              180): Envoy's allocator gives freed pages back on its own schedule (the shipped
#              memory_allocator_manager; tcmalloc keeps pages it recently needed for a while)
# B's RSS includes the memory Envoy itself holds for a body it buffers until the verdict. For the
# sends in BIG_SENDS_HELD (default graph-json), the same runs follow with Envoy's own buffer
# filter in B instead of mistype (it holds the whole body, then passes it; no Wasm): what holding
# a body until its end costs any filter.
#
# Environment: BIG_SEND_MIB (23), GRAPH_LIMIT_MIB (3.8), BIG_SENDS_ROUNDS (9), BIG_SENDS_COUNT
# (1000), BIG_SENDS (all: "gmail-raw gmail-upload graph-json graph-json-limit"), BIG_SENDS_SETTLE
# (180), BIG_SENDS_HELD (graph-json; empty: none), CARGO_TARGET_DIR, MISTYPE_FILTER_WASM, ENVOY_BIN,
# MISTYPE_LOAD_SKIP_BUILD=1 (use the built filter as is).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
WASM=${MISTYPE_FILTER_WASM:-$TARGET_DIR/wasm32-wasip1/wasm/mistype_filter.wasm}
case "$WASM" in /*) ;; *) WASM="$ROOT/$WASM" ;; esac
ENVOY=${ENVOY_BIN:-envoy}

log() { printf '[big-sends] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v "$ENVOY" >/dev/null || die "envoy is missing (scripts/ensure-tools.sh envoy)"
if [ "${MISTYPE_LOAD_SKIP_BUILD:-0}" != 1 ] && [ -z "${MISTYPE_FILTER_WASM:-}" ]; then
  filter/build.sh >/dev/null
fi
[ -f "$WASM" ] || die "$WASM is missing (filter/build.sh)"

# Shared: run_dir, start_envoy, listener_port.
# shellcheck source=benches/envoy-lib.sh
source benches/envoy-lib.sh
run_dir big

# The upstream: reads every body whole, answers {"received": N}.
cat >"$RUN/sink.py" <<'EOF'
import http.server, json, sys

class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The answer's head and body are two writes: with Nagle's algorithm on, the second waits
    # for the first's delayed ACK (40 ms) on a reused upstream connection.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def read_body(self):
        n = 0
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return n
                left = size
                while left:
                    got = len(self.rfile.read(min(left, 1 << 20)))
                    if not got:
                        return n
                    left -= got
                    n += got
                self.rfile.readline()
        left = int(self.headers.get("content-length", "0"))
        while left:
            got = len(self.rfile.read(min(left, 1 << 20)))
            if not got:
                break
            left -= got
            n += got
        return n

    def answer(self):
        body = json.dumps({"received": self.read_body()}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = answer

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
EOF
python3 "$RUN/sink.py" "$RUN/sink.port" &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -s "$RUN/sink.port" ] && break; sleep 0.1; done
[ -s "$RUN/sink.port" ] || die "the upstream did not start"
UPSTREAM_PORT=$(cat "$RUN/sink.port")


cat >"$RUN/drive.py" <<'EOF'
"""drive.py run PORT_A PORT_B ADMIN_B PID_B MIB ROUNDS COUNT KIND ROWS SETTLE VARIANT | drive.py report ROWS ROUNDS COUNT SETTLE"""
import base64, http.client, json, random, statistics, sys, time, urllib.request

NAMES = {"gmail-raw": "Gmail messages.send, JSON `raw`",
         "gmail-upload": "Gmail upload, `message/rfc822`",
         "graph-json": "Graph sendMail JSON, attachment before the recipients",
         "graph-json-limit": "Graph sendMail JSON at Graph's request limit, attachment before the recipients"}
HELD = " — held by Envoy's own buffer filter instead of mistype (no Wasm)"

def name(r):
    return NAMES[r["kind"]] + (HELD if r.get("variant") == "buffer" else "")

def log(*a):
    print("[big-sends]", *a, file=sys.stderr, flush=True)

def message(to, attachment):
    b64 = base64.encodebytes(attachment).replace(b"\n", b"\r\n")
    return (b"From: Sgt Ray <ray.k@army.mil>\r\nTo: " + to.encode() + b", friend@gmail.com\r\n"
            b"Cc: ops@army.mil\r\nSubject: Movement schedule\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            b"--b1\r\nContent-Type: text/plain\r\n\r\nSchedule attached.\r\n"
            b"--b1\r\nContent-Type: application/pdf; name=\"schedule.pdf\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"schedule.pdf\"\r\n\r\n" + b64 + b"--b1--\r\n")

def build(kind, to, attachment):
    if kind == "gmail-raw":
        raw = base64.urlsafe_b64encode(message(to, attachment)).rstrip(b"=")
        return ("POST", "/gmail/v1/users/me/messages/send", "application/json",
                b'{"raw":"' + raw + b'","threadId":"18c0ffee"}')
    if kind == "gmail-upload":
        return ("POST", "/upload/gmail/v1/users/me/messages/send?uploadType=media",
                "message/rfc822", message(to, attachment))
    if kind in ("graph-json", "graph-json-limit"):
        content = base64.b64encode(attachment)
        return ("POST", "/v1.0/me/sendMail", "application/json",
                b'{"message":{"subject":"Movement schedule","body":{"contentType":"Text","content":"Schedule attached."},'
                b'"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"schedule.pdf",'
                b'"contentType":"application/pdf","contentBytes":"' + content + b'"}],'
                b'"toRecipients":[{"emailAddress":{"address":"' + to.encode() + b'"}},'
                b'{"emailAddress":{"address":"friend@gmail.com"}}],'
                b'"ccRecipients":[{"emailAddress":{"address":"ops@army.mil"}}]},"saveToSentItems":true}')
    raise SystemExit("unknown send %r" % kind)

def sized(kind, to, target):
    """The send of `kind` whose body is about `target` bytes (the encodings are linear)."""
    rng = random.Random(7)
    n = int(target * 0.7)
    for _ in range(4):
        body = build(kind, to, bytes(n))[3]
        n = max(1, n + int((target - len(body)) * n / len(body)))
    return build(kind, to, rng.randbytes(n))

class Client:
    """One keep-alive connection per port."""
    def __init__(self):
        self.conns = {}

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns.clear()

    def send(self, port, req):
        method, path, ct, body = req
        for attempt in (1, 2):
            c = self.conns.get(port)
            if c is None:
                c = self.conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            try:
                t0 = time.perf_counter()
                c.request(method, path, body=body, headers={"content-type": ct})
                r = c.getresponse()
                data = r.read()
                dt = time.perf_counter() - t0
                if (r.getheader("connection") or "").lower() == "close":
                    c.close()
                    self.conns.pop(port, None)
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data, dt
            except (http.client.HTTPException, OSError):
                c.close()
                self.conns.pop(port, None)
                if attempt == 2:
                    raise

def run(port_a, port_b, admin, pid, mib, rounds, count, kind, rows, settle, variant):
    port_a, port_b, rounds, count, settle = int(port_a), int(port_b), int(rounds), int(count), int(settle)
    target = int(float(mib) * 1048576)

    def status(field):
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise SystemExit("no %s for pid %s" % (field, pid))

    def allocated():
        with urllib.request.urlopen("http://%s/memory" % admin, timeout=10) as r:
            return int(json.load(r)["allocated"])

    client = Client()
    good = sized(kind, "j.smith@navy.mil", target)
    size = len(good[3])
    log("%s: %d bytes (%.1f MiB)" % (kind, size, size / 1048576))
    # Warm the filter's code paths with a small send of the same kind.
    st, _, data, _ = client.send(port_b, sized(kind, "j.smith@navy.mil", 4096))
    if st != 200:
        raise SystemExit("%s: the small clean send got %d %s" % (kind, st, data[:300]))
    time.sleep(1)
    rss0, alloc0 = status("VmRSS"), allocated()
    with open("/proc/%s/clear_refs" % pid, "w") as f:
        f.write("5")  # resets VmHWM
    st, _, data, _ = client.send(port_b, good)
    if st == 413:
        with open(rows, "a") as f:
            f.write(json.dumps({"kind": kind, "size": size, "note": "refused with 413"}) + "\n")
        log("%s: refused for its size: %s" % (kind, data[:200]))
        return
    if st != 200 or json.loads(data).get("received") != size:
        raise SystemExit("%s: the clean send did not reach the upstream whole: %d %s" % (kind, st, data[:300]))
    time.sleep(1)
    rss1, alloc1 = status("VmRSS"), allocated()
    # Once idle: Envoy's allocator gives freed pages back on its own schedule (the shipped file's
    # memory_allocator_manager; tcmalloc keeps recently needed pages for a while). Polled every
    # 5 s until RSS is within 8 MiB of where it started, or SETTLE seconds have passed.
    waited = 0
    while status("VmRSS") - rss0 > 8 * 1048576 and waited < settle:
        time.sleep(5)
        waited += 5
    rss_idle = status("VmRSS")
    # The filter judges these sends: the same send to a misaddressed recipient is refused.
    # (Envoy's buffer filter only holds the body: the same send passes.)
    st, headers, data, _ = client.send(port_b, sized(kind, "c@navy.ml", target))
    if variant == "mistype" and headers.get("x-mistype-verdict") != "block":
        raise SystemExit("%s: the misaddressed send was not refused: %d %s" % (kind, st, data[:300]))
    if variant == "buffer" and st != 200:
        raise SystemExit("%s: the send through the buffer filter got %d %s" % (kind, st, data[:300]))
    ta, tb = [], []
    for _ in range(rounds):
        for port, out in ((port_a, ta), (port_b, tb)):
            # A fresh connection for each timed send, so that no state of one connection (its
            # window, a write waiting on an ACK) decides every round of a variant.
            client.close()
            st, _, data, dt = client.send(port, good)
            if st != 200:
                raise SystemExit("%s: %d %s" % (kind, st, data[:300]))
            out.append(dt)
    log("%s: %d more sends through the filter" % (kind, count))
    started = time.time()
    for i in range(count):
        st, _, data, _ = client.send(port_b, good)
        if st != 200:
            raise SystemExit("%s: send %d got %d %s" % (kind, i, st, data[:300]))
    elapsed = time.time() - started
    time.sleep(1)
    row = dict(kind=kind, variant=variant, size=size, a=statistics.median(ta), b=statistics.median(tb),
               rss0=rss0, rss1=rss1, rss2=status("VmRSS"), rss3=rss_idle, waited=waited, peak=status("VmHWM"),
               alloc0=alloc0, alloc1=alloc1, alloc2=allocated(), count=count, elapsed=elapsed,
               load=open("/proc/loadavg").read().split()[0])
    with open(rows, "a") as f:
        f.write(json.dumps(row) + "\n")

def report(rows, rounds, count, settle):
    rows = [json.loads(l) for l in open(rows)]
    def m(x): return x / 1048576
    def ok(b): return "yes" if b else "**no**"
    print()
    print("Envoy 1.40 (V8, --concurrency 1) with the shipped filter/envoy.yaml, loopback; a fresh "
          "filter Envoy for each kind of send, warmed with one small send of that kind. Time: the "
          "median of %s rounds, no filter and filter interleaved, from the first byte sent to the "
          "last byte of the answer. Memory: the filter Envoy's RSS (Envoy + V8) before the first "
          "big send, after it, and after %s more (with the rounds and a refused send between); "
          "peak: VmHWM from before the first big send to the end; once idle: after the first big send, "
          "polled every 5 s until within 8 MiB of the start or %s s have passed. Each timed send "
          "on a fresh connection." % (rounds, count, settle))
    print()
    print("| send | body | time no filter / filter (added) | RSS before → after one send (added) | RSS once idle after it (added; seconds waited) | RSS after the rest (drift) | peak RSS (added) | Envoy allocated before → after one → after all | load average |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "note" in r:
            print("| %s | %.1f MiB | %s | | | | | | |" % (name(r), m(r["size"]), r["note"]))
            continue
        print("| %s | %.1f MiB | %.1f / %.1f ms (%+.1f ms) | %.1f → %.1f MiB (%+.1f MiB) | %.1f MiB (%+.1f MiB; %d s) | %.1f MiB (%+.1f MiB) | %.1f MiB (%+.1f MiB) | %.1f → %.1f → %.1f MiB | %s |"
              % (name(r), m(r["size"]), r["a"] * 1e3, r["b"] * 1e3, (r["b"] - r["a"]) * 1e3,
                 m(r["rss0"]), m(r["rss1"]), m(r["rss1"] - r["rss0"]),
                 m(r["rss3"]), m(r["rss3"] - r["rss0"]), r["waited"], m(r["rss2"]), m(r["rss2"] - r["rss1"]),
                 m(r["peak"]), m(r["peak"] - r["rss0"]), m(r["alloc0"]), m(r["alloc1"]), m(r["alloc2"]), r["load"]))
    print()
    print("| target | send | measured | met |")
    print("|---|---|---:|---|")
    for r in rows:
        if "note" in r:
            print("| not refused for its size | %s | %s | **no** |" % (name(r), r["note"]))
            continue
        if r["variant"] != "mistype":
            continue
        added = m(r["rss1"] - r["rss0"])
        print("| one send raises RSS by at most 8 MiB | %s | %+.1f MiB | %s |" % (name(r), added, ok(added <= 8)))
        idle = m(r["rss3"] - r["rss0"])
        print("| ... and once idle (within %d s) | %s | %+.1f MiB after %d s | %s |" % (int(settle), name(r), idle, r["waited"], ok(idle <= 8)))
        ms = (r["b"] - r["a"]) * 1e3
        print("| adds at most 20 ms over no filter | %s | %+.1f ms | %s |" % (name(r), ms, ok(ms <= 20)))
        drift = m(r["rss2"] - r["rss1"])
        print("| memory flat across %d sends (RSS drift at most 8 MiB) | %s | %+.1f MiB | %s |" % (r["count"], name(r), drift, ok(drift <= 8)))
    print()
    print("Load average at the end of the run: %s." % " ".join(open("/proc/loadavg").read().split()[:3]))

if sys.argv[1] == "report":
    report(*sys.argv[2:])
else:
    run(*sys.argv[2:])
EOF

# The shipped file as it is (its plugin configuration and limits), only ports and wasm path set.
python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
  --without-filter >"$RUN/nofilter.yaml"
python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
  --wasm "$WASM" >"$RUN/filter.yaml"
# The anchor for holding a body: the shipped file with Envoy's own buffer filter where mistype
# was (the whole request body held until its end, then passed on; no Wasm).
cat >"$RUN/buffer-filter.yaml" <<'EOF'
- name: envoy.filters.http.buffer
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer
    max_request_bytes: 36700160
EOF
python3 demo/render_envoy.py --listen-port 0 --admin-port 0 --upstream-port "$UPSTREAM_PORT" \
  --in-place-of-filter "$RUN/buffer-filter.yaml" >"$RUN/buffer.yaml"
start_envoy nofilter "$RUN/nofilter.yaml"
PORT_nofilter=$(listener_port "$ADMIN_nofilter" webmail)
log "filter: $WASM ($(wc -c <"$WASM") bytes, sha256 $(sha256sum "$WASM" | cut -c1-12))"

# stop_envoy PID: ends one Envoy this script started.
stop_envoy() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}

# Each kind of send runs against a fresh filter Envoy, so that its memory figures start from an
# Envoy that has seen no big send.
for kind in ${BIG_SENDS:-gmail-raw gmail-upload graph-json graph-json-limit}; do
  mib=${BIG_SEND_MIB:-23}
  if [ "$kind" = graph-json-limit ]; then mib=${GRAPH_LIMIT_MIB:-3.8}; fi
  variants=mistype
  case " ${BIG_SENDS_HELD-graph-json} " in *" $kind "*) variants="mistype buffer" ;; esac
  for variant in $variants; do
    config=$RUN/filter.yaml
    [ "$variant" = buffer ] && config=$RUN/buffer.yaml
    start_envoy filter "$config"
    python3 "$RUN/drive.py" run "$PORT_nofilter" "$(listener_port "$ADMIN_filter" webmail)" \
      "$ADMIN_filter" "$PID_filter" "$mib" "${BIG_SENDS_ROUNDS:-9}" \
      "${BIG_SENDS_COUNT:-1000}" "$kind" "$RUN/rows.jsonl" "${BIG_SENDS_SETTLE:-180}" "$variant"
    stop_envoy "$PID_filter"
  done
done
python3 "$RUN/drive.py" report "$RUN/rows.jsonl" "${BIG_SENDS_ROUNDS:-9}" "${BIG_SENDS_COUNT:-1000}" \
  "${BIG_SENDS_SETTLE:-180}"
