#!/usr/bin/env python3
"""The real-client rig: the official mail API client libraries send through real Envoy, running
the shipped filter/envoy.yaml with the built filter, to the test mail server (mailserver.py).

    client library --> relay (records what the client put on the wire) --> Envoy + mistype
                   --> mailserver.py (records every send that reaches it)

Each driver (drivers/*.mjs, drivers/*.py) runs one library's flows for each recipient kind and
prints one JSON line per case. This runner checks every case against EXPECT below and prints one
PASS/FAIL line per case, then "N passed, N failed"; it exits 1 when a case failed.

    python3 host-tests/clients/run.py [--only LIB[,LIB]] [--verbose]

Needs: envoy (scripts/ensure-tools.sh envoy), the built filter (filter/build.sh; found as
$MISTYPE_FILTER_WASM or $CARGO_TARGET_DIR/wasm32-wasip1/wasm/mistype_filter.wasm), and the
libraries (scripts/ensure-tools.sh clients).
"""

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "demo"))
import render_envoy  # noqa: E402

# ---------------------------------------------------------------------------------------------
# What the rig expects. One table, so that it is easy to adjust when the filter's replies change.

SENDER = "ops@army.mil"
RECIPIENTS = {
    # kind: the address the app sends to, whether the filter must block it, and what the message
    # the library shows must contain (what was typed and what was meant).
    "typo": {"to": "j.smith@navy.ml", "blocked": True, "shown": ["navy.ml", "navy.mil"]},
    "provider": {"to": "friend@gmial.com", "blocked": True, "shown": ["gmial.com", "gmail.com"]},
    "clean": {"to": "j.smith@navy.mil", "blocked": False, "shown": []},
}

# The plugin configuration is the shipped one, unchanged (block mode, its confirm secret and
# whatever else the shipped file configures); only the ports and the wasm path are substituted.

# Each library: its driver and the flows it runs (every flow with every recipient kind).
LIBRARIES = {
    "graph-js": {"cmd": ["node", "drivers/graph.mjs"],
                 "flows": ["sendMail", "sendMail-mime", "draft-send", "users-draft-send", "draft-bcc-send", "draft-patch-send", "createReply-send",
                           "createReplyAll-send", "createForward-send", "reply", "forward", "batch-sendMail",
                           "sendMail-qualified", "draft-send-qualified", "draft-send-key",
                           "event-create", "event-update", "event-forward", "rule-create", "rule-update",
                           "rule-enable"]},
    "msgraph-sdk": {"cmd": ["PY", "drivers/msgraph_sdk.py"],
                    "flows": ["sendMail", "draft-send", "draft-patch-send", "createReply-send",
                              "createReplyAll-send", "createForward-send", "reply", "forward", "batch-sendMail",
                              "rule-create"]},
    # The same app over HTTP/2 (h2c, prior knowledge), as msgraph-sdk talks to Graph.
    "msgraph-sdk-h2": {"cmd": ["PY", "drivers/msgraph_sdk.py"], "http2": True,
                       "flows": ["sendMail", "draft-send", "createReply-send", "reply", "batch-sendMail"]},
    "gmail-js": {"cmd": ["node", "drivers/gmail.mjs"],
                 "flows": ["messages.send", "messages.send-upload", "drafts.create-send",
                           "drafts.upload-send", "drafts.update-send", "forwardingAddresses.create",
                           "filters.create", "updateAutoForwarding"]},
    "google-api-python-client": {"cmd": ["PY", "drivers/gapi.py"],
                                 "flows": ["messages.send", "messages.send-multipart", "messages.send-resumable",
                                           "drafts.create-send", "drafts.upload-send", "drafts.update-send",
                                           "batch-messages.send", "batch-drafts.send",
                                           "forwardingAddresses.create", "updateAutoForwarding"]},
    # jmap-jam's fetchInit.headers would replace its own headers, so its first attempts carry no
    # x-rig-case header and the server cannot count them.
    "jmap-jam": {"cmd": ["node", "drivers/jam.mjs"], "case_header": False,
                 "flows": ["draft-then-submit", "autosave-then-submit", "submit-with-envelope",
                           "create-and-submit-ref"]},
    "jmapc": {"cmd": ["PY", "drivers/jmapc_driver.py"],
              "flows": ["draft-then-submit", "autosave-then-submit", "submit-with-envelope",
                        "create-and-submit-ref"]},
}

