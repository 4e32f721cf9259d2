#!/usr/bin/env python3
"""The mistype demo's webmail backend (Python 3 standard library only).

It stands for the webmail server that sits behind Envoy and the mistype filter:

  GET  /                    the compose page (web-lint/demo/index.html) and its files
  GET  /pkg/...             the web-lint npm package (web-lint/pkg/)
  GET  /demo-config.json    tells the page where to send and which confirm header to use
  POST /jmap/api            JMAP: Email/set (create) + EmailSubmission/set (create)
  POST /check               the contract's check request, taken as a send
  GET  /outbox              what got through, as HTML
  GET  /outbox.json         the same as JSON
  GET  /healthz             "ok"

Messages that reach this backend went through the filter: they are kept in memory in the
outbox. Listens on 127.0.0.1 only.

  python3 demo/backend.py [--port N] [--port-file FILE] [--root REPO]

--port 0 (the default) lets the OS choose; the chosen port is printed and written to
--port-file when given.
"""

import argparse
import html
import json
import mimetypes
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

JMAP_CORE = "urn:ietf:params:jmap:core"
JMAP_MAIL = "urn:ietf:params:jmap:mail"
JMAP_SUBMISSION = "urn:ietf:params:jmap:submission"
CONFIRM_HEADER = "x-mistype-confirm"
MAX_BODY = 32 * 1024 * 1024

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".ts": "text/plain; charset=utf-8",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}


class JmapError(Exception):
    """A request-level JMAP problem (RFC 8620 §3.6.1), answered with 400."""

    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class Outbox:
    """The messages that got through, in arrival order (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._messages = []

    def add(self, message):
        with self._lock:
            message["id"] = "msg-%d" % (len(self._messages) + 1)
            self._messages.append(message)
            return message["id"]

    def all(self):
        with self._lock:
            return list(self._messages)


def _addresses(value, what):
    """JMAP EmailAddress[] ({"name", "email"}) -> list of {"name", "email"}."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("%s must be a list of {name, email}" % what)
    out = []
    for a in value:
        if not isinstance(a, dict) or not isinstance(a.get("email"), str):
            raise ValueError("%s: every address needs an \"email\" string" % what)
        name = a.get("name")
        if name is not None and not isinstance(name, str):
            raise ValueError("%s: \"name\" must be a string or null" % what)
        out.append({"name": name, "email": a["email"]})
    return out


def _text_body(email):
    values = email.get("bodyValues") or {}
    parts = email.get("textBody") or []
    texts = []
    if isinstance(parts, list) and isinstance(values, dict):
        for p in parts:
            if isinstance(p, dict):
                v = values.get(p.get("partId"))
                if isinstance(v, dict) and isinstance(v.get("value"), str):
                    texts.append(v["value"])
    return "\n".join(texts)


