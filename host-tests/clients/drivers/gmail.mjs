// Gmail API Node client (npm @googleapis/gmail, gaxios inside) through the rig.
import { gmail, auth } from "@googleapis/gmail";
import { BASE, TOKEN, SENDER, findConfirm, runAll } from "./common.mjs";

const oauth = new auth.OAuth2();
oauth.setCredentials({ access_token: TOKEN });
const rootUrl = `${BASE}/`;
const api = gmail({ version: "v1", auth: oauth, rootUrl });
// Upload URLs take the client's rootUrl only when the call repeats it.
const opts = (headers) => ({ rootUrl, headers });

const mime = (tag, address) =>
  `From: ${SENDER}\r\nTo: ${address}\r\nSubject: ${tag}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello ${tag}\r\n`;
const raw = (tag, address) => Buffer.from(mime(tag, address)).toString("base64url");
const sendDraft = (id) => (headers) => api.users.drafts.send({ userId: "me", requestBody: { id } }, opts(headers));
const CLEAN = "j.smith@navy.mil";

const flows = {
  "messages.send": async (tag, address) => (headers) =>
    api.users.messages.send({ userId: "me", requestBody: { raw: raw(tag, address) } }, opts(headers)),
  "messages.send-upload": async (tag, address) => (headers) =>
    api.users.messages.send(
      { userId: "me", requestBody: {}, media: { mimeType: "message/rfc822", body: mime(tag, address) } },
      opts(headers),
    ),
  "drafts.create-send": async (tag, address) => {
    const d = await api.users.drafts.create({ userId: "me", requestBody: { message: { raw: raw(tag, address) } } }, opts({}));
    return sendDraft(d.data.id);
  },
  "drafts.upload-send": async (tag, address) => {
    const d = await api.users.drafts.create(
      { userId: "me", requestBody: {}, media: { mimeType: "message/rfc822", body: mime(tag, address) } },
      opts({}),
    );
    return sendDraft(d.data.id);
  },
  "drafts.update-send": async (tag, address) => {
    const d = await api.users.drafts.create({ userId: "me", requestBody: { message: { raw: raw(tag, CLEAN) } } }, opts({}));
    await api.users.drafts.update(
      { userId: "me", id: d.data.id, requestBody: { id: d.data.id, message: { raw: raw(tag, address) } } },
      opts({}),
    );
    return sendDraft(d.data.id);
  },
  // The settings that forward the mailbox's mail: a forwarding address (Gmail mails it a
  // confirmation request), a filter that forwards, automatic forwarding switched on.
  "forwardingAddresses.create": async (tag, address) => (headers) =>
    api.users.settings.forwardingAddresses.create({ userId: "me", requestBody: { forwardingEmail: address } }, opts(headers)),
  "filters.create": async (tag, address) => (headers) =>
    api.users.settings.filters.create(
      { userId: "me", requestBody: { criteria: { from: "army.mil", subject: tag }, action: { forward: address } } },
      opts(headers),
    ),
  updateAutoForwarding: async (tag, address) => (headers) =>
    api.users.settings.updateAutoForwarding(
      { userId: "me", requestBody: { enabled: true, emailAddress: address, disposition: "leaveInInbox" } },
      opts(headers),
    ),
};

// GaxiosError: message from Google's {"error": {"message"}}, the whole body in response.data.
const describe = (e) => ({ shown: e.message, status: e.status, confirm: findConfirm(e.response?.data) });

await runAll(flows, describe);