# Settings that forward mail from then on (a Graph inbox rule, Gmail's forwarding settings): a
# refusal says the setting was not saved, not that a message was not sent.
FORWARDING_FLOWS = {"rule-create", "rule-update", "rule-enable", "forwardingAddresses.create",
                    "filters.create", "updateAutoForwarding"}
FORWARDING_SHOWN = "Not saved: mail would be forwarded to a misaddressed recipient"

# The Envoy set-ups the rig runs every library through: the shipped file as it is, and the two
# documented set-ups for a proxy that cannot hold a request's headers for the filter (Istio's
# WasmPlugin cannot set Envoy's allow_on_headers_stop_iteration): the knob removed and the
# plugin's hold_headers off, or left on with stall.action continue (a held send is let go at the
# filter's next tick and judged on its body). In those the headers of a refused send reach the
# server before the verdict (filter/README.md), so only the arrival of the send is a failure
# (`held`), and a fault of the filter in Envoy's log fails the run.
VARIANTS = {
    "shipped": {"held": True, "plugin": {}},
    "istio": {"held": False, "plugin": {"hold_headers": False}},
    # (A tick every 50 ms: each held send waits for one.)
    "stall-continue": {"held": False, "plugin": {"stall": {"action": "continue", "timeout_ms": 50}}},
}

# Sends made of several requests, the first of which carries no message (a resumable upload's
# session start): the server may see more requests of the case than sends.
MULTI_REQUEST_FLOWS = {"messages.send-resumable"}

DRIVER_TIMEOUT = 150  # seconds for one library's whole run (Envoy ends a stuck request at 15 s)
READY_TIMEOUT = 90  # Envoy's first start compiles the filter in V8

# ---------------------------------------------------------------------------------------------
# The relay: copies each client connection to Envoy byte for byte, and keeps a parsed copy of
# every request the client sent (method, target, headers, body).


class Relay:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.requests = []
        self.h2_connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        try:
            up = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return

        def back():
            try:
                while True:
                    data = up.recv(65536)
                    if not data:
                        break
                    client.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    client.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        threading.Thread(target=back, daemon=True).start()
        parser = RequestParser(self.record, self.count_h2)
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                parser.feed(data)
                up.sendall(data)
        except OSError:
            pass
        finally:
            try:
                up.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def count_h2(self):
        with self.lock:
            self.h2_connections += 1

    def record(self, req):
        with self.lock:
            self.requests.append(req)

    def close(self):
        self.sock.close()