def handle_jmap(request, outbox):
    """Process a JMAP request with Email/set and EmailSubmission/set; returns the response."""
    if not isinstance(request, dict):
        raise JmapError("urn:ietf:params:jmap:error:notRequest", "the request is not a JSON object")
    using = request.get("using")
    calls = request.get("methodCalls")
    if not isinstance(using, list) or not isinstance(calls, list):
        raise JmapError("urn:ietf:params:jmap:error:notRequest", "\"using\" and \"methodCalls\" must be lists")
    for cap in (JMAP_CORE, JMAP_MAIL, JMAP_SUBMISSION):
        if cap not in using:
            raise JmapError("urn:ietf:params:jmap:error:unknownCapability", "missing capability %s" % cap)
    created_emails = {}  # creation id -> {"id", "email"}
    responses = []
    for call in calls:
        if not (isinstance(call, list) and len(call) == 3 and isinstance(call[0], str)
                and isinstance(call[1], dict) and isinstance(call[2], str)):
            raise JmapError("urn:ietf:params:jmap:error:notRequest", "each method call is [name, arguments, callId]")
        name, args, call_id = call
        if name == "Email/set":
            created, not_created = {}, {}
            for cid, email in (args.get("create") or {}).items():
                try:
                    if not isinstance(email, dict):
                        raise ValueError("an Email must be an object")
                    parsed = {
                        "from": _addresses(email.get("from"), "from"),
                        "to": _addresses(email.get("to"), "to"),
                        "cc": _addresses(email.get("cc"), "cc"),
                        "bcc": _addresses(email.get("bcc"), "bcc"),
                        "subject": email.get("subject") if isinstance(email.get("subject"), str) else "",
                        "text": _text_body(email),
                    }
                except ValueError as e:
                    not_created[cid] = {"type": "invalidProperties", "description": str(e)}
                    continue
                email_id = "email-%s-%d" % (cid, int(time.time() * 1000))
                created_emails[cid] = {"id": email_id, "email": parsed}
                created[cid] = {"id": email_id}
            responses.append(["Email/set", {
                "accountId": args.get("accountId"), "created": created or None,
                "notCreated": not_created or None}, call_id])
        elif name == "EmailSubmission/set":
            created, not_created = {}, {}
            for sid, sub in (args.get("create") or {}).items():
                try:
                    if not isinstance(sub, dict):
                        raise ValueError("an EmailSubmission must be an object")
                    ref = sub.get("emailId")
                    if not (isinstance(ref, str) and ref.startswith("#") and ref[1:] in created_emails):
                        raise ValueError("emailId must reference an Email created in this request (#id)")
                    email = created_emails[ref[1:]]["email"]
                    envelope = sub.get("envelope")
                    if envelope is None:
                        mail_from = email["from"][0]["email"] if email["from"] else None
                        rcpt_to = []
                        for a in email["to"] + email["cc"] + email["bcc"]:
                            if a["email"] not in rcpt_to:
                                rcpt_to.append(a["email"])
                    else:
                        if not isinstance(envelope, dict):
                            raise ValueError("envelope must be an object")
                        mf = envelope.get("mailFrom")
                        mail_from = mf.get("email") if isinstance(mf, dict) else None
                        rt = envelope.get("rcptTo")
                        if not isinstance(rt, list) or not all(
                                isinstance(r, dict) and isinstance(r.get("email"), str) for r in rt):
                            raise ValueError("envelope.rcptTo must be a list of {email}")
                        rcpt_to = [r["email"] for r in rt]
                    if not rcpt_to:
                        raise ValueError("no recipients")
                except ValueError as e:
                    not_created[sid] = {"type": "invalidProperties", "description": str(e)}
                    continue
                msg = dict(email)
                msg.update({"via": "jmap", "mail_from": mail_from, "rcpt_to": rcpt_to,
                            "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
                created[sid] = {"id": outbox.add(msg), "undoStatus": "final"}
            responses.append(["EmailSubmission/set", {
                "accountId": args.get("accountId"), "created": created or None,
                "notCreated": not_created or None}, call_id])
        else:
            responses.append(["error", {"type": "unknownMethod"}, call_id])
    return {"methodResponses": responses, "sessionState": "demo"}


def handle_check(request, outbox):
    """The contract's check request, taken as a send: {"from", "to", "cc", "bcc"}."""
    if not isinstance(request, dict):
        raise ValueError("the check request is not a JSON object")

    def mailboxes(key):
        v = request.get(key) or []
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(a, str) for a in v):
            raise ValueError("%r must be a list of address strings" % key)
        return [{"name": None, "email": a} for a in v]

    to = mailboxes("to")
    if not to:
        raise ValueError("\"to\" is required")
    sender = request.get("from")
    msg = {"via": "check", "from": [{"name": None, "email": sender}] if isinstance(sender, str) else [],
           "to": to, "cc": mailboxes("cc"), "bcc": mailboxes("bcc"), "subject": "", "text": "",
           "mail_from": sender if isinstance(sender, str) else None,
           "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    msg["rcpt_to"] = [a["email"] for a in msg["to"] + msg["cc"] + msg["bcc"]]
    return {"id": request.get("id"), "accepted": True, "message": outbox.add(msg)}


def outbox_html(messages):
    rows = []
    for m in reversed(messages):
        def fmt(addrs):
            return ", ".join(
                html.escape("%s <%s>" % (a["name"], a["email"]) if a.get("name") else a["email"])
                for a in addrs)
        rows.append(
            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                html.escape(m["id"]), html.escape(m["received_at"]), fmt(m["from"]),
                html.escape(", ".join(m["rcpt_to"])), html.escape(m["subject"]),
                html.escape(m["via"])))
    body = "\n".join(rows) or '<tr><td colspan="6">Nothing has been sent yet.</td></tr>'
    return """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mistype demo: outbox</title>
<meta http-equiv="refresh" content="5">
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style></head>
<body><h1>Outbox</h1>
<p>Messages that got through Envoy and the mistype filter to the webmail backend.
<a href="/">Back to compose</a> &middot; <a href="/outbox.json">JSON</a></p>
<table><tr><th>id</th><th>received</th><th>from</th><th>recipients</th><th>subject</th>
<th>via</th></tr>
%s
</table></body></html>
""" % body


FALLBACK_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mistype demo</title></head>
<body><h1>mistype demo</h1>
<p>The compose page (web-lint/demo/) is not in this checkout. Try the filter with curl
(see the lines demo/run.sh printed) and watch the <a href="/outbox">outbox</a>.</p>
</body></html>
"""


def make_handler(root, outbox, config):
    page_dir = (root / "web-lint" / "demo").resolve()
    pkg_dir = (root / "web-lint" / "pkg").resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "mistype-demo-webmail/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("[backend] %s %s\n" % (self.address_string(), fmt % args))

        def send(self, status, body, content_type="application/json"):
            if isinstance(body, (dict, list)):
                body = json.dumps(body, indent=None).encode()
            elif isinstance(body, str):
                body = body.encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.send_header("cache-control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def serve_file(self, base, rel):
            target = (base / rel).resolve()
            if base not in target.parents and target != base:
                return self.send(404, {"error": "not found"})
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                return self.send(404, {"error": "not found"})
            ctype = CONTENT_TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] \
                or "application/octet-stream"
            self.send(200, target.read_bytes(), ctype)

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                return self.send(200, "ok\n", "text/plain")
            if path == "/demo-config.json":
                return self.send(200, config)
            if path == "/outbox.json":
                return self.send(200, {"messages": outbox.all()})
            if path == "/outbox":
                return self.send(200, outbox_html(outbox.all()), "text/html; charset=utf-8")
            if path.startswith("/pkg/"):
                return self.serve_file(pkg_dir, path[len("/pkg/"):])
            if path in ("/", "/index.html") and not (page_dir / "index.html").is_file():
                return self.send(200, FALLBACK_INDEX, "text/html; charset=utf-8")
            return self.serve_file(page_dir, path.lstrip("/"))

        def read_json(self):
            length = self.headers.get("content-length")
            if length is None or not length.isdigit():
                raise JmapError("urn:ietf:params:jmap:error:notJSON", "a content-length is required")
            n = int(length)
            if n > MAX_BODY:
                raise JmapError("urn:ietf:params:jmap:error:limit", "the request is too large")
            raw = self.rfile.read(n)
            try:
                return json.loads(raw)
            except ValueError as e:
                raise JmapError("urn:ietf:params:jmap:error:notJSON", "not JSON: %s" % e)

        def do_POST(self):
            path = self.path.split("?", 1)[0].rstrip("/")
            try:
                if path == "/jmap/api":
                    return self.send(200, handle_jmap(self.read_json(), outbox))
                if path == "/check":
                    try:
                        return self.send(200, handle_check(self.read_json(), outbox))
                    except ValueError as e:
                        return self.send(400, {"error": str(e)})
            except JmapError as e:
                return self.send(400, {"type": e.kind, "status": 400, "detail": e.detail},
                                 "application/problem+json")
            self.send(404, {"error": "not found"})

    return Handler


def main():
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description="mistype demo webmail backend")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--root", default=str(here.parent), help="the repository root")
    ap.add_argument("--from", dest="sender", default="Sgt Ray <ray.k@army.mil>",
                    help="the sender the compose page uses")
    args = ap.parse_args()
    config = {"send_url": "/jmap/api", "check_url": "/check", "confirm_header": CONFIRM_HEADER,
              "from": args.sender, "account_id": "demo"}
    outbox = Outbox()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(Path(args.root), outbox, config))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("[backend] webmail backend on http://127.0.0.1:%d\n" % port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
