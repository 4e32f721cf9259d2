#!/usr/bin/env python3
"""A test mail server for the real-client rig: Microsoft Graph v1.0, the Gmail API and JMAP on one
loopback port, upstream of Envoy.

It behaves like the real services closely enough for their official client libraries: a bearer
token per user (401 otherwise), drafts stored per user, replies shaped as the services shape
them. It answers the filter's lookups (Graph GET of a message with $select, Gmail drafts.get with
format=metadata, JMAP Email/get) from the same store, with the same credential check.

Every send that reaches it is recorded with the raw request body, and the runner reads the record
on the control path /_rig/ (sends, requests, reset), which is only reached directly, never through
Envoy.

  python3 mailserver.py [--port 0]    # prints "listening PORT" on stdout when ready
"""

import argparse
import base64
import email
import email.policy
import json
import re
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# token -> the user's address. One more user so that a lookup with the wrong credentials is seen.
USERS = {"tok-ops": "ops@army.mil", "tok-other": "other@army.mil"}

# Messages in each user's inbox, for the reply and forward flows: one from each recipient the rig
# uses, so that a reply goes to that recipient.
INBOX_SENDERS = {
    "in-typo": "j.smith@navy.ml",
    "in-provider": "friend@gmial.com",
    "in-clean": "j.smith@navy.mil",
}

JMAP_CAPS = {
    "urn:ietf:params:jmap:core": {
        "maxSizeUpload": 50000000,
        "maxConcurrentUpload": 4,
        "maxSizeRequest": 10000000,
        "maxConcurrentRequests": 4,
        "maxCallsInRequest": 16,
        "maxObjectsInGet": 500,
        "maxObjectsInSet": 500,
        "collationAlgorithms": [],
    },
    "urn:ietf:params:jmap:mail": {},
    "urn:ietf:params:jmap:submission": {},
}


class Store:
    """Everything the server knows, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.graph = {}  # user -> id -> Graph message (camelCase keys)
        self.gmail = {}  # user -> draft id -> {"id", "message": {"id", "threadId", "raw"}}
        self.jmap = {}  # user -> email id -> JMAP Email
        self.rules = {}  # user -> rule id -> Graph messageRule of the inbox
        self.uploads = {}  # upload_id -> {"user", "path", "meta", "data"}
        self.sends = []  # every send that reached the server
        self.requests = []  # every request (method, path, authorization user, kind)
        self.counter = 0
        for user in USERS.values():
            self.graph[user] = {}
            self.gmail[user] = {}
            self.jmap[user] = {}
            self.rules[user] = {}
            for mid, sender in INBOX_SENDERS.items():
                self.graph[user][mid] = {
                    "id": mid,
                    "subject": "Inbox message from " + sender,
                    "isDraft": False,
                    "from": {"emailAddress": {"address": sender}},
                    "sender": {"emailAddress": {"address": sender}},
                    "toRecipients": [{"emailAddress": {"address": user}}],
                    "ccRecipients": [],
                    "bccRecipients": [],
                    "body": {"contentType": "text", "content": "hello"},
                    "conversationId": "conv-" + mid,
                }

    def new_id(self, prefix):
        self.counter += 1
        if prefix == "AAMk":  # Graph message ids are base64 and often end in "="
            return "AAMkAD%s%dAAA=" % (uuid.uuid4().hex[:12], self.counter)
        return "%s%d-%s" % (prefix, self.counter, uuid.uuid4().hex[:8])


STORE = Store()


def lower_keys(value):
    """Graph reads JSON names case-insensitively: normalise every key to its camelCase form."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = k if k.startswith("@") else k[:1].lower() + k[1:]
            out[key] = lower_keys(v)
        return out
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def graph_addresses(recipients):
    return [r.get("emailAddress", {}).get("address", "") for r in recipients or []]


