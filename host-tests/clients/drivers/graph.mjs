// Microsoft Graph JavaScript client (npm @microsoft/microsoft-graph-client) through the rig.
import { Client, BatchRequestContent, HTTPMessageHandler } from "@microsoft/microsoft-graph-client";
import { BASE, TOKEN, SENDER, INBOX, Refused, findConfirm, parseMaybe, runAll } from "./common.mjs";

// The client's AuthenticationHandler adds the access token only to https:// URLs of Graph (or of
// customHosts) and strips Authorization from any other URL; the rig's Envoy listens on plain http
// on loopback, so the app puts its own middleware in front of the HTTP handler (initWithMiddleware).
class BearerOnLoopback {
  setNext(next) {
    this.next = next;
  }
  async execute(context) {
    context.options.headers = { ...(context.options.headers || {}), Authorization: `Bearer ${TOKEN}` };
    return this.next.execute(context);
  }
}
const auth = new BearerOnLoopback();
auth.setNext(new HTTPMessageHandler());
const client = Client.initWithMiddleware({ middleware: auth, baseUrl: BASE, defaultVersion: "v1.0" });

const rcpt = (address) => [{ emailAddress: { address } }];
const message = (tag, address) => ({
  subject: tag,
  body: { contentType: "Text", content: `Hello ${tag}` },
  ...(address ? { toRecipients: rcpt(address) } : {}),
});
const event = (subject) => ({
  subject,
  start: { dateTime: "2026-12-14T09:00:00", timeZone: "UTC" },
  end: { dateTime: "2026-12-14T10:00:00", timeZone: "UTC" },
  location: { displayName: "Hotel, room 1207" },
});
const attendee = (address) => [{ emailAddress: { address }, type: "required" }];
// An inbox rule that forwards mail from the unit (tagged by its name), or only files it.
const rule = (tag, address) => ({
  displayName: tag,
  sequence: 2,
  isEnabled: true,
  conditions: { senderContains: ["army.mil"] },
  actions: address ? { forwardTo: rcpt(address), stopProcessingRules: true } : { markAsRead: true },
});
const RULES = "/me/mailFolders/inbox/messageRules";
const mime = (tag, address) =>
  `From: ${SENDER}\r\nTo: ${address}\r\nSubject: ${tag}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello ${tag}\r\n`;
const sendDraft = (id) => (headers) =>
  client.api(`/me/messages/${encodeURIComponent(id)}/send`).headers(headers).post();

