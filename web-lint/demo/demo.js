// The compose window of the mistype demo. See the serving layout at the top of index.html.
import init, { Linter, version } from "./pkg/mistype_web_lint.js";
import { applySuggestions, attachCompose, splitRecipients } from "./pkg/compose.js";

const $ = (id) => document.getElementById(id);
const form = $("compose");
const result = $("result");

/** The demo backend's configuration, or null when the page is served statically. */
async function loadConfig() {
  try {
    const res = await fetch("./demo-config.json", { cache: "no-store" });
    if (!res.ok) return null;
    const config = await res.json();
    return config && typeof config.send_url === "string" ? config : null;
  } catch {
    return null;
  }
}

/** "Name <a@b>" / "a@b" entries of a field, as JMAP EmailAddress objects. */
function addresses(text) {
  return splitRecipients(text).map(({ value }) => {
    const m = /^(.*?)<([^<>]*)>\s*$/.exec(value);
    if (!m) return { name: null, email: value };
    const name = m[1].trim().replace(/^"(.*)"$/, "$1").replace(/\\(.)/g, "$1");
    return { name: name || null, email: m[2].trim() };
  });
}

function node(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function findingItems(findings) {
  return node(
    "ul",
    { class: "findings" },
    findings.map((f) =>
      node("li", { "data-severity": f.severity }, [
        node("strong", { text: f.severity === "block" ? "Blocked: " : "Check: " }),
        node("code", { text: f.address }),
        f.suggestion ? " — did you mean " : " — ",
        f.suggestion ? node("code", { class: "suggestion", text: f.suggestion }) : "",
        f.suggestion ? "? " : "",
        node("span", { class: "reason", text: f.reason }),
      ]),
    ),
  );
}

/** A confirm token's expiry (Unix seconds, milliseconds or a date string) for people. */
function when(expires) {
  const d = typeof expires === "number" ? new Date(expires < 1e12 ? expires * 1000 : expires) : new Date(expires);
  return Number.isNaN(d.getTime()) ? String(expires) : d.toLocaleTimeString();
}

function show(kind, title, ...children) {
  result.className = kind;
  result.replaceChildren(node("h2", { text: title }), ...children);
}

function message(config) {
  const from = addresses(form.from.value);
  const to = addresses(form.to.value);
  const cc = addresses(form.cc.value);
  const bcc = addresses(form.bcc.value);
  const account = config.account_id || "demo";
  const rcpt = [...to, ...cc, ...bcc].map((a) => ({ email: a.email }));
  return {
    using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"],
    methodCalls: [
      ["Email/set", {
        accountId: account,
        create: { m1: {
          from, to, cc, bcc,
          subject: form.subject.value,
          bodyValues: { 1: { value: form.body.value } },
          textBody: [{ partId: "1", type: "text/plain" }],
        } },
      }, "0"],
      ["EmailSubmission/set", {
        accountId: account,
        create: { s1: { emailId: "#m1", envelope: { mailFrom: { email: from[0]?.email ?? "" }, rcptTo: rcpt } } },
      }, "1"],
    ],
  };
}

async function send(config, confirm) {
  const headers = { "content-type": "application/json" };
  if (confirm) headers[confirm.header] = confirm.token;
  show("", "Sending…");
  let res;
  let body = null;
  try {
    res = await fetch(config.send_url, { method: "POST", headers, body: JSON.stringify(message(config)) });
    const text = await res.text();
    try { body = JSON.parse(text); } catch { body = text; }
  } catch (e) {
    show("failed", "Not sent: the server cannot be reached", node("p", { text: String(e) }));
    return;
  }
  // The filter refuses a JMAP send inside a JMAP response (x-mistype-verdict: block), other
  // APIs with a 422; either way the verdict and the confirm token are in `mistype` (or the body).
  // A send it let through on a valid confirmation says `x-mistype-verdict: confirmed`.
  const verdictHeader = res.headers.get("x-mistype-verdict");
  const refused = res.status === 422 || verdictHeader === "block";
  if (refused && body && typeof body === "object") {
    const verdict = body.mistype || body;
    const findings = Array.isArray(verdict.findings) ? verdict.findings : [];
    const c = verdict.confirm || {};
    const header = c.header || config.confirm_header || "x-mistype-confirm";
    // What most people want: the suggestion itself, sent through the usual check.
    const suggestions = [...new Set(findings.map((f) => f.suggestion))];
    const fixable = findings.length > 0 && suggestions.every(Boolean);
    const fixed = node("button", {
      type: "button",
      id: "send-fixed",
      text: suggestions.length === 1 ? `Send to ${suggestions[0]} instead` : "Send to the suggested addresses instead",
    });
    fixed.addEventListener("click", () => {
      for (const field of [form.to, form.cc, form.bcc]) field.value = applySuggestions(field.value, findings);
      form.requestSubmit();
    });
    const again = node("button", { type: "button", id: "send-anyway", text: "Send anyway" });
    again.addEventListener("click", () => send(config, { header, token: c.token }));
    show(
      "blocked",
      "Not sent: the mail filter stopped this message",
      typeof verdict.verdict === "string" ? node("p", { text: `The server's verdict: ${verdict.verdict}.` }) : "",
      findingItems(findings),
      fixable || c.token
        ? node("p", {}, [
            fixable ? fixed : "",
            fixable && c.token ? " " : "",
            c.token ? again : "",
            c.token && c.expires_at ? ` (confirmation valid until ${when(c.expires_at)})` : "",
          ])
        : "",
    );
    result.focus();
    return;
  }
  if (res.ok) {
    const subs = Array.isArray(body?.methodResponses)
      ? body.methodResponses.find((r) => r[0] === "EmailSubmission/set")
      : null;
    const failed = subs && subs[1] && subs[1].notCreated;
    if (failed) {
      show("failed", "Not sent", node("pre", { text: JSON.stringify(failed, null, 2) }));
    } else {
      const confirmed = confirm && verdictHeader === "confirmed";
      show("sent", "Sent", node("p", { text: confirmed ? "Sent with your confirmation." : "The message was accepted." }));
    }
    return;
  }
  show("failed", `Not sent: the server answered ${res.status}`,
    node("pre", { text: typeof body === "string" ? body : JSON.stringify(body, null, 2) }));
}

async function main() {
  const [config] = await Promise.all([loadConfig(), init()]);
  let linter = new Linter();
  if (config && config.from) form.from.value = config.from;
  $("status").textContent = `mistype ${version()} · ${config ? `sending to ${config.send_url}` : "static page: Send shows the local verdict only"}`;

  // With the mistype browser extension installed, the extension checks this page (as it would any
  // webmail); the page does not attach a second check.
  const extension = document.documentElement.hasAttribute("data-mistype-extension");
  const compose = extension ? null : attachCompose(form, linter);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (config) {
      send(config, null);
      return;
    }
    const verdict = linter.check({
      from: form.from.value || null,
      to: form.to.value ? [form.to.value] : [],
      cc: form.cc.value ? [form.cc.value] : [],
      bcc: form.bcc.value ? [form.bcc.value] : [],
    });
    show(
      verdict.verdict === "block" ? "blocked" : verdict.verdict === "warn" ? "failed" : "sent",
      `Static demo, nothing sent. Local verdict: ${verdict.verdict}`,
      verdict.findings.length ? findingItems(verdict.findings) : node("p", { text: "No findings." }),
      verdict.errors.length
        ? node("ul", { class: "errors" }, verdict.errors.map((e) => node("li", { text: e.message })))
        : "",
    );
  });

  $("apply-policy").addEventListener("click", () => {
    const text = $("policy").value.trim();
    const error = $("policy-error");
    try {
      const next = text ? new Linter(text) : new Linter();
      linter.free();
      linter = next;
      if (compose) compose.setLinter(linter);
      error.hidden = true;
      error.textContent = "";
      $("policy-status").textContent = text ? "Policy applied." : "Embedded default policy applied.";
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
      error.hidden = false;
      $("policy-status").textContent = "Policy not applied; the previous one stays in force.";
    }
  });
}

main().catch((e) => {
  $("status").textContent = `The linter failed to load: ${e instanceof Error ? e.message : e}`;
});
