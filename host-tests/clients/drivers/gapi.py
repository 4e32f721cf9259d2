"""Gmail with google-api-python-client (PyPI) through the rig."""

import base64
import io
import json
from pathlib import Path

import google.oauth2.credentials
import googleapiclient
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload

from common import BASE, CLEAN, SENDER, TOKEN, find_confirm, parse_json, run_all

# client_options api_endpoint moves the host of upload URLs but keeps their https scheme, so the
# app builds from the library's own discovery document with the rig's root URL (plain http).
DOC = json.loads((Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "gmail.v1.json").read_text())
DOC["rootUrl"] = BASE + "/"
api = build_from_document(DOC, credentials=google.oauth2.credentials.Credentials(TOKEN))
users = api.users()


def mime(tag, address):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Hello %s\r\n" % (SENDER, address, tag, tag)).encode()


def raw(tag, address):
    return base64.urlsafe_b64encode(mime(tag, address)).decode()


def media(tag, address, resumable=False, chunk=None):
    kw = {"chunksize": chunk} if chunk else {}
    return MediaIoBaseUpload(io.BytesIO(mime(tag, address)), mimetype="message/rfc822",
                             resumable=resumable, **kw)


def execute(request, headers):
    request.headers.update(headers)
    return request.execute()


def send_draft(did):
    return lambda headers: execute(users.drafts().send(userId="me", body={"id": did}), headers)


def resumable(tag, address):
    def send(headers):
        req = users.messages().send(userId="me", body={}, media_body=media(tag, address, True))
        req.headers.update(headers)
        done = None
        while done is None:
            _, done = req.next_chunk()
        return done
    return send


FLOWS = {
    "messages.send": lambda tag, a, k: lambda h: execute(
        users.messages().send(userId="me", body={"raw": raw(tag, a)}), h),
    "messages.send-multipart": lambda tag, a, k: lambda h: execute(
        users.messages().send(userId="me", body={}, media_body=media(tag, a)), h),
    "messages.send-resumable": lambda tag, a, k: resumable(tag, a),
    "drafts.create-send": lambda tag, a, k: send_draft(
        users.drafts().create(userId="me", body={"message": {"raw": raw(tag, a)}}).execute()["id"]),
    "drafts.upload-send": lambda tag, a, k: send_draft(
        users.drafts().create(userId="me", body={}, media_body=media(tag, a)).execute()["id"]),
    # The settings that forward the mailbox's mail (an admin script's way to set them).
    "forwardingAddresses.create": lambda tag, a, k: lambda h: execute(
        users.settings().forwardingAddresses().create(userId="me", body={"forwardingEmail": a}), h),
    "updateAutoForwarding": lambda tag, a, k: lambda h: execute(
        users.settings().updateAutoForwarding(
            userId="me", body={"enabled": True, "emailAddress": a, "disposition": "leaveInInbox"}), h),
}


def update_then_send(tag, address, kind):
    did = users.drafts().create(userId="me", body={"message": {"raw": raw(tag, CLEAN)}}).execute()["id"]
    users.drafts().update(userId="me", id=did, body={"id": did, "message": {"raw": raw(tag, address)}}).execute()
    return send_draft(did)


FLOWS["drafts.update-send"] = update_then_send


class WithHeaders:
    """The app's http with `headers` on every request: a batch has no headers of its own to set."""

    def __init__(self, http, headers):
        self.http, self.headers = http, headers

    def request(self, uri, method="GET", body=None, headers=None, **kw):
        return self.http.request(uri, method=method, body=body, headers=dict(headers or {}, **self.headers), **kw)


def batched(call):
    """A send in a batch (new_batch_http_request), beside a read of the labels."""
    def send(headers):
        answers = {}
        batch = api.new_batch_http_request(callback=lambda rid, resp, exc: answers.update({rid: exc or resp}))
        batch.add(users.labels().list(userId="me"), request_id="labels")
        batch.add(call(), request_id="send")
        batch.execute(http=WithHeaders(api._http, headers))
        if isinstance(answers.get("send"), Exception):
            raise answers["send"]
        return answers.get("send")
    return send


FLOWS["batch-messages.send"] = lambda tag, a, k: batched(
    lambda: users.messages().send(userId="me", body={"raw": raw(tag, a)}))


def batch_draft_send(tag, address, kind):
    did = users.drafts().create(userId="me", body={"message": {"raw": raw(tag, address)}}).execute()["id"]
    return batched(lambda: users.drafts().send(userId="me", body={"id": did}))


FLOWS["batch-drafts.send"] = batch_draft_send


def describe(e):
    if isinstance(e, HttpError):
        # str(HttpError) carries Google's error.message and details; content is the whole body.
        return {"shown": str(e), "status": e.status_code, "confirm": find_confirm(parse_json(e.content))}
    return {"shown": "%s: %s" % (type(e).__name__, e), "status": None, "confirm": None}


run_all(FLOWS, describe)