const flows = {
  sendMail: async (tag, address) => (headers) =>
    client.api("/me/sendMail").headers(headers).post({ message: message(tag, address), saveToSentItems: true }),
  "draft-send": async (tag, address) => {
    const draft = await client.api("/me/messages").post(message(tag, address));
    return sendDraft(draft.id);
  },
  // The same through /users/{user} instead of /me.
  "users-draft-send": async (tag, address) => {
    const user = encodeURIComponent(SENDER);
    const draft = await client.api(`/users/${user}/messages`).post(message(tag, address));
    return (headers) => client.api(`/users/${user}/messages/${encodeURIComponent(draft.id)}/send`).headers(headers).post();
  },
  "draft-bcc-send": async (tag, address) => {
    const draft = await client.api("/me/messages").post({ ...message(tag, null), bccRecipients: rcpt(address) });
    return sendDraft(draft.id);
  },
  // sendMail with the message as base64 MIME (text/plain), as Graph accepts it.
  "sendMail-mime": async (tag, address) => (headers) =>
    client
      .api("/me/sendMail")
      .headers({ "Content-Type": "text/plain", ...headers })
      .post(Buffer.from(mime(tag, address)).toString("base64")),
  "draft-patch-send": async (tag, address) => {
    const draft = await client.api("/me/messages").post(message(tag, null));
    await client.api(`/me/messages/${draft.id}`).patch({ toRecipients: rcpt(address) });
    return sendDraft(draft.id);
  },
  "createReply-send": async (tag, address, kind) => {
    const draft = await client.api(`/me/messages/${INBOX[kind]}/createReply`).post({ comment: tag });
    return sendDraft(draft.id);
  },
  "createReplyAll-send": async (tag, address, kind) => {
    const draft = await client.api(`/me/messages/${INBOX[kind]}/createReplyAll`).post({ comment: tag });
    return sendDraft(draft.id);
  },
  "createForward-send": async (tag, address) => {
    const draft = await client
      .api(`/me/messages/${INBOX.clean}/createForward`)
      .post({ comment: tag, toRecipients: rcpt(address) });
    return sendDraft(draft.id);
  },
  reply: async (tag, address, kind) => (headers) =>
    client
      .api(`/me/messages/${INBOX[kind]}/reply`)
      .headers(headers)
      .post({ comment: tag, message: { toRecipients: rcpt(address) } }),
  forward: async (tag, address) => (headers) =>
    client.api(`/me/messages/${INBOX.clean}/forward`).headers(headers).post({ comment: tag, toRecipients: rcpt(address) }),
  // The actions named with OData's namespace, as Microsoft's samples for this library wrote
  // them (and as Graph's .NET SDK up to v4 and its Java SDK up to v5 send every action).
  "sendMail-qualified": async (tag, address) => (headers) =>
    client
      .api("/me/microsoft.graph.sendMail")
      .headers(headers)
      .post({ message: message(tag, address), saveToSentItems: true }),
  "draft-send-qualified": async (tag, address) => {
    const draft = await client.api("/me/messages").post(message(tag, address));
    return (headers) =>
      client.api(`/me/messages/${encodeURIComponent(draft.id)}/microsoft.graph.send`).headers(headers).post();
  },
  // A draft's send with its key in OData's parentheses, as Graph's documentation writes keys.
  "draft-send-key": async (tag, address) => {
    const draft = await client.api("/me/messages").post(message(tag, address));
    return (headers) =>
      client.api(`/me/messages('${encodeURIComponent(draft.id)}')/send`).headers(headers).post();
  },
  // The calendar: an event created with an attendee (Graph sends the invitation), an event
  // given one (the update goes to it), an event forwarded.
  "event-create": async (tag, address) => (headers) =>
    client.api("/me/events").headers(headers).post({ ...event(tag), attendees: attendee(address) }),
  "event-update": async (tag, address) => {
    const ev = await client.api("/me/events").post(event(tag));
    return (headers) => client.api(`/me/events/${encodeURIComponent(ev.id)}`).headers(headers).patch({ attendees: attendee(address) });
  },
  "event-forward": async (tag, address) => {
    const ev = await client.api("/me/events").post(event("Site visit"));
    return (headers) =>
      client.api(`/me/events/${encodeURIComponent(ev.id)}/forward`).headers(headers).post({ comment: tag, toRecipients: rcpt(address) });
  },
  // An inbox rule that forwards (Graph sends every message it matches from then on), created,
  // or given the forward later.
  "rule-create": async (tag, address) => (headers) => client.api(RULES).headers(headers).post(rule(tag, address)),
  // A rule saved switched off (nothing forwarded: not judged), then switched on: the filter
  // looks the rule up for what it forwards to.
  "rule-enable": async (tag, address) => {
    const r = await client.api(RULES).post({ ...rule(tag, address), isEnabled: false });
    return (headers) => client.api(`${RULES}/${encodeURIComponent(r.id)}`).headers(headers).patch({ isEnabled: true });
  },
  "rule-update": async (tag, address) => {
    const r = await client.api(RULES).post(rule(tag));
    return (headers) =>
      client.api(`${RULES}/${encodeURIComponent(r.id)}`).headers(headers).patch({ actions: rule(tag, address).actions });
  },
  "batch-sendMail": async (tag, address) => async (headers) => {
    const batch = new BatchRequestContent([
      {
        id: "1",
        request: new Request(`${BASE}/v1.0/me/sendMail`, {
          method: "POST",
          body: JSON.stringify({ message: message(tag, address), saveToSentItems: true }),
          headers: { "Content-Type": "application/json" },
        }),
      },
    ]);
    const res = await client.api("/$batch").headers(headers).post(await batch.getContent());
    // A batch answers 200 with a status per request: an app looks at each.
    for (const r of res.responses || []) {
      if (r.status >= 400) throw new Refused(r.body?.error?.message || `status ${r.status}`, r.status, r.body);
    }
  },
};

function describe(e) {
  if (e instanceof Refused) return { shown: e.shown, status: e.status, confirm: findConfirm(e.body) };
  // GraphError: message and code from {"error": {...}}; body is that "error" object as JSON.
  return {
    shown: e.message,
    status: e.statusCode,
    confirm: findConfirm(parseMaybe(e.body)),
  };
}

await runAll(flows, describe);
