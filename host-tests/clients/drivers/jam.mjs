// JMAP with jmap-jam (npm) through the rig.
import { JamClient } from "jmap-jam";
import { BASE, TOKEN, SENDER, Refused, findConfirm, runAll } from "./common.mjs";

const jam = new JamClient({ bearerToken: TOKEN, sessionUrl: `${BASE}/jmap/session` });
const accountId = await jam.getPrimaryAccount();
const [identities] = await jam.api.Identity.get({ accountId });
const identityId = identities.list[0].id;
const [mailboxes] = await jam.api.Mailbox.get({ accountId });
const drafts = mailboxes.list.find((m) => m.role === "drafts").id;

const email = (tag, address) => ({
  mailboxIds: { [drafts]: true },
  keywords: { $draft: true },
  from: [{ email: SENDER }],
  to: [{ email: address }],
  subject: tag,
  bodyValues: { b: { value: `Hello ${tag}` } },
  textBody: [{ partId: "b", type: "text/plain" }],
});

// fetchInit.headers replaces jmap-jam's own headers: an app that adds one repeats Authorization
// (and, like most, forgets Content-Type, so fetch labels the JSON text/plain).
// The rig's x-rig-case header is left out: the first attempt must be jmap-jam's own request.
function init(headers) {
  const { "x-rig-case": _tag, ...extra } = headers;
  return Object.keys(extra).length ? { fetchInit: { headers: { Authorization: `Bearer ${TOKEN}`, ...extra } } } : {};
}

// An app reads a submission's refusal from notCreated (a JMAP server refuses submissions there).
function refusedIn(setResponse) {
  const failed = Object.values(setResponse?.notCreated || {});
  if (failed.length) throw new Refused(failed.map((f) => f.description || f.type).join("; "), 200, failed);
}

const flows = {
  "draft-then-submit": async (tag, address) => {
    const [created] = await jam.api.Email.set({ accountId, create: { d: email(tag, address) } });
    if (!created.created?.d) throw new Error(`draft not created: ${JSON.stringify(created.notCreated)}`);
    const emailId = created.created.d.id;
    return async (headers) => {
      const [res] = await jam.api.EmailSubmission.set(
        { accountId, create: { s: { emailId, identityId } } },
        init(headers),
      );
      refusedIn(res);
    };
  },
  // Autosave: each save creates the new version and destroys the previous one.
  "autosave-then-submit": async (tag, address) => {
    const [first] = await jam.api.Email.set({ accountId, create: { d: email(tag, "j.smith@navy.mil") } });
    const [saved] = await jam.api.Email.set({
      accountId,
      create: { d: email(tag, address) },
      destroy: [first.created.d.id],
    });
    const emailId = saved.created.d.id;
    return async (headers) => {
      const [res] = await jam.api.EmailSubmission.set({ accountId, create: { s: { emailId, identityId } } }, init(headers));
      refusedIn(res);
    };
  },
  "submit-with-envelope": async (tag, address) => {
    const [created] = await jam.api.Email.set({ accountId, create: { d: email(tag, address) } });
    const emailId = created.created.d.id;
    const envelope = { mailFrom: { email: SENDER }, rcptTo: [{ email: address }] };
    return async (headers) => {
      const [res] = await jam.api.EmailSubmission.set(
        { accountId, create: { s: { emailId, identityId, envelope } } },
        init(headers),
      );
      refusedIn(res);
    };
  },
  "create-and-submit-ref": async (tag, address) => async (headers) => {
    const [res] = await jam.requestMany((b) => {
      const e = b.Email.set({ accountId, create: { d: email(tag, address) } });
      const s = b.EmailSubmission.set({ accountId, create: { s: { emailId: "#d", identityId } } });
      return { e, s };
    }, init(headers));
    refusedIn(res.s);
  },
};

function describe(e) {
  if (e instanceof Refused) return { shown: e.shown, status: e.status, confirm: findConfirm(e.body) };
  if (Array.isArray(e)) {
    // requestMany throws every method-level error object.
    return { shown: e.map((x) => x.description || x.type).join("; "), status: 200, confirm: findConfirm(e) };
  }
  if (e instanceof Error) return { shown: e.message, status: null, confirm: null };
  // request(): a method-level error object, or the parsed body of a non-2xx answer.
  return {
    shown: e?.description || e?.detail || e?.error?.message || "",
    status: e?.status ?? null,
    confirm: findConfirm(e),
  };
}

await runAll(flows, describe);
