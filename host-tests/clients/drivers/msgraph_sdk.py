"""Microsoft Graph with msgraph-sdk (PyPI, Kiota) through the rig."""

import asyncio
import os

import httpx

from kiota_abstractions.authentication import (AccessTokenProvider, AllowedHostsValidator,
                                               BaseBearerTokenAuthenticationProvider)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient, graph_request_adapter
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.message_rule import MessageRule
from msgraph.generated.models.message_rule_actions import MessageRuleActions
from msgraph.generated.models.message_rule_predicates import MessageRulePredicates
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.messages.item.create_forward.create_forward_post_request_body import \
    CreateForwardPostRequestBody
from msgraph.generated.users.item.messages.item.create_reply.create_reply_post_request_body import \
    CreateReplyPostRequestBody
from msgraph.generated.users.item.messages.item.create_reply_all.create_reply_all_post_request_body import \
    CreateReplyAllPostRequestBody
from msgraph.generated.users.item.messages.item.forward.forward_post_request_body import ForwardPostRequestBody
from msgraph.generated.users.item.messages.item.reply.reply_post_request_body import ReplyPostRequestBody
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody
from msgraph_core import GraphClientFactory
from msgraph_core.requests.batch_request_content import BatchRequestContent

from common import BASE, INBOX, TOKEN, WIRE, Refused, find_confirm, run_all


class RigToken(AccessTokenProvider):
    """The user's access token (an app would get it from Entra ID)."""

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return TOKEN

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([])


async def capture(request):
    # The hook sees the URL before the SDK's UrlReplaceHandler rewrites it.
    WIRE.append((request.url.path.replace("/users/me-token-to-replace", "/me"), request.content))


if os.environ.get("RIG_HTTP2"):
    # msgraph-sdk speaks HTTP/2 to Graph (through TLS); the rig's listener is plain text, so the
    # app hands the SDK an httpx client that speaks HTTP/2 with prior knowledge (h2c), which
    # Envoy's codec AUTO accepts. The relay does not parse HTTP/2: the app records what it sent.
    # The SDK's own middleware options come along (they turn /users/me-token-to-replace into /me).
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(http1=False, http2=True, timeout=30, event_hooks={"request": [capture]}),
        options=graph_request_adapter.options)
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(RigToken()), client=http)
else:
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(RigToken()))
adapter.base_url = BASE + "/v1.0"
client = GraphServiceClient(request_adapter=adapter)
loop = asyncio.new_event_loop()
run = loop.run_until_complete


def recipients(address):
    return [Recipient(email_address=EmailAddress(address=address))]


def message(tag, address):
    m = Message(subject=tag, body=ItemBody(content_type=BodyType.Text, content="Hello " + tag))
    if address:
        m.to_recipients = recipients(address)
    return m


def config(headers):
    c = RequestConfiguration()
    for k, v in headers.items():
        c.headers.add(k, v)
    return c


def send_draft(mid):
    return lambda h: run(client.me.messages.by_message_id(mid).send.post(request_configuration=config(h)))


def draft_send(tag, address, kind):
    return send_draft(run(client.me.messages.post(message(tag, address))).id)


def draft_patch_send(tag, address, kind):
    mid = run(client.me.messages.post(message(tag, None))).id
    run(client.me.messages.by_message_id(mid).patch(Message(to_recipients=recipients(address))))
    return send_draft(mid)


def create_reply(tag, address, kind):
    m = client.me.messages.by_message_id(INBOX[kind])
    return send_draft(run(m.create_reply.post(CreateReplyPostRequestBody(comment=tag))).id)


def create_reply_all(tag, address, kind):
    m = client.me.messages.by_message_id(INBOX[kind])
    return send_draft(run(m.create_reply_all.post(CreateReplyAllPostRequestBody(comment=tag))).id)


def create_forward(tag, address, kind):
    m = client.me.messages.by_message_id(INBOX["clean"])
    body = CreateForwardPostRequestBody(comment=tag, to_recipients=recipients(address))
    return send_draft(run(m.create_forward.post(body)).id)


def batch(tag, address, kind):
    async def go(headers):
        body = SendMailPostRequestBody(message=message(tag, address), save_to_sent_items=True)
        info = client.me.send_mail.to_post_request_information(body)
        content = BatchRequestContent({})
        content.add_request_information(info, "1")
        res = await post_batch_with_headers(content, headers)
        for rid in ("1",):
            item = res.get_response_by_id(rid)
            if item is not None and item.status >= 400:
                err = item.body if isinstance(item.body, dict) else {}
                raise Refused((err.get("error") or {}).get("message") or "status %d" % item.status,
                              item.status, err)
    return lambda h: run(go(h))


async def post_batch_with_headers(content, headers):
    # The batch helper has no per-call headers; an app adds them to the adapter's client.
    http = adapter._http_client
    saved = dict(http.headers)
    http.headers.update(headers)
    try:
        # Without an error map msgraph-core raises a bare APIError ("no error class is registered
        # for this code") that carries no message: the app maps every status to ODataError.
        return await client.batch.post(content, error_map={"XXX": ODataError})
    finally:
        http.headers.clear()
        http.headers.update(saved)


def rule_create(tag, address, kind):
    """An inbox rule that forwards mail from the unit: Graph sends every message it matches."""
    rule = MessageRule(display_name=tag, sequence=2, is_enabled=True,
                       conditions=MessageRulePredicates(sender_contains=["army.mil"]),
                       actions=MessageRuleActions(forward_to=recipients(address), stop_processing_rules=True))
    rules = client.me.mail_folders.by_mail_folder_id("inbox").message_rules
    return lambda h: run(rules.post(rule, request_configuration=config(h)))


FLOWS = {
    "rule-create": rule_create,
    "sendMail": lambda tag, a, k: lambda h: run(client.me.send_mail.post(
        SendMailPostRequestBody(message=message(tag, a), save_to_sent_items=True), request_configuration=config(h))),
    "draft-send": draft_send,
    "draft-patch-send": draft_patch_send,
    "createReply-send": create_reply,
    "createReplyAll-send": create_reply_all,
    "createForward-send": create_forward,
    "reply": lambda tag, a, k: lambda h: run(client.me.messages.by_message_id(INBOX[k]).reply.post(
        ReplyPostRequestBody(comment=tag, message=Message(to_recipients=recipients(a))),
        request_configuration=config(h))),
    "forward": lambda tag, a, k: lambda h: run(client.me.messages.by_message_id(INBOX["clean"]).forward.post(
        ForwardPostRequestBody(comment=tag, to_recipients=recipients(a)), request_configuration=config(h))),
    "batch-sendMail": batch,
}


def describe(e):
    if isinstance(e, Refused):
        return {"shown": e.shown, "status": e.status, "confirm": find_confirm(e.body)}
    if isinstance(e, ODataError):
        # str(ODataError) is error.message and the status; unknown keys land in additional_data.
        extra = {"top": e.additional_data, "error": getattr(e.error, "additional_data", None)}
        return {"shown": str(e), "status": e.response_status_code, "confirm": find_confirm(extra)}
    return {"shown": "%s: %s" % (type(e).__name__, e), "status": None, "confirm": None}


run_all(FLOWS, describe)
