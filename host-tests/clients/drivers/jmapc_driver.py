"""JMAP with jmapc (PyPI) through the rig."""

import functools
import urllib.parse

import jmapc
from jmapc.methods import EmailSet, EmailSubmissionSet, IdentityGet, MailboxGet
from jmapc.models.email_submission import Address, Envelope
from jmapc.session import Session

from common import BASE, CLEAN, SENDER, TOKEN, Refused, find_confirm, parse_json, run_all


class Client(jmapc.Client):
    """jmapc fetches the session from https://{host}/.well-known/jmap; the rig's Envoy is plain http
    on loopback, so the app fetches the session resource itself (the rest is jmapc's own)."""

    @functools.cached_property
    def jmap_session(self):
        r = self.requests_session.get(BASE + "/jmap/session", timeout=30)
        r.raise_for_status()
        return Session.from_dict(r.json())


client = Client.create_with_api_token(host=urllib.parse.urlsplit(BASE).netloc, api_token=TOKEN)
# jmapc keeps only the parsed responses (and drops unknown keys); the app keeps the last raw
# answer with a requests response hook, for the confirm token.
last = {}
client.requests_session.hooks["response"].append(lambda r, *a, **k: last.update(body=r.content))
identity_id = client.request(IdentityGet(ids=None)).data[0].id
drafts = [m.id for m in client.request(MailboxGet(ids=None)).data if m.role == "drafts"][0]


def email(tag, address):
    return jmapc.Email(
        mailbox_ids={drafts: True}, keywords={"$draft": True}, mail_from=[jmapc.EmailAddress(email=SENDER)],
        to=[jmapc.EmailAddress(email=address)], subject=tag,
        body_values={"b": jmapc.EmailBodyValue(value="Hello " + tag)},
        text_body=[jmapc.EmailBodyPart(part_id="b", type="text/plain")])


def with_headers(headers, call):
    session = client.requests_session
    session.headers.update(headers)
    try:
        return call()
    finally:
        for k in headers:
            session.headers.pop(k, None)


def refused_in(responses):
    """An app reads a submission's refusal from not_created and method errors from the results,
    and shows every text it finds (jmapc keeps a description only for some error types)."""
    texts = []
    for r in responses if isinstance(responses, list) else [responses]:
        r = getattr(r, "response", r)
        if isinstance(r, jmapc.errors.Error):
            texts.append(getattr(r, "description", None) or r.type)
        for e in (getattr(r, "not_created", None) or {}).values():
            texts.append(e.description or e.type)
    if texts:
        raise Refused("; ".join(texts), 200, parse_json(last.get("body")))


def draft_then_submit(tag, address, kind):
    res = client.request(EmailSet(create={"d": email(tag, address)}))
    email_id = res.created["d"].id

    def send(headers):
        refused_in(with_headers(headers, lambda: client.request(
            EmailSubmissionSet(create={"s": jmapc.EmailSubmission(email_id=email_id, identity_id=identity_id)}))))
    return send


def create_and_submit_ref(tag, address, kind):
    def send(headers):
        refused_in(with_headers(headers, lambda: client.request([
            EmailSet(create={"d": email(tag, address)}),
            EmailSubmissionSet(create={"s": jmapc.EmailSubmission(email_id="#d", identity_id=identity_id)}),
        ])))
    return send


def autosave_then_submit(tag, address, kind):
    """Autosave: each save creates the new version and destroys the previous one."""
    first = client.request(EmailSet(create={"d": email(tag, CLEAN)})).created["d"].id
    email_id = client.request(EmailSet(create={"d": email(tag, address)}, destroy=[first])).created["d"].id

    def send(headers):
        refused_in(with_headers(headers, lambda: client.request(
            EmailSubmissionSet(create={"s": jmapc.EmailSubmission(email_id=email_id, identity_id=identity_id)}))))
    return send


def submit_with_envelope(tag, address, kind):
    email_id = client.request(EmailSet(create={"d": email(tag, address)})).created["d"].id
    envelope = Envelope(mail_from=Address(email=SENDER), rcpt_to=[Address(email=address)])

    def send(headers):
        refused_in(with_headers(headers, lambda: client.request(EmailSubmissionSet(create={
            "s": jmapc.EmailSubmission(email_id=email_id, identity_id=identity_id, envelope=envelope)}))))
    return send


FLOWS = {"draft-then-submit": draft_then_submit, "create-and-submit-ref": create_and_submit_ref,
         "autosave-then-submit": autosave_then_submit, "submit-with-envelope": submit_with_envelope}


def describe(e):
    if isinstance(e, Refused):
        return {"shown": e.shown, "status": e.status, "confirm": find_confirm(e.body)}
    resp = getattr(e, "response", None)
    if resp is not None and hasattr(resp, "status_code"):
        # requests.HTTPError: "422 Client Error: ..." (the body only in e.response).
        return {"shown": str(e), "status": resp.status_code, "confirm": find_confirm(parse_json(resp.content))}
    return {"shown": "%s: %s" % (type(e).__name__, e), "status": None, "confirm": None}


run_all(FLOWS, describe)
