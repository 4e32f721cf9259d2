// Shared by the Node drivers: the rig's environment, the case loop and what a case reports.
// A driver is an app: it uses its library as documented and shows what the library gives it.

export const BASE = process.env.RIG_BASE;
export const TOKEN = process.env.RIG_TOKEN;
export const SENDER = process.env.RIG_SENDER;
export const LIB = process.env.RIG_LIB;
export const FLOWS = (process.env.RIG_FLOWS || "").split(",").filter(Boolean);
export const RECIPIENTS = JSON.parse(process.env.RIG_RECIPIENTS || "{}");

// The inbox message (seeded by the mail server) whose sender is each recipient kind.
export const INBOX = { typo: "in-typo", provider: "in-provider", clean: "in-clean" };

// An app-level refusal that is not an exception of the library (a JMAP notCreated, a $batch
// item's error status): the driver raises it so that one code path reports every refusal.
export class Refused extends Error {
  constructor(shown, status, body) {
    super(shown);
    this.shown = shown;
    this.status = status;
    this.body = body;
  }
}

// The first {"header", "token"} object under a "confirm" key anywhere in `value`.
export function findConfirm(value) {
  if (value === null || typeof value !== "object") return null;
  if (value.confirm && typeof value.confirm === "object" && typeof value.confirm.token === "string") {
    return { header: value.confirm.header || "x-mistype-confirm", token: value.confirm.token };
  }
  for (const v of Object.values(value)) {
    const found = findConfirm(v);
    if (found) return found;
  }
  return null;
}

export function parseMaybe(text) {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errText(e) {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

// Runs every flow with every recipient kind. `flows[name](tag, address, rcptKind)` prepares the
// case (creating drafts and the like) and returns `send(extraHeaders)`, the final send step;
// `describe(error)` returns {shown, status, confirm} for what the send threw.
export async function runAll(flows, describe) {
  for (const flow of FLOWS) {
    for (const [rcpt, address] of Object.entries(RECIPIENTS)) {
      const tag = `[rig:${LIB}:${flow}:${rcpt}]`;
      const c = { lib: LIB, flow, rcpt, tag };
      try {
        if (!flows[flow]) throw new Error(`no such flow ${flow}`);
        let send;
        try {
          send = await flows[flow](tag, address, rcpt);
        } catch (e) {
          throw new Error(`preparing the case: ${errText(e)}`);
        }
        // Every send carries the case's tag in a header, so that the mail server can count the
        // requests of this send that reached it (a refused one must open none).
        const caseHeader = { "x-rig-case": tag };
        try {
          await send(caseHeader);
          c.blocked = false;
        } catch (e) {
          const d = describe(e);
          c.blocked = true;
          c.shown = d.shown;
          c.status = d.status;
          if (d.confirm) {
            c.token = d.confirm.token;
            try {
              await send({ ...caseHeader, [d.confirm.header]: d.confirm.token });
              c.confirmed = true;
            } catch (e2) {
              c.confirmed = false;
              c.confirm_shown = describe(e2).shown;
            }
          }
        }
      } catch (e) {
        c.error = errText(e);
      }
      process.stdout.write(JSON.stringify(c) + "\n");
    }
  }
}