def mime_summary(raw):
    """From, To, Cc, Bcc and Subject of a MIME message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    def addrs(name):
        return [a.addr_spec for h in msg.get_all(name) or [] for a in h.addresses]

    return {
        "from": addrs("From"),
        "to": addrs("To"),
        "cc": addrs("Cc"),
        "bcc": addrs("Bcc"),
        "subject": str(msg.get("Subject", "")),
        "text": raw.decode("utf-8", "replace"),
    }


def split_multipart(ctype, body):
    """The parts' contents of a multipart body (a message/rfc822 part stays raw bytes)."""
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m:
        return []
    out = []
    for chunk in body.split(b"--" + m.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        # Parts end their headers with a blank line, CRLF or (Python's email generator) LF.
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk[1:] if chunk.startswith(b"\n") else chunk
        crlf, lf = chunk.find(b"\r\n\r\n"), chunk.find(b"\n\n")
        if crlf >= 0 and (lf < 0 or crlf <= lf):
            content = chunk[crlf + 4:]
        elif lf >= 0:
            content = chunk[lf + 2:]
        else:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        out.append(content)
    return out


def b64url_decode(text):
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mistype-rig-mail/1"

    def log_message(self, fmt, *args):  # quiet: the runner prints what matters
        pass

    # -- plumbing ------------------------------------------------------------------------------

    def read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, status, obj, headers=None, ctype="application/json; charset=utf-8"):
        data = b"" if obj is None else json.dumps(obj).encode()
        if self.capture is not None:  # a call of a batch: its answer goes into the batch's
            self.capture.append((status, ctype, data))
            return None
        self.send_response(status)
        if obj is not None:
            self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def graph_error(self, status, code, message):
        self.send_json(status, {"error": {"code": code, "message": message}})

    def google_error(self, status, message, reason="invalidArgument", status_text="INVALID_ARGUMENT"):
        self.send_json(status, {"error": {"code": status, "message": message, "status": status_text,
                                          "errors": [{"reason": reason, "message": message, "domain": "global"}]}})

    def user(self):
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return USERS.get(auth[7:].strip())
        return None

    def record_send(self, api, kind, body, summary, parts=None):
        STORE.sends.append({
            "api": api,
            "kind": kind,
            "method": self.command,
            "path": self.path,
            "user": self.user(),
            "confirm": self.headers.get("x-mistype-confirm"),
            "body_b64": base64.b64encode(getattr(self, "batch_raw", None) or body).decode(),
            "subject": summary.get("subject", ""),
            "text": summary.get("text", ""),
            "parts_b64": [base64.b64encode(p).decode() for p in (parts or getattr(self, "parts", None) or [getattr(self, "batch_raw", None) or body])],
            "to": summary.get("to", []),
            "cc": summary.get("cc", []),
            "bcc": summary.get("bcc", []),
        })

    def handle_any(self):
        # One handler serves every request of a keep-alive connection: per-request state anew.
        self.batch_raw = None
        self.parts = None
        self.capture = None
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        if not path.startswith("/_rig/"):
            # Counted on its headers, before the body: a request that Envoy opens and then resets
            # is counted too.
            self.entry = {"method": self.command, "path": self.path, "user": self.user(),
                          "case": self.headers.get("x-rig-case"),
                          "content_type": self.headers.get("content-type"),
                          "lookup": self.is_lookup(path, url.query)}
            with STORE.lock:
                STORE.requests.append(self.entry)
        body = self.read_body()
        if path.startswith("/_rig/"):
            return self.rig(path)
        with STORE.lock:
            user = self.user()
            if path.startswith("/jmap/session") or path == "/.well-known/jmap":
                if user is None:
                    return self.send_json(401, None, {"www-authenticate": 'Bearer realm="jmap"'})
                return self.jmap_session(user)
            if user is None:
                if path.startswith("/jmap"):
                    return self.send_json(401, None, {"www-authenticate": 'Bearer realm="jmap"'})
                if "/gmail/" in path:
                    return self.google_error(401, "Request had invalid authentication credentials.",
                                             "authError", "UNAUTHENTICATED")
                return self.graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            if path.lower() in ("/v1.0/$batch", "/v1.0/%24batch") and self.command == "POST":
                self.batch_raw = body
                return self.graph_batch(user, body)
            if path.startswith("/v1.0/"):
                return self.graph(user, self.command, path[len("/v1.0"):], query, body)
            if path in ("/batch", "/batch/gmail/v1") and self.command == "POST":
                self.batch_raw = body
                return self.gmail_batch(user, body)
            if path.startswith("/gmail/v1/") or path.startswith("/upload/gmail/v1/"):
                return self.gmail(user, self.command, path, query, body)
            if path.startswith("/jmap/api"):
                return self.jmap_api(user, body)
            return self.send_json(404, {"error": "no such resource: " + path})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def is_lookup(self, path, query):
        """Whether a request has the shape of one of the filter's lookups."""
        if self.command == "GET" and "$select=" in urllib.parse.unquote(query) and "/messages/" in path:
            return "graph"
        if self.command == "GET" and "/drafts/" in path and "format=metadata" in query:
            return "gmail"
        if self.command == "GET" and re.search(r"(?i)/messageRules/[^/]+/*$", path):
            return "graph-rule"
        return None  # a JMAP lookup is known by its call id, once the body is read (jmap_api)

    def rig(self, path):
        with STORE.lock:
            if path == "/_rig/reset":
                STORE.reset()
                return self.send_json(200, {})
            if path == "/_rig/sends":
                return self.send_json(200, STORE.sends)
            if path == "/_rig/requests":
                return self.send_json(200, STORE.requests)
        return self.send_json(404, {})

    # -- Microsoft Graph -----------------------------------------------------------------------

    def graph(self, user, method, path, query, body, batch=False):
        """`path` is the part after /v1.0. Returns (status, obj) in a batch, else answers."""
        def answer(status, obj):
            if batch:
                return status, obj
            return self.send_json(status, obj)

        # Keys in OData's parentheses (users('u')/messages('id')) are the same as path segments.
        path = re.sub(r"\('([^/']*(?:''[^/']*)*)'\)", lambda k: "/" + k.group(1).replace("''", "'"), path)
        m = re.match(r"(?i)^/(me|users/([^/]+))(/.*)?$", path)
        if not m:
            return answer(400, {"error": {"code": "BadRequest", "message": "Unsupported path " + path}})
        who = urllib.parse.unquote(m.group(2) or "")
        if who and who.lower() != user:
            return answer(403, {"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}})
        # Graph accepts an action's name with OData's namespace (microsoft.graph.sendMail) too.
        rest = re.sub(r"(?i)/microsoft\.graph\.([a-z]+)/*$", r"/\1", m.group(3) or "")
        box = STORE.graph[user]
        try:
            payload = lower_keys(json.loads(body)) if body and body.lstrip()[:1] == b"{" else None
        except ValueError:
            return answer(400, {"error": {"code": "BadRequest", "message": "Invalid JSON"}})
        low = rest.lower()
        if low == "/sendmail" and method == "POST":
            if payload is None:  # MIME, base64 (text/plain)
                try:
                    summary = mime_summary(base64.b64decode(body))
                except Exception:
                    return answer(400, {"error": {"code": "ErrorMimeContentInvalidBase64String",
                                                  "message": "Invalid base64 string for MIME content."}})
            else:
                msg = payload.get("message") or {}
                summary = self.graph_summary(msg)
            self.record_send("graph", "sendMail", body, summary)
            return answer(202, None)
        # The calendar: an event created or changed with attendees sends them the invitation or
        # the update; an event's forward sends it to its toRecipients.
        m_ev = re.match(r"(?i)^(?:/calendar|/calendars/[^/]+)?/events(?:/([^/]+))?(?:/([a-z]+))?/*$", rest)
        if m_ev:
            return self.graph_event(method, box, m_ev.group(1), (m_ev.group(2) or "").lower(), payload, body,
                                    answer)
        # The inbox's message rules: one that forwards or redirects sends every message it
        # matches from then on, so it is recorded as a send when it is saved.
        m_rule = re.match(r"(?i)^/mailFolders/inbox/messageRules(?:/([^/]+))?/*$", rest)
        if m_rule:
            return self.graph_rule(method, user, m_rule.group(1), payload, body, answer)
        if low == "/messages" and method == "POST":
            msg = dict(payload or {})
            msg.pop("@odata.type", None)
            mid = STORE.new_id("AAMk")
            msg.update({"id": mid, "isDraft": True, "from": {"emailAddress": {"address": user}},
                        "sender": {"emailAddress": {"address": user}}})
            for k in ("toRecipients", "ccRecipients", "bccRecipients"):
                msg.setdefault(k, [])
            box[mid] = msg
            return answer(201, msg)
        m2 = re.match(r"(?i)^/messages/([^/]+)(/([a-z]+))?/*$", rest)
        if not m2:
            return answer(400, {"error": {"code": "BadRequest", "message": "Unsupported path " + path}})
        mid = urllib.parse.unquote(m2.group(1))
        action = (m2.group(3) or "").lower()
        msg = box.get(mid)
        if msg is None:
            return answer(404, {"error": {"code": "ErrorItemNotFound",
                                          "message": "The specified object was not found in the store."}})
        if not action:
            if method == "GET":
                select = (query.get("$select") or [""])[0]
                if select:
                    fields = [f.strip() for f in select.split(",") if f.strip()]
                    out = {"@odata.etag": 'W/"1"', "id": mid}
                    for f in fields:
                        for k, v in msg.items():
                            if k.lower() == f.lower():
                                out[k] = v
                    return answer(200, out)
                return answer(200, msg)
            if method == "PATCH":
                patch = dict(payload or {})
                patch.pop("@odata.type", None)
                msg.update(patch)
                return answer(200, msg)
            if method == "DELETE":
                del box[mid]
                return answer(204, None)
        if method != "POST":
            return answer(405, {"error": {"code": "ErrorInvalidRequest", "message": "Method not allowed"}})
        if action == "send":
            if not msg.get("isDraft"):
                return answer(400, {"error": {"code": "ErrorInvalidRequest", "message": "Only drafts can be sent."}})
            self.record_send("graph", "send", body, self.graph_summary(msg))
            del box[mid]
            return answer(202, None)
        if action in ("reply", "replyall", "forward", "createreply", "createreplyall", "createforward"):
            new = self.graph_derived(user, msg, action.replace("create", ""), payload or {})
            if action.startswith("create"):
                new_id = STORE.new_id("AAMk")
                new.update({"id": new_id, "isDraft": True})
                box[new_id] = new
                return answer(201, new)
            self.record_send("graph", action, body, self.graph_summary(new))
            return answer(202, None)
        return answer(400, {"error": {"code": "BadRequest", "message": "Unsupported action " + action}})

    def graph_event(self, method, box, eid, action, payload, body, answer):
        payload = payload or {}

        def summary(ev, to):
            return {"subject": ev.get("subject", ""), "to": to, "cc": [], "bcc": [],
                    "text": ev.get("subject", "") + "\n" + str(payload.get("comment", ""))}

        if eid is None:
            if method != "POST":
                return answer(405, {"error": {"code": "ErrorInvalidRequest", "message": "Method not allowed"}})
            ev = dict(payload)
            ev["id"] = STORE.new_id("AAMk")
            box[ev["id"]] = ev
            if ev.get("attendees"):
                self.record_send("graph", "event", body, summary(ev, graph_addresses(ev["attendees"])))
            return answer(201, ev)
        ev = box.get(urllib.parse.unquote(eid))
        if ev is None:
            return answer(404, {"error": {"code": "ErrorItemNotFound",
                                          "message": "The specified object was not found in the store."}})
        if not action and method == "PATCH":
            ev.update(payload)
            if payload.get("attendees"):
                self.record_send("graph", "event-update", body, summary(ev, graph_addresses(ev["attendees"])))
            return answer(200, ev)
        if action == "forward" and method == "POST":
            self.record_send("graph", "event-forward", body,
                             summary(ev, graph_addresses(payload.get("toRecipients"))))
            return answer(202, None)
        return answer(400, {"error": {"code": "BadRequest", "message": "Unsupported event request"}})

    def graph_rule(self, method, user, rid, payload, body, answer):
        rules = STORE.rules[user]
        payload = payload or {}
        rule = None if rid is None else rules.get(urllib.parse.unquote(rid))
        if rid is not None and rule is None:
            return answer(404, {"error": {"code": "ErrorItemNotFound",
                                          "message": "The specified object was not found in the store."}})
        if rid is None and method == "POST":
            rule = dict(payload, id=STORE.new_id("AQAAA"))
            rule.setdefault("isEnabled", True)
            rules[rule["id"]] = rule
        elif rid is not None and method == "GET":
            return answer(200, rule)
        elif rid is not None and method == "PATCH":
            rule.update(payload)
        else:
            return answer(405, {"error": {"code": "ErrorInvalidRequest", "message": "Method not allowed"}})
        actions = rule.get("actions") or {}
        to = [a for key in ("forwardTo", "forwardAsAttachmentTo", "redirectTo")
              for a in graph_addresses(actions.get(key))]
        # Saved enabled, by a create or by a change of its actions or of isEnabled: from then on
        # it forwards what it matches.
        if to and rule.get("isEnabled") and (rid is None or "actions" in payload or "isEnabled" in payload):
            self.record_send("graph", "messageRule", body,
                             {"subject": rule.get("displayName", ""), "to": to, "cc": [], "bcc": [],
                              "text": rule.get("displayName", "")})
        return answer(201 if rid is None else 200, rule)

    @staticmethod
    def graph_summary(msg):
        return {
            "subject": msg.get("subject", ""),
            "text": msg.get("subject", "") + "\n" + json.dumps(msg.get("body", {})),
            "to": graph_addresses(msg.get("toRecipients")),
            "cc": graph_addresses(msg.get("ccRecipients")),
            "bcc": graph_addresses(msg.get("bccRecipients")),
        }

    @staticmethod
    def graph_derived(user, original, kind, payload):
        """The message a reply, reply-all or forward of `original` makes (Graph's rules)."""
        sender = original.get("from") or {}
        given = payload.get("message") or {}
        new = {
            "subject": ("FW: " if kind == "forward" else "RE: ") + original.get("subject", ""),
            "from": {"emailAddress": {"address": user}},
            "sender": {"emailAddress": {"address": user}},
            "toRecipients": [],
            "ccRecipients": [],
            "bccRecipients": [],
            "body": {"contentType": "text", "content": payload.get("comment", "")},
        }
        if kind == "reply":
            new["toRecipients"] = [sender]
        elif kind == "replyall":
            others = [r for r in original.get("toRecipients", [])
                      if r.get("emailAddress", {}).get("address", "").lower() != user]
            new["toRecipients"] = [sender] + others
            new["ccRecipients"] = list(original.get("ccRecipients", []))
        else:
            new["toRecipients"] = list(payload.get("toRecipients") or [])
        for k in ("toRecipients", "ccRecipients", "bccRecipients", "subject"):
            if k in given:
                new[k] = given[k]
        return new

    def graph_batch(self, user, body):
        try:
            req = lower_keys(json.loads(body))
        except ValueError:
            return self.graph_error(400, "BadRequest", "Invalid batch payload")
        out = []
        for item in req.get("requests", []):
            url = urllib.parse.urlsplit(item.get("url", ""))
            p = url.path
            if p.lower().startswith("/v1.0"):
                p = p[5:]
            sub = item.get("body")
            sub_bytes = b"" if sub is None else json.dumps(sub).encode()
            status, obj = self.graph(user, item.get("method", "GET").upper(), p,
                                     urllib.parse.parse_qs(url.query), sub_bytes, batch=True)
            resp = {"id": item.get("id"), "status": status, "headers": {}}
            if obj is not None:
                resp["body"] = obj
                resp["headers"]["content-type"] = "application/json"
            out.append(resp)
        return self.send_json(200, {"responses": out})

    # -- Gmail ---------------------------------------------------------------------------------

    def gmail(self, user, method, path, query, body):
        upload = path.startswith("/upload/")
        m_set = re.match(r"^/gmail/v1/users/([^/]+)/settings/(forwardingAddresses|filters|autoForwarding)/*$", path)
        if m_set:
            return self.gmail_setting(user, method, urllib.parse.unquote(m_set.group(1)), m_set.group(2), body)
        m = re.match(r"^(/upload)?/gmail/v1/users/([^/]+)/(messages|drafts)(/([^/]+))?(/send)?/*$", path)
        if not m:
            return self.google_error(404, "Not found: " + path, "notFound", "NOT_FOUND")
        who = urllib.parse.unquote(m.group(2))
        if who != "me" and who.lower() != user:
            return self.google_error(403, "Delegation denied for " + user, "forbidden", "PERMISSION_DENIED")
        coll, item, send = m.group(3), m.group(5), bool(m.group(6))
        if item == "send":
            item, send = None, True
        upload_type = (query.get("uploadType") or [""])[0]
        if upload and upload_type == "resumable":
            upload_id = (query.get("upload_id") or [""])[0]
            if not upload_id:  # start a session: the metadata now, the media in later PUTs
                upload_id = STORE.new_id("up")
                STORE.uploads[upload_id] = {"user": user, "path": path, "method": method, "item": item,
                                            "meta": body, "data": b"", "bodies": [body]}
                host = self.headers.get("host", "127.0.0.1")
                location = "http://%s%s?uploadType=resumable&upload_id=%s" % (host, path, upload_id)
                return self.send_json(200, None, {"location": location, "x-guploader-uploadid": upload_id})
            up = STORE.uploads.get(upload_id)
            if up is None or up["user"] != user:
                return self.google_error(404, "No such upload session", "notFound", "NOT_FOUND")
            up["data"] += body
            up["bodies"].append(body)
            crange = self.headers.get("content-range", "")
            mr = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", crange)
            if mr and mr.group(3) != "*" and int(mr.group(2)) + 1 < int(mr.group(3)):
                return self.send_json(308, None, {"range": "bytes=0-%s" % mr.group(2)})
            del STORE.uploads[upload_id]
            meta = json.loads(up["meta"]) if up["meta"].strip() else {}
            self.parts = up["bodies"]
            return self.gmail_apply(user, up["method"], coll, up["item"], send, meta, up["data"],
                                    b"".join(up["bodies"]))
        meta, raw = {}, None
        if upload and upload_type == "multipart":
            parts = split_multipart(self.headers.get("content-type", ""), body)
            if len(parts) != 2:
                return self.google_error(400, "Multipart upload must have two parts")
            meta = json.loads(parts[0] or b"{}")
            raw = parts[1]
        elif upload:  # media
            raw = body
        elif body.strip():
            try:
                meta = json.loads(body)
            except ValueError:
                return self.google_error(400, "Invalid JSON payload received.")
        if method == "GET" and item:
            return self.gmail_get(user, coll, item, query)
        return self.gmail_apply(user, method, coll, item, send, meta, raw, body)

    def gmail_setting(self, user, method, who, setting, body):
        """The settings that forward mail, each recorded as a send to its address when saved: a
        forwarding address created (Gmail mails it a confirmation request), a filter that
        forwards, automatic forwarding switched on. (Gmail takes a filter's or automatic
        forwarding's address only once it is confirmed; this server does not ask, so that each
        setting is tried on its own.)"""
        if who != "me" and who.lower() != user:
            return self.google_error(403, "Delegation denied for " + user, "forbidden", "PERMISSION_DENIED")
        try:
            meta = json.loads(body or b"{}")
        except ValueError:
            return self.google_error(400, "Invalid JSON payload received.")
        # The setting carries no text of its own: the case's tag comes from its header.
        case = self.headers.get("x-rig-case") or ""

        def record(kind, address):
            self.record_send("gmail", kind, body, {"subject": kind, "to": [address], "cc": [], "bcc": [],
                                                    "text": case + "\n" + body.decode("utf-8", "replace")})

        if setting == "forwardingAddresses" and method == "POST":
            address = meta.get("forwardingEmail")
            if not address:
                return self.google_error(400, "Invalid forwarding address", "invalidArgument")
            record("forwardingAddresses.create", address)
            return self.send_json(200, {"forwardingEmail": address, "verificationStatus": "pending"})
        if setting == "filters" and method == "POST":
            forward = (meta.get("action") or {}).get("forward")
            if forward:
                record("filters.create", forward)
            return self.send_json(200, dict(meta, id=STORE.new_id("ANe1Bm")))
        if setting == "autoForwarding" and method == "PUT":
            if meta.get("enabled") and meta.get("emailAddress"):
                record("updateAutoForwarding", meta["emailAddress"])
            return self.send_json(200, meta)
        return self.google_error(400, "Unsupported Gmail call %s %s" % (method, self.path))

    def gmail_batch(self, user, body):
        """A Gmail batch (multipart/mixed of application/http calls), answered as Google answers
        one: a multipart/mixed of HTTP responses, each with the Content-ID of its call."""
        ctype = self.headers.get("content-type", "")
        batch = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        if not batch.is_multipart():
            return self.google_error(400, "Batch is not multipart/mixed")
        out = []
        for part in batch.get_payload():
            call = part.get_payload(decode=True) or b""
            head, _, call_body = call.replace(b"\r\n", b"\n").partition(b"\n\n")
            method, target = head.split(b"\n", 1)[0].decode().split(" ")[:2]
            url = urllib.parse.urlsplit(target)
            self.capture = []
            self.gmail(user, method, url.path, urllib.parse.parse_qs(url.query), call_body.rstrip(b"\n"))
            status, rtype, data = self.capture[0]
            self.capture = None
            cid = (part.get("Content-ID") or "<>")[1:-1]
            out.append(b"Content-Type: application/http\r\nContent-ID: <response-%s>\r\n\r\n"
                       b"HTTP/1.1 %d OK\r\nContent-Type: %s\r\n\r\n%s\r\n"
                       % (cid.encode(), status, rtype.encode(), data))
        boundary = b"batch_rig_answer"
        answer = b"".join(b"--" + boundary + b"\r\n" + p for p in out) + b"--" + boundary + b"--\r\n"
        self.send_response(200)
        self.send_header("content-type", "multipart/mixed; boundary=" + boundary.decode())
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        return None

    def gmail_apply(self, user, method, coll, item, send, meta, raw, body):
        drafts = STORE.gmail[user]
        message = meta.get("message", meta) if coll == "drafts" else meta
        if raw is None and message.get("raw"):
            raw = b64url_decode(message["raw"])
        if coll == "messages" and send and method == "POST":
            if raw is None:
                return self.google_error(400, "Recipient address required")
            self.record_send("gmail", "messages.send", body, mime_summary(raw))
            return self.send_json(200, {"id": STORE.new_id("m"), "threadId": STORE.new_id("t"), "labelIds": ["SENT"]})
        if coll == "drafts" and send and method == "POST":
            did = meta.get("id")
            if did is not None:
                draft = drafts.get(did)
                if draft is None:
                    return self.google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
                if raw is None:
                    raw = draft["raw"]
            elif raw is None:
                return self.google_error(400, "Invalid draft")
            self.record_send("gmail", "drafts.send", body, mime_summary(raw))
            drafts.pop(did, None)
            return self.send_json(200, {"id": STORE.new_id("m"), "threadId": STORE.new_id("t"), "labelIds": ["SENT"]})
        if coll == "drafts" and method == "POST" and item is None:
            if raw is None:
                return self.google_error(400, "Missing draft message")
            did = STORE.new_id("r-")
            drafts[did] = {"id": did, "mid": STORE.new_id("m"), "tid": STORE.new_id("t"), "raw": raw}
            return self.send_json(200, self.draft_json(drafts[did], "minimal"))
        if coll == "drafts" and method == "PUT" and item:
            draft = drafts.get(item)
            if draft is None:
                return self.google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
            if raw is None:
                return self.google_error(400, "Missing draft message")
            draft["raw"] = raw
            draft["mid"] = STORE.new_id("m")
            return self.send_json(200, self.draft_json(draft, "minimal"))
        return self.google_error(400, "Unsupported Gmail call %s %s" % (method, self.path))

    def gmail_get(self, user, coll, item, query):
        if coll != "drafts":
            return self.google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
        draft = STORE.gmail[user].get(item)
        if draft is None:
            return self.google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
        return self.send_json(200, self.draft_json(draft, (query.get("format") or ["full"])[0]))

    @staticmethod
    def draft_json(draft, fmt):
        message = {"id": draft["mid"], "threadId": draft["tid"], "labelIds": ["DRAFT"]}
        if fmt == "raw":
            message["raw"] = base64.urlsafe_b64encode(draft["raw"]).decode().rstrip("=")
        elif fmt in ("metadata", "full"):
            msg = email.message_from_bytes(draft["raw"], policy=email.policy.compat32)
            message["payload"] = {"mimeType": msg.get_content_type(),
                                  "headers": [{"name": k, "value": str(v)} for k, v in msg.items()]}
        return {"id": draft["id"], "message": message}

    # -- JMAP ----------------------------------------------------------------------------------

    def jmap_session(self, user):
        host = self.headers.get("host", "127.0.0.1")
        base = "http://" + host
        return self.send_json(200, {
            "capabilities": JMAP_CAPS,
            "accounts": {user: {"name": user, "isPersonal": True, "isReadOnly": False,
                                "accountCapabilities": {"urn:ietf:params:jmap:mail": {},
                                                        "urn:ietf:params:jmap:submission": {}}}},
            "primaryAccounts": {k: user for k in JMAP_CAPS},
            "username": user,
            "apiUrl": base + "/jmap/api/",
            "downloadUrl": base + "/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
            "uploadUrl": base + "/jmap/upload/{accountId}/",
            "eventSourceUrl": base + "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
            "state": "s1",
        })

    def jmap_api(self, user, body):
        try:
            req = json.loads(body)
            calls = req["methodCalls"]
        except (ValueError, KeyError, TypeError):
            return self.send_json(400, {"type": "urn:ietf:params:jmap:error:notRequest", "status": 400,
                                        "detail": "The request is not a JMAP request object."},
                                  ctype="application/problem+json")
        if any(len(c) == 3 and c[2] == "mistype" for c in calls):
            self.entry["lookup"] = "jmap"
        created_ids = dict(req.get("createdIds") or {})
        responses = []
        for name, args, call_id in calls:
            args = self.jmap_resolve_refs(args, responses)
            if args is None:
                responses.append(["error", {"type": "invalidResultReference"}, call_id])
                continue
            if args.get("accountId") not in (None, user):
                responses.append(["error", {"type": "accountNotFound"}, call_id])
                continue
            fn = {"Email/set": self.jmap_email_set, "Email/get": self.jmap_email_get,
                  "EmailSubmission/set": self.jmap_submission_set, "Identity/get": self.jmap_identity_get,
                  "Mailbox/get": self.jmap_mailbox_get}.get(name)
            if fn is None:
                responses.append(["error", {"type": "unknownMethod"}, call_id])
                continue
            responses.append([name, fn(user, args, created_ids, body), call_id])
        out = {"methodResponses": responses, "sessionState": "s1"}
        if "createdIds" in req:
            out["createdIds"] = created_ids
        return self.send_json(200, out)

    @staticmethod
    def jmap_resolve_refs(args, responses):
        out = {}
        for k, v in args.items():
            if not k.startswith("#"):
                out[k] = v
                continue
            target = [r for r in responses if r[2] == v.get("resultOf") and r[0] == v.get("name")]
            if not target:
                return None
            value = Handler.pointer(target[0][1], v.get("path", "").split("/")[1:])
            out[k[1:]] = value
        return out

    @staticmethod
    def pointer(value, parts):
        for i, p in enumerate(parts):
            if p == "*" and isinstance(value, list):
                flat = []
                for x in value:
                    r = Handler.pointer(x, parts[i + 1:])
                    flat.extend(r if isinstance(r, list) else [r])
                return flat
            value = value[int(p)] if isinstance(value, list) else value.get(p)
        return value

    def jmap_email_set(self, user, args, created_ids, body):
        box = STORE.jmap[user]
        created, not_destroyed, destroyed = {}, {}, []
        for key, em in (args.get("create") or {}).items():
            eid = STORE.new_id("M")
            stored = dict(em)
            stored.update({"id": eid, "blobId": "B" + eid, "threadId": "T" + eid})
            box[eid] = stored
            created[key] = {"id": eid, "blobId": "B" + eid, "threadId": "T" + eid, "size": 100}
            created_ids[key] = eid
        for eid in args.get("destroy") or []:
            if box.pop(eid, None) is None:
                not_destroyed[eid] = {"type": "notFound"}
            else:
                destroyed.append(eid)
        return {"accountId": user, "oldState": "1", "newState": "2", "created": created or None,
                "updated": None, "destroyed": destroyed or None, "notCreated": None,
                "notUpdated": None, "notDestroyed": not_destroyed or None}

    def jmap_email_get(self, user, args, created_ids, body):
        box = STORE.jmap[user]
        props = args.get("properties")
        found, missing = [], []
        for eid in args.get("ids") or []:
            em = box.get(eid)
            if em is None:
                missing.append(eid)
                continue
            item = {"id": eid}
            for p in props or em.keys():
                item[p] = em.get(p)
            found.append(item)
        return {"accountId": user, "state": "2", "list": found, "notFound": missing}

    def jmap_submission_set(self, user, args, created_ids, body):
        box = STORE.jmap[user]
        created, not_created = {}, {}
        for key, sub in (args.get("create") or {}).items():
            eid = sub.get("emailId", "")
            if eid.startswith("#"):
                eid = created_ids.get(eid[1:], "")
            em = box.get(eid)
            if em is None:
                not_created[key] = {"type": "invalidProperties", "properties": ["emailId"],
                                    "description": "no such email: " + sub.get("emailId", "")}
                continue
            addr = lambda k: [a.get("email", "") for a in em.get(k) or []]  # noqa: E731
            summary = {"subject": em.get("subject", ""), "text": json.dumps(em), "to": addr("to"),
                       "cc": addr("cc"), "bcc": addr("bcc")}
            envelope = sub.get("envelope") or {}
            if envelope.get("rcptTo"):  # the server delivers to the envelope, not the headers
                summary.update({"to": [r.get("email", "") for r in envelope["rcptTo"]], "cc": [], "bcc": []})
            self.record_send("jmap", "EmailSubmission/set", body, summary)
            sid = STORE.new_id("S")
            created[key] = {"id": sid, "sendAt": "2026-01-01T00:00:00Z", "undoStatus": "final"}
            created_ids[key] = sid
        return {"accountId": user, "oldState": "1", "newState": "2", "created": created or None,
                "updated": None, "destroyed": None, "notCreated": not_created or None,
                "notUpdated": None, "notDestroyed": None}

    def jmap_identity_get(self, user, args, created_ids, body):
        return {"accountId": user, "state": "1", "notFound": [],
                "list": [{"id": "I1", "name": "Ops", "email": user, "replyTo": None, "bcc": None,
                          "textSignature": "", "htmlSignature": "", "mayDelete": False}]}

    def jmap_mailbox_get(self, user, args, created_ids, body):
        boxes = [("MB-drafts", "Drafts", "drafts"), ("MB-sent", "Sent", "sent"), ("MB-inbox", "Inbox", "inbox")]
        return {"accountId": user, "state": "1", "notFound": [],
                "list": [{"id": i, "name": n, "role": r, "parentId": None, "sortOrder": 0,
                          "totalEmails": 0, "unreadEmails": 0, "totalThreads": 0, "unreadThreads": 0,
                          "isSubscribed": True,
                          "myRights": {"mayReadItems": True, "mayAddItems": True, "mayRemoveItems": True,
                                       "maySetSeen": True, "maySetKeywords": True, "mayCreateChild": True,
                                       "mayRename": True, "mayDelete": True, "maySubmit": True}}
                         for i, n, r in boxes]}


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Envoy resets an upstream request when the filter refuses a send whose headers it had
        # already let through: the answer then finds the connection closed. Not an error here.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    print("listening %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