class RequestParser:
    """Incremental HTTP/1.1 request parser (content-length and chunked bodies)."""

    def __init__(self, on_request, on_h2):
        self.buf = b""
        self.on_request = on_request
        self.on_h2 = on_h2
        self.h2 = False

    def feed(self, data):
        if self.h2:
            return
        self.buf += data
        if self.buf.startswith(b"PRI * HTTP/2.0\r\n"):
            # HTTP/2 with prior knowledge: relayed as is, not parsed (the driver reports its bodies).
            self.h2 = True
            self.buf = b""
            self.on_h2()
            return
        while self.parse_one():
            pass

    def parse_one(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = self.buf[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ")
        if len(parts) != 3:
            self.buf = b""
            return False
        headers = []
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip().lower(), v.strip()))
        hd = dict(headers)
        rest = self.buf[end + 4:]
        if "chunked" in hd.get("transfer-encoding", "").lower():
            body, pos = b"", 0
            while True:
                nl = rest.find(b"\r\n", pos)
                if nl < 0:
                    return False
                size = int(rest[pos:nl].split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    trailer_end = rest.find(b"\r\n\r\n", nl - 2 if nl >= 2 else 0)
                    if rest[nl + 2:nl + 4] == b"\r\n":
                        consumed = nl + 4
                    elif trailer_end >= 0:
                        consumed = trailer_end + 4
                    else:
                        return False
                    break
                if len(rest) < nl + 2 + size + 2:
                    return False
                body += rest[nl + 2:nl + 2 + size]
                pos = nl + 2 + size + 2
        else:
            n = int(hd.get("content-length", "0") or 0)
            if len(rest) < n:
                return False
            body, consumed = rest[:n], n
        self.buf = rest[consumed:]
        self.on_request({"method": parts[0], "target": parts[1], "version": parts[2],
                         "headers": headers, "body": body})
        return True


# ---------------------------------------------------------------------------------------------
# Processes


def http_get(port, path, timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.read()


def wasm_path():
    env = os.environ.get("MISTYPE_FILTER_WASM")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    if not target.is_absolute():
        target = REPO / target
    return target / "wasm32-wasip1" / "wasm" / "mistype_filter.wasm"


def python_for_drivers():
    venv = HERE / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def variant_yaml(variant, server_port, wasm):
    """The shipped filter/envoy.yaml for `variant` (VARIANTS), on the server's port."""
    shipped = (REPO / "filter" / "envoy.yaml").read_text()
    if VARIANTS[variant]["held"]:
        return render_envoy.render(shipped, 0, 0, server_port, str(wasm))
    cfg = render_envoy.plugin_config(shipped)
    cfg.update(VARIANTS[variant]["plugin"])
    return render_envoy.render(shipped, 0, 0, server_port, str(wasm), config=json.dumps(cfg, indent=2),
                               without_knob=True)


class Rig:
    def __init__(self, tmp, variant="shipped"):
        self.tmp = tmp
        self.variant = variant
        self.procs = []

    def start(self):
        wasm = wasm_path()
        if not wasm.is_file():
            sys.exit("run.py: %s is missing: build the filter first (filter/build.sh)" % wasm)
        server = subprocess.Popen([sys.executable, str(HERE / "mailserver.py"), "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        self.procs.append(server)
        line = server.stdout.readline().split()
        if len(line) != 2 or line[0] != "listening":
            sys.exit("run.py: the mail server did not start")
        self.server_port = int(line[1])
        # Envoy binds ports of the OS's choosing and keeps them; its admin interface says which.
        yaml = variant_yaml(self.variant, self.server_port, wasm)
        cfg = Path(self.tmp) / "envoy.yaml"
        cfg.write_text(yaml)
        admin_file = Path(self.tmp) / "admin-address"
        log = open(Path(self.tmp) / "envoy.log", "w")
        envoy = subprocess.Popen(["envoy", "-c", str(cfg), "--disable-hot-restart", "--log-level", "warn",
                                  "--concurrency", "1", "--admin-address-path", str(admin_file)],
                                 stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO))
        self.procs.append(envoy)
        deadline = time.time() + READY_TIMEOUT
        admin_port = None
        while True:
            if envoy.poll() is not None:
                sys.exit("run.py: envoy exited:\n" + (Path(self.tmp) / "envoy.log").read_text()[-3000:])
            try:
                if admin_port is None and admin_file.is_file() and admin_file.read_text().strip():
                    admin_port = int(admin_file.read_text().strip().rsplit(":", 1)[1])
                if admin_port is not None and http_get(admin_port, "/ready", 2)[1].strip() == b"LIVE":
                    break
            except (OSError, ValueError):
                pass
            if time.time() > deadline:
                sys.exit("run.py: envoy not ready after %ds" % READY_TIMEOUT)
            time.sleep(0.2)
        listeners = json.loads(http_get(admin_port, "/listeners?format=json")[1])
        self.envoy_port = next(l["local_address"]["socket_address"]["port_value"]
                               for l in listeners["listener_statuses"] if l["name"] == "webmail")
        self.relay = Relay(self.envoy_port)

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    def sends(self):
        return json.loads(http_get(self.server_port, "/_rig/sends")[1])


def run_driver(lib, spec, rig):
    cmd = [python_for_drivers() if c == "PY" else c for c in spec["cmd"]]
    env = dict(os.environ)
    env.update({
        "RIG_BASE": "http://127.0.0.1:%d" % rig.relay.port,
        "RIG_TOKEN": "tok-ops",
        "RIG_SENDER": SENDER,
        "RIG_LIB": lib,
        "RIG_FLOWS": ",".join(spec["flows"]),
        "RIG_RECIPIENTS": json.dumps({k: v["to"] for k, v in RECIPIENTS.items()}),
    })
    if spec.get("http2"):
        env["RIG_HTTP2"] = "1"
    try:
        out = subprocess.run(cmd, cwd=str(HERE), env=env, capture_output=True, text=True,
                             timeout=DRIVER_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        return [], "timed out after %ds\n%s" % (DRIVER_TIMEOUT, e.stderr or "")
    cases = []
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            cases.append(json.loads(line))
    problem = None if out.returncode == 0 else "exit %d\n%s" % (out.returncode, out.stderr[-3000:])
    return cases, problem


# ---------------------------------------------------------------------------------------------
# Checks


def relayed_bodies(rig):
    """(path without query, percent-decoded) -> the request bodies the clients sent through the relay."""
    out = {}
    with rig.relay.lock:
        for r in rig.relay.requests:
            path = urllib.parse.unquote(urllib.parse.urlsplit(r["target"]).path)
            out.setdefault(path, []).append(r["body"])
    return out


def check_case(case, sends, relayed, requests, held=True):
    """The reasons a case failed (empty when it passed); `held`: the filter holds a send's
    headers until its verdict."""
    kind = RECIPIENTS[case["rcpt"]]
    tag = case["tag"]
    arrived = [s for s in sends if tag in s.get("text", "")]
    why = []
    if held and LIBRARIES[case["lib"]].get("case_header", True) and case["flow"] not in MULTI_REQUEST_FLOWS:
        # A JMAP refusal cannot carry the server's sessionState, so jmapc fetches its session
        # again: that GET is not part of the send.
        opened = sum(1 for r in requests if r.get("case") == tag
                     and not r.get("path", "").split("?")[0].endswith("/session"))
        if opened > len(arrived):
            why.append("%d request(s) of this send reached the server for %d send(s) delivered: "
                       "a refused send opened a request upstream" % (opened, len(arrived)))
    if case.get("error"):
        why.append("driver: " + case["error"])
    if kind["blocked"]:
        if not case.get("blocked"):
            why.append("the send was not refused (the library reported success)")
        shown = case.get("shown") or ""
        missing = [w for w in kind["shown"] if w not in shown]
        if case.get("blocked") and missing:
            why.append("the message the library shows lacks %s: %r" % (missing, shown[:300]))
        if case.get("blocked") and case["flow"] in FORWARDING_FLOWS and FORWARDING_SHOWN not in shown:
            why.append("the message the library shows does not say the rule was not saved: %r" % shown[:300])
        if case.get("blocked") and not case.get("token"):
            why.append("no confirm token reachable by the app")
        # The filter takes its confirm header off the request, so arrivals are counted: none
        # before the confirmed resend, exactly that one after it.
        expected = 1 if case.get("confirmed") else 0
        if len(arrived) != expected:
            why.append("%d send(s) reached the server, expected %d (%s)" % (
                len(arrived), expected, "after the confirmed resend" if expected else "none was confirmed"))
        if case.get("token") and not case.get("confirmed"):
            why.append("the confirmed resend failed: %r" % (case.get("confirm_shown") or "")[:300])
    else:
        if case.get("blocked"):
            why.append("a clean send was refused: %r" % (case.get("shown") or "")[:300])
        if len(arrived) != 1:
            why.append("%d sends arrived (expected 1)" % len(arrived))
    for s in arrived:
        for part in s["parts_b64"]:
            body = base64.b64decode(part)
            path = urllib.parse.unquote(urllib.parse.urlsplit(s["path"]).path)
            sent = relayed.get(path, []) + [base64.b64decode(w["b64"]) for w in case.get("wire", [])
                                            if urllib.parse.unquote(w["path"]) == path]
            if body not in sent:
                why.append("the body that arrived at %s differs from what the client sent" % path)
    return why


def server_call(port, method, path, token=None, body=None, ctype="application/json"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=None if body is None else json.dumps(body).encode())
    if token:
        req.add_header("authorization", "Bearer " + token)
    if body is not None:
        req.add_header("content-type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def server_self_check(port):
    """The filter's lookups, sent to the mail server directly as the filter sends them: the
    answers must be the real services' shapes, and only for the user's own credentials."""
    why = []
    msg = {"subject": "s", "toRecipients": [{"emailAddress": {"address": "j.smith@navy.ml"}}]}
    st, draft = server_call(port, "POST", "/v1.0/me/messages", "tok-ops", msg)
    sel = "?$select=from,sender,toRecipients,ccRecipients,bccRecipients"
    st, got = server_call(port, "GET", "/v1.0/me/messages/%s%s" % (draft["id"], sel), "tok-ops")
    if st != 200 or got.get("toRecipients") != msg["toRecipients"] or "subject" in got \
            or got.get("from", {}).get("emailAddress", {}).get("address") != SENDER:
        why.append("Graph lookup: %d %s" % (st, got))
    st, got = server_call(port, "GET", "/v1.0/users/%s/messages/%s%s" % (SENDER, draft["id"], sel), "tok-ops")
    if st != 200 or got.get("toRecipients") != msg["toRecipients"]:
        why.append("Graph /users/{u} lookup: %d %s" % (st, got))
    for token in ("tok-other", None):
        st, got = server_call(port, "GET", "/v1.0/me/messages/%s%s" % (draft["id"], sel), token)
        if st not in (401, 404):
            why.append("Graph lookup with %s credentials answered %d" % (token or "no", st))
    raw = base64.urlsafe_b64encode(b"From: ops@army.mil\r\nTo: j.smith@navy.ml\r\nSubject: s\r\n\r\nhi\r\n")
    st, d = server_call(port, "POST", "/gmail/v1/users/me/drafts", "tok-ops", {"message": {"raw": raw.decode()}})
    st, got = server_call(port, "GET", "/gmail/v1/users/me/drafts/%s?format=metadata" % d["id"], "tok-ops")
    headers = {h["name"]: h["value"] for h in got.get("message", {}).get("payload", {}).get("headers", [])}
    if st != 200 or got.get("id") != d["id"] or headers.get("To") != "j.smith@navy.ml" \
            or not got["message"].get("threadId"):
        why.append("Gmail lookup: %d %s" % (st, got))
    st, got = server_call(port, "GET", "/gmail/v1/users/me/drafts/%s?format=metadata" % d["id"], "tok-other")
    if st != 404:
        why.append("Gmail lookup with another user's credentials answered %d" % st)
    using = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
    create = {"using": using, "methodCalls": [["Email/set", {"accountId": SENDER, "create": {"d": {
        "from": [{"email": SENDER}], "to": [{"email": "j.smith@navy.ml"}], "subject": "s"}}}, "c"]]}
    st, got = server_call(port, "POST", "/jmap/api/", "tok-ops", create)
    eid = got["methodResponses"][0][1]["created"]["d"]["id"]
    look = {"using": using, "methodCalls": [["Email/get", {"accountId": SENDER, "ids": [eid],
                                                           "properties": ["from", "sender", "to", "cc", "bcc"]}, "mistype"]]}
    st, got = server_call(port, "POST", "/jmap/api/", "tok-ops", look)
    resp = got["methodResponses"][0]
    if st != 200 or resp[0] != "Email/get" or resp[2] != "mistype" \
            or resp[1]["list"][0]["to"] != [{"email": "j.smith@navy.ml"}] or "subject" in resp[1]["list"][0]:
        why.append("JMAP lookup: %d %s" % (st, got))
    st, got = server_call(port, "POST", "/jmap/api/", "tok-other", look)
    if st != 200 or got["methodResponses"][0][0] != "error":
        why.append("JMAP lookup with another user's credentials: %d %s" % (st, got))
    server_call(port, "POST", "/_rig/reset")
    return why


def run_variant(variant, libs, verbose):
    """Every library of `libs` through Envoy set up as `variant`: (passed, failed)."""
    passed = failed = 0
    held = VARIANTS[variant]["held"]
    prefix = "" if variant == "shipped" else "[%s] " % variant
    with tempfile.TemporaryDirectory(prefix="mistype-clients-") as tmp:
        rig = Rig(tmp, variant)
        try:
            rig.start()
            why = server_self_check(rig.server_port)
            if why:
                failed += 1
                print("FAIL %smail server answers the filter's lookups: %s" % (prefix, "; ".join(why)))
            else:
                passed += 1
                print("PASS %smail server answers the filter's lookups" % prefix)
            results = []
            for lib in libs:
                t0 = time.time()
                h2_before = rig.relay.h2_connections
                cases, problem = run_driver(lib, LIBRARIES[lib], rig)
                if LIBRARIES[lib].get("http2") and rig.relay.h2_connections == h2_before:
                    print("FAIL %s%s: the client opened no HTTP/2 connection" % (prefix, lib))
                    failed += 1
                print("%s[%s] %d cases in %.1fs" % (prefix, lib, len(cases), time.time() - t0), flush=True)
                if problem:
                    print("FAIL %s%s: driver %s" % (prefix, lib, problem))
                    failed += 1
                expected = {(f, r) for f in LIBRARIES[lib]["flows"] for r in RECIPIENTS}
                got = {(c["flow"], c["rcpt"]) for c in cases}
                for f, r in sorted(expected - got):
                    print("FAIL %s%s %s %s: the driver did not report this case" % (prefix, lib, f, r))
                    failed += 1
                results.extend(cases)
            sends = rig.sends()
            requests = json.loads(http_get(rig.server_port, "/_rig/requests")[1])
            relayed = relayed_bodies(rig)
            lookups = {}
            for r in requests:
                if r.get("lookup"):
                    lookups[r["lookup"]] = lookups.get(r["lookup"], 0) + 1
            print("%sthe filter's lookups seen by the mail server: %s" % (prefix, (
                ", ".join("%s %d" % kv for kv in sorted(lookups.items())) or "none")))
            for case in results:
                why = check_case(case, sends, relayed, requests, held)
                name = "%s%s %s %s" % (prefix, case["lib"], case["flow"], case["rcpt"])
                if why:
                    failed += 1
                    print("FAIL %s: %s" % (name, "; ".join(why)))
                else:
                    passed += 1
                    print("PASS %s" % name)
                if verbose:
                    print("     " + json.dumps({k: case.get(k) for k in ("blocked", "status", "shown", "token",
                                                                            "confirmed", "confirm_shown")})[:600])
            if not held:
                # The filter must have run every send without a fault (a panic or trap stops its
                # VM; the filter's own error lines, a stalled send's, are not faults).
                log = (Path(tmp) / "envoy.log").read_text()
                faults = [line for line in log.splitlines()
                          if "[critical][wasm]" in line or "wasm_vm.cc" in line or "RuntimeError" in line]
                if faults:
                    failed += 1
                    print("FAIL %sthe filter faulted: %s" % (prefix, faults[0][:300]))
        finally:
            rig.stop()
    return passed, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated library names")
    ap.add_argument("--variant", choices=list(VARIANTS), action="append",
                    help="an Envoy set-up to run (default: all of %s)" % ", ".join(VARIANTS))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    libs = list(LIBRARIES)
    if args.only:
        libs = [lib for lib in args.only.split(",") if lib]
        unknown = [lib for lib in libs if lib not in LIBRARIES]
        if unknown:
            sys.exit("run.py: unknown libraries %s (known: %s)" % (unknown, ", ".join(LIBRARIES)))
    passed = failed = 0
    for variant in args.variant or list(VARIANTS):
        p, f = run_variant(variant, libs, args.verbose)
        passed += p
        failed += f
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
