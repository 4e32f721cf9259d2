// The browser extension loaded unpacked (--load-extension) into Chromium's new headless mode,
// one browser and one page server for every case:
// - compose pages the project writes to model the public structure of the big webmails' compose
//   windows (compose-models/): a Gmail-like single-page compose with contenteditable chip fields
//   and a scripted Send; an Outlook-on-the-web-like combobox with chips; plain inputs labelled by
//   a sibling label, a wrapping label and aria-labelledby; a compose in a frame and in an
//   about:srcdoc frame; flex, grid and table layouts. For each: the warning while typing, the fix
//   reaching the page's own model, a send asked with "Go back and fix" focused (Enter never
//   sends), "Send anyway" sending once, a clean send untouched — checked on the deliveries the
//   page server received;
// - the project's demo page, a form page without an adapter, Roundcube without and with the
//   plugin (the shared Roundcube set-up, started by the first case that needs it);
// - the options page (every setting applies to open tabs at once) and an organisation's managed
//   policy: a real policy file read by a real Chromium.
// Every Chromium here reads its policies from a per-run copy of /etc/chromium bind-mounted in a
// private mount namespace that only it sees (see `launch`): the managed case puts its policy
// file there, the others none, so a policy file elsewhere on the machine changes nothing here
// and nothing here is written machine-wide. Needs root (or unprivileged user namespaces).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile, mkdtemp, rm, mkdir, writeFile, stat, cp, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { USER, PASSWORD } from "./roundcube-env.mjs";
import { repo, target, chromium, CHROMIUM, ARGS, shot, login, openCompose, roundcube } from "./common.mjs";

const EXT = path.join(target, "mistype-extension");
const MODELS = path.join(repo, "integrations", "tests", "compose-models");
const ORG_POLICY = JSON.stringify({ protected: ["northwind-defence.example"] });

/** A webmail the extension has no adapter for: a form whose recipient field is labelled "To". */
const GENERIC_PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Some webmail</title></head>
<body><form id="mail"><p><label for="rcpt">To</label> <input id="rcpt" type="text" size="50"></p>
<p><label for="subj">Subject</label> <input id="subj" type="text"></p><p><button id="go">Send</button></p></form>
<script>document.getElementById("mail").addEventListener("submit", (e) => {
  e.preventDefault(); document.body.dataset.sent = (Number(document.body.dataset.sent || 0) + 1).toString(); });</script>
</body></html>`;

/** The extension's id, from the manifest's public key (as Chromium derives it). */
async function extensionId() {
  const { createHash } = await import("node:crypto");
  const key = JSON.parse(await readFile(path.join(EXT, "manifest.json"), "utf8")).key;
  const h = createHash("sha256").update(Buffer.from(key, "base64")).digest("hex").slice(0, 32);
  return [...h].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
}

/**
 * The page server: web-lint/demo at / and web-lint/pkg at /pkg/ (as the demo page expects), the
 * compose models at /models/, and the models' sink: POST /deliveries records one sent message.
 * Listens on a port the OS chooses and keeps it (server.address()).
 */
function pageServer() {
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };
  const deliveries = [];
  const server = createServer(async (req, res) => {
    let rel = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (rel === "/deliveries" && req.method === "POST") {
      let body = "";
      for await (const chunk of req) body += chunk;
      deliveries.push(JSON.parse(body));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      return;
    }
    if (rel === "/generic.html") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(GENERIC_PAGE);
      return;
    }
    let base = path.join(repo, "web-lint", "demo");
    if (rel.startsWith("/pkg/")) {
      base = path.join(repo, "web-lint", "pkg");
      rel = rel.slice(4);
    } else if (rel.startsWith("/models/")) {
      base = MODELS;
      rel = rel.slice(7);
    }
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.resolve(base, "." + rel);
    try {
      if (!file.startsWith(base + path.sep)) throw new Error("outside");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  server.deliveries = deliveries;
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

/**
 * Chromium with the extension, reading its policies from this run's own copy of /etc/chromium
 * (bind-mounted over /etc/chromium in a private mount namespace only this Chromium sees): with
 * `managedPolicy`, that copy holds it as a managed policy file; without, it holds no policy at
 * all, whatever the machine's /etc/chromium/policies holds. Nothing machine-global is written.
 * Chromium reads its policy directory from a path compiled into it (no switch names another).
 */
async function launch(managedPolicy = null) {
  const run = await mkdtemp(path.join(os.tmpdir(), "mistype-ext-run-"));
  const etc = path.join(run, "etc-chromium");
  await cp("/etc/chromium", etc, { recursive: true, filter: (src) => src !== "/etc/chromium/policies" });
  if (managedPolicy) {
    await mkdir(path.join(etc, "policies", "managed"), { recursive: true });
    await writeFile(path.join(etc, "policies", "managed", "mistype-extension-test.json"), JSON.stringify(managedPolicy));
  }
  const launcher = path.join(run, "chromium");
  const userns = process.getuid && process.getuid() !== 0 ? "--user --map-root-user " : "";
  await writeFile(
    launcher,
    `#!/bin/sh\nexec unshare ${userns}--mount --propagation private -- /bin/sh -c ` +
      `'mount --bind "$0" /etc/chromium && exec "$@"' '${etc}' '${CHROMIUM}' "$@"\n`,
  );
  await chmod(launcher, 0o755);
  const context = await chromium.launchPersistentContext(path.join(run, "profile"), {
    executablePath: launcher,
    headless: true,
    chromiumSandbox: false,
    // Playwright disables extensions by default; the new headless mode runs them.
    ignoreDefaultArgs: ["--disable-extensions"],
    args: [...ARGS, "--headless=new", `--disable-extensions-except=${EXT}`, `--load-extension=${EXT}`],
    viewport: { width: 1280, height: 860 },
    timeout: 60_000,
  });
  context.closeAll = async () => {
    await context.close();
    await rm(run, { recursive: true, force: true });
  };
  return context;
}

/** A new tab; uncaught page errors fail the test, except those `expected` matches. */
async function page(context, t, expected = null) {
  const p = await context.newPage();
  p.setDefaultTimeout(20_000);
  const errors = [];
  p.on("pageerror", (e) => {
    if (!expected || !expected.test(String(e))) errors.push(String(e));
  });
  if (process.env.MISTYPE_DEBUG) p.on("console", (m) => console.error(`[console] ${m.text()}`));
  // For a failed wait (waitForMark): the page's last console lines and the requests still open.
  const consoleLines = [];
  const open = new Set();
  p.on("console", (m) => {
    consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 300));
    if (consoleLines.length > 20) consoleLines.shift();
  });
  p.on("request", (r) => open.add(r));
  p.on("requestfinished", (r) => open.delete(r));
  p.on("requestfailed", (r) => open.delete(r));
  p.mistypeTrace = () =>
    `requests still open: ${[...open].map((r) => r.url()).join(", ") || "none"}; ` +
    `console: ${consoleLines.join(" | ") || "nothing"}`;
  t.after(async () => {
    await p.close();
    assert.deepEqual(errors, [], "uncaught errors in the page");
  });
  return p;
}

/**
 * Waits for `selector` in `where` (a page or a frame). Should the wait time out, the failure says
 * the document's <html> marks, its URL, whether it has the fields the Roundcube adapter looks
 * for, Roundcube's messages, if any, and the page's requests still open and its last console
 * lines.
 */
async function waitForMark(where, selector) {
  await where
    .locator(selector)
    .waitFor({ state: "attached" })
    .catch(async (e) => {
      const state = await where.locator("html").evaluate(() => {
        const attrs = [...document.documentElement.attributes].map((a) => `${a.name}=${a.value}`).join(" ");
        const shown = (document.querySelector("#messagestack")?.innerText || "").slice(0, 300);
        // (What the Roundcube adapter looks for: whether the page has it at all.)
        const fields =
          `; textarea[name=_to]: ${document.querySelectorAll('textarea[name="_to"]').length}, ` +
          `ul.recipient-input: ${document.querySelectorAll("ul.recipient-input").length}, ` +
          `document ${document.readyState}`;
        return `<html ${attrs}> at ${location.href}` + fields + (shown ? `; Roundcube's messages: ${shown}` : "");
      });
      const trace = (where.mistypeTrace || where.page?.().mistypeTrace)?.() || "";
      throw new Error(`${e.message}\n${state}\n${trace}`);
    });
}

/** Waits until the extension has attached in `where` (a page or a frame) with `name`. */
async function attached(where, name) {
  await waitForMark(where, `html[data-mistype-extension="attached:${name}"]`);
}

/** The extension's own error marker must be absent: nothing threw inside it. */
async function noExtensionError(where) {
  assert.equal(await where.locator("html").getAttribute("data-mistype-error"), null);
}

const note = (where, key) => where.locator(`.mistype-notes[data-mistype-for="${key}"] .mistype-note`);
const dialogOf = (where) => where.getByRole("alertdialog");
const focused = (where) => where.locator("html").evaluate(() => document.activeElement && document.activeElement.textContent);

export function extensionSuite() {
  describe("browser extension (unpacked, headless Chromium)", () => {
    let server;
    let base;
    let ctx;
    const sent = () => server.deliveries;
    /** Waits for the n-th delivery, then checks the deliveries are exactly `want` (none extra). */
    async function deliveries(want) {
      const until = Date.now() + 10_000;
      while (sent().length < want.length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(sent(), want);
    }

    /** The asked send: "Go back and fix" has the focus; Enter (twice, the habit) and Escape send nothing. */
    async function enterNeverSends(where, dialog, pressKey) {
      await dialog.waitFor();
      assert.equal(await focused(where), "Go back and fix");
      await pressKey("Enter");
      await dialog.waitFor({ state: "hidden" });
      await pressKey("Enter");
      if (await dialog.isVisible()) {
        // A form's Enter in a field asks again: again the safe action is focused.
        assert.equal(await focused(where), "Go back and fix");
        await pressKey("Escape");
        await dialog.waitFor({ state: "hidden" });
      }
    }

    before(async () => {
      await stat(path.join(EXT, "manifest.json")).catch(() => {
        throw new Error(`the extension is not built (${EXT}); run integrations/build-extension.sh`);
      });
      server = await pageServer();
      base = `http://127.0.0.1:${server.address().port}/`;
      ctx = await launch();
    });
    after(async () => {
      if (ctx) await ctx.closeAll();
      if (server) server.close();
    });

    test("Gmail-like: a compose opened later, contenteditable chips named by aria-label, a scripted Send and Ctrl+Enter", async (t) => {
      sent().length = 0;
      const p = await page(ctx, t);
      await p.goto(base + "models/gmail.html");
      await p.locator('html[data-mistype-extension="idle"]').waitFor({ state: "attached" });
      await p.locator("#compose-button").click();
      await attached(p, "generic");
      const to = p.locator("#to");
      // A chip: the warning, then the fix through the page's own chip widget (remove, type).
      await to.pressSequentially("j.smith@army.ml,", { delay: 10 });
      await p.locator('#to .chip[email="j.smith@army.ml"]').waitFor();
      await note(p, "to").waitFor();
      assert.match(await note(p, "to").textContent(), /^Blocked j\.smith@army\.ml: Did you mean j\.smith@army\.mil\?/);
      await shot(p, "extension-gmail-warning");
      await note(p, "to").getByRole("button", { name: "Change j.smith@army.ml to j.smith@army.mil" }).click();
      await p.locator('#to .chip[email="j.smith@army.mil"]').waitFor();
      assert.deepEqual(await p.evaluate(() => window.model.to), ["j.smith@army.mil"]);
      assert.equal(await note(p, "to").count(), 0);
      // Typed text, not yet a chip: warned and fixed in place.
      await to.pressSequentially("x@gmial.com", { delay: 10 });
      await note(p, "to").getByRole("button", { name: "Change x@gmial.com to x@gmail.com" }).click();
      assert.equal(await p.evaluate(() => document.getElementById("to").lastChild.data), "x@gmail.com");
      // A block finding asks, however the send is made: Enter on the focused Send control, Ctrl+Enter, a click.
      await to.pressSequentially(",c@navy.ml,", { delay: 10 });
      await p.locator('#to .chip[email="c@navy.ml"]').waitFor();
      await p.locator("#send").focus();
      await p.keyboard.press("Enter");
      await enterNeverSends(p, dialogOf(p), (k) => p.keyboard.press(k));
      await p.locator("#body").click();
      await p.keyboard.press("Control+Enter");
      await enterNeverSends(p, dialogOf(p), (k) => p.keyboard.press(k));
      await p.locator("#send").click();
      const dialog = dialogOf(p);
      await dialog.waitFor();
      assert.match(await dialog.textContent(), /c@navy\.ml \(did you mean c@navy\.mil\?\)/);
      await shot(p, "extension-gmail-asks");
      // The fix as the dialog's action: the page sends the fixed recipients, once.
      await dialog.getByRole("button", { name: "Send to c@navy.mil instead" }).click();
      await p.locator("#status", { hasText: /^Message sent$/ }).waitFor();
      await deliveries([{ page: "gmail", to: ["j.smith@army.mil", "x@gmail.com", "c@navy.mil"], cc: [], bcc: [], subject: "" }]);
      // The compose window went away; a new one is followed, and "Send anyway" sends once as typed.
      await p.locator('html[data-mistype-extension="idle"]').waitFor({ state: "attached" });
      await p.locator("#compose-button").click();
      await attached(p, "generic");
      await p.locator("#to").pressSequentially("c@navy.ml,", { delay: 10 });
      await note(p, "to").waitFor();
      await p.locator("#send").click();
      await dialogOf(p).getByRole("button", { name: "Send anyway" }).click();
      await p.locator("#status", { hasText: /^Message sent$/ }).waitFor();
      // A clean send goes unasked.
      await p.locator("#compose-button").click();
      await attached(p, "generic");
      await p.locator("#to").pressSequentially("ops@army.mil,", { delay: 10 });
      await p.locator("#send").click();
      await deliveries([
        { page: "gmail", to: ["j.smith@army.mil", "x@gmail.com", "c@navy.mil"], cc: [], bcc: [], subject: "" },
        { page: "gmail", to: ["c@navy.ml"], cc: [], bcc: [], subject: "" },
        { page: "gmail", to: ["ops@army.mil"], cc: [], bcc: [], subject: "" },
      ]);
      assert.equal(await dialogOf(p).isVisible(), false);
      await noExtensionError(p);
    });

    test("Outlook-like: a combobox named by aria-labelledby after its chips, a listbox of chips named Cc; chips removed with Backspace", async (t) => {
      sent().length = 0;
      const p = await page(ctx, t);
      await p.goto(base + "models/outlook.html");
      await attached(p, "generic");
      // Cc: a listbox of chips named "Cc recipients", typed into beside it: a typo chip is
      // warned and fixed (Backspace on the chip, the fix typed).
      await p.locator("#cc-input").pressSequentially("ops@navy.ml;", { delay: 10 });
      await p.locator('#cc-well .persona[title="ops@navy.ml"]').waitFor();
      await note(p, "cc").getByRole("button", { name: "Change ops@navy.ml to ops@navy.mil" }).click();
      await p.locator('#cc-well .persona[title="ops@navy.mil"]').waitFor();
      assert.deepEqual(await p.evaluate(() => window.model.cc), ["ops@navy.mil"]);
      assert.equal(await note(p, "cc").count(), 0);
      // Clean: sent unasked.
      await p.locator("#send").click();
      await p.locator("#status", { hasText: /^Message sent$/ }).waitFor();
      await deliveries([{ page: "outlook", to: [], cc: ["ops@navy.mil"], bcc: [], subject: "" }]);
      const input = p.locator("#to-input");
      await input.pressSequentially("j.smith@army.ml;", { delay: 10 });
      await p.locator('#to-well .persona[title="j.smith@army.ml"]').waitFor();
      await note(p, "to").waitFor();
      assert.match(await note(p, "to").textContent(), /^Blocked j\.smith@army\.ml: Did you mean j\.smith@army\.mil\?/);
      await shot(p, "extension-outlook-warning");
      await note(p, "to").getByRole("button", { name: "Change j.smith@army.ml to j.smith@army.mil" }).click();
      await p.locator('#to-well .persona[title="j.smith@army.mil"]').waitFor();
      assert.deepEqual(await p.evaluate(() => window.model.to), ["j.smith@army.mil"]);
      // A sure warning (ask_on warn) typed and not yet a chip: Ctrl+Enter asks.
      await input.pressSequentially("x@gmial.com", { delay: 10 });
      await note(p, "to").waitFor();
      await p.keyboard.press("Control+Enter");
      await enterNeverSends(p, dialogOf(p), (k) => p.keyboard.press(k));
      await p.locator("#send").click();
      await p.locator("#status").evaluate((s) => (s.textContent = ""));
      await dialogOf(p).getByRole("button", { name: "Send anyway" }).click();
      await p.locator("#status", { hasText: /^Message sent$/ }).waitFor();
      await deliveries([
        { page: "outlook", to: [], cc: ["ops@navy.mil"], bcc: [], subject: "" },
        { page: "outlook", to: ["j.smith@army.mil", "x@gmial.com"], cc: ["ops@navy.mil"], bcc: [], subject: "" },
      ]);
      await noExtensionError(p);
    });

    test("plain inputs labelled by a sibling label, a wrapping label and aria-labelledby, on a page whose own handlers throw", async (t) => {
      sent().length = 0;
      const p = await page(ctx, t, /^Error: page bug on (input|keydown|click)$/);
      await p.goto(base + "models/labels.html?throw=1");
      await attached(p, "generic");
      const [to, cc, bcc] = await p.locator("input.rcpt").all();
      await to.pressSequentially("j.smith@army.ml", { delay: 5 });
      await cc.pressSequentially("Ops <ops@gmial.com>", { delay: 5 });
      await bcc.pressSequentially("c@navy.ml", { delay: 5 });
      for (const key of ["to", "cc", "bcc"]) await note(p, key).waitFor();
      assert.match(await note(p, "cc").textContent(), /^Check ops@gmial\.com: Did you mean ops@gmail\.com\?/);
      await note(p, "cc").getByRole("button", { name: /Change ops@gmial\.com/ }).click();
      assert.equal(await cc.inputValue(), "Ops <ops@gmail.com>");
      assert.deepEqual(await p.evaluate(() => window.model.cc), ["ops@gmail.com"]);
      await p.locator("#send").click();
      await enterNeverSends(p, dialogOf(p), (k) => p.keyboard.press(k));
      await p.locator("#send").click();
      const dialog = dialogOf(p);
      await dialog.waitFor();
      // Two findings with suggestions: one action sends to both fixes.
      await dialog.getByRole("button", { name: "Send to the suggested addresses instead" }).click();
      await p.locator("#status", { hasText: /^Message sent$/ }).waitFor();
      await deliveries([{ page: "labels", to: ["j.smith@army.mil"], cc: ["ops@gmail.com"], bcc: ["c@navy.mil"], subject: "" }]);
      await noExtensionError(p);
    });

    test("framed compose: a frame's document and an about:srcdoc frame are checked the same way", async (t) => {
      sent().length = 0;
      const p = await page(ctx, t);
      await p.goto(base + "models/framed.html");
      const frame = p.frameLocator("#compose-frame");
      await attached(frame, "generic");
      await frame.locator("input.rcpt").first().pressSequentially("j.smith@army.ml", { delay: 5 });
      await note(frame, "to").waitFor();
      await frame.locator("#send").click();
      await enterNeverSends(frame, dialogOf(frame), (k) => p.keyboard.press(k));
      await frame.locator("#send").click();
      await dialogOf(frame).getByRole("button", { name: "Send anyway" }).click();
      await frame.locator("#status", { hasText: /^Message sent$/ }).waitFor();
      const reply = p.frameLocator("#reply-frame");
      await attached(reply, "generic");
      await reply.locator("#rcpt").pressSequentially("friend@gmial.com", { delay: 5 });
      await note(reply, "to").waitFor();
      await shot(p, "extension-framed");
      await reply.locator("#rcpt").press("Enter"); // implicit submission: a form's send
      await enterNeverSends(reply, dialogOf(reply), (k) => p.keyboard.press(k));
      await reply.locator("#go").click();
      await dialogOf(reply).getByRole("button", { name: "Send to friend@gmail.com instead" }).click();
      await reply.locator("#status", { hasText: /^Message sent$/ }).waitFor();
      await deliveries([
        { page: "framed", to: ["j.smith@army.ml"], cc: [], bcc: [], subject: "" },
        { page: "srcdoc", to: ["friend@gmail.com"] },
      ]);
    });

    test("layouts: a note leaves the field's width and the next row alone in flex, grid and table rows; no Send to stop says Check", async (t) => {
      const p = await page(ctx, t);
      await p.goto(base + "models/layouts.html");
      await attached(p, "generic");
      const ids = ["flex", "grid", "table"];
      const boxes = () =>
        p.evaluate((ids) => ids.map((id) => {
          const r = (sel) => document.querySelector(sel).getBoundingClientRect();
          return { to: r(`#to-${id}`).width, subjectTop: r(`#s-${id}`).top, bottom: r(`#to-${id}`).bottom };
        }), ids);
      const before = await boxes();
      for (const id of ids) await p.locator(`#to-${id}`).pressSequentially("j.smith@army.ml", { delay: 5 });
      await p.locator("#to-table").press("Tab"); // leaving the field lints at once
      const notes = p.locator(".mistype-notes:not([hidden]) .mistype-note");
      await p.waitForFunction(() => document.querySelectorAll(".mistype-notes:not([hidden]) .mistype-note").length === 3);
      await shot(p, "extension-layouts");
      const after = await boxes();
      assert.deepEqual(after.map((b) => b.to), before.map((b) => b.to), "the To fields' widths");
      assert.deepEqual(after.map((b) => b.subjectTop), before.map((b) => b.subjectTop), "the rows below did not move");
      const tops = await notes.evaluateAll((ns) => ns.map((n) => n.getBoundingClientRect().top));
      tops.forEach((top, i) => assert.ok(top >= before[i].bottom, `note ${i} is below its field`));
      // Nothing on this page can be stopped: never "Blocked".
      for (const text of await notes.allTextContents()) {
        assert.match(text, /^Check j\.smith@army\.ml: Did you mean j\.smith@army\.mil\? mistype cannot stop this page's Send/);
      }
    });

    test("demo page: the extension takes over the check, warns, and asks before sending", async (t) => {
      const p = await page(ctx, t);
      await p.goto(base);
      await attached(p, "demo");
      await p.locator("#status", { hasText: /^mistype \d/ }).waitFor();
      await p.locator("#to").pressSequentially("j.smith@army.ml", { delay: 10 });
      await note(p, "to").waitFor();
      assert.match(await note(p, "to").textContent(), /Did you mean j\.smith@army\.mil\?/);
      // One check only: the page did not attach its own.
      assert.equal(await p.locator('.mistype-notes[data-mistype-for="to"]').count(), 1);
      await shot(p, "extension-demo-warning");
      await p.locator("#subject").fill("crew list");
      await p.locator("#send").click();
      await enterNeverSends(p, dialogOf(p), (k) => p.keyboard.press(k));
      assert.equal(await p.locator("#result").textContent(), "");
      await p.locator("#send").click();
      await dialogOf(p).getByRole("button", { name: "Send anyway" }).click();
      await p.locator("#result h2").waitFor();
      assert.equal(await p.locator("#result h2").textContent(), "Static demo, nothing sent. Local verdict: block");
    });

    test("a form page without an adapter: the To field is found by its label; the submit asks", async (t) => {
      const p = await page(ctx, t);
      await p.goto(base + "generic.html");
      await attached(p, "generic");
      await p.locator("#rcpt").pressSequentially("friend@gmial.com", { delay: 10 });
      await note(p, "to").waitFor();
      assert.match(await note(p, "to").textContent(), /Did you mean friend@gmail\.com\?/);
      await p.locator("#go").click();
      await enterNeverSends(p, dialogOf(p), (k) => p.keyboard.press(k));
      await shot(p, "extension-generic-warning");
      await p.locator("#go").click();
      await dialogOf(p).getByRole("button", { name: "Send anyway" }).click();
      await p.waitForFunction(() => document.body.dataset.sent === "1");
      assert.equal(await p.evaluate(() => document.body.dataset.sent), "1");
    });

    test("Roundcube without the plugin: chips, fix, a question before a gmial.com send, a clean send arrives", async (t) => {
      const env = await roundcube();
      const p = await page(ctx, t);
      await login(p, env.plain, USER, PASSWORD);
      const input = await openCompose(p, env.plain);
      await attached(p, "roundcube");
      await input.pressSequentially("Lt J. Smith <j.smith@navy.ml>,", { delay: 10 });
      await note(p, "to").waitFor();
      assert.equal(await note(p, "to").getAttribute("data-severity"), "block");
      await shot(p, "extension-roundcube-warning");
      await note(p, "to").getByRole("button", { name: /Change j\.smith@navy\.ml/ }).click();
      await p.waitForFunction(() => document.querySelectorAll(".mistype-note").length === 0);
      assert.match(await p.locator("#compose_to li.recipient").first().textContent(), /navy\.mil/);
      await input.pressSequentially("friend@gmial.com,", { delay: 10 });
      await note(p, "to").waitFor();
      await p.locator("#compose-subject").fill("extension");
      await p.locator("#composebody").fill("hello\n");
      const send = p.locator("a.send, button.send").filter({ visible: true }).first();
      await send.click();
      const dialog = dialogOf(p);
      await dialog.waitFor();
      assert.match(await dialog.textContent(), /friend@gmial\.com.*friend@gmail\.com/s);
      await shot(p, "extension-roundcube-asks");
      await enterNeverSends(p, dialog, (k) => p.keyboard.press(k));
      // Fixed: the send goes through Roundcube's own Send, and arrives; nothing went to gmial.com.
      await p.locator('.mistype-notes[data-mistype-for="to"]').getByRole("button", { name: /Change friend@gmial\.com/ }).click();
      await p.waitForFunction(() => document.querySelectorAll(".mistype-note").length === 0);
      await send.click();
      const msg = await env.smtp.waitFor((m) => m.rcpt.includes("friend@gmail.com"));
      assert.ok(msg.rcpt.includes("j.smith@navy.mil"));
      assert.equal(env.smtp.messages.filter((m) => m.rcpt.includes("friend@gmial.com")).length, 0);
    });

    test("Roundcube with the mistype plugin: the extension leaves the page to the plugin", async (t) => {
      const env = await roundcube();
      const p = await page(ctx, t);
      await login(p, env.url, USER, PASSWORD);
      const to = await openCompose(p, env.url);
      await waitForMark(p, 'html[data-mistype="ready"]');
      await p.locator('html[data-mistype-extension="plugin"]').waitFor({ state: "attached" });
      await to.pressSequentially("c@navy.ml", { delay: 10 });
      await note(p, "to").waitFor();
      assert.equal(await p.locator('.mistype-notes[data-mistype-for="to"]').count(), 1);
    });

    test("options page: its placeholder is a valid policy; policy, ask_on and enabled apply to open tabs at once", async (t) => {
      sent().length = 0;
      const id = await extensionId();
      const p = await page(ctx, t);
      await p.goto(base + "models/labels.html?page=settings");
      await attached(p, "generic");
      const [to] = await p.locator("input.rcpt").all();
      await to.pressSequentially("ops@northwind-defense.example, friend@gmial.com", { delay: 5 });
      await note(p, "to").first().waitFor();
      assert.deepEqual(
        await p.locator(".mistype-fix").allTextContents(),
        ["friend@gmail.com"],
        "only friend@gmial.com: nothing protects northwind-defence.example yet",
      );
      const o = await page(ctx, t);
      t.after(() => o.evaluate(() => chrome.storage.local.clear()).catch(() => {}));
      await o.goto(`chrome-extension://${id}/options.html`);
      await o.locator("#version").filter({ hasText: /\d/ }).waitFor();
      assert.equal(await o.locator("#managed").isHidden(), true);
      const save = async (expect) => {
        await o.locator("#status").evaluate((s) => (s.textContent = ""));
        await o.locator("#save").click();
        await o.locator("#status", { hasText: expect }).waitFor();
      };
      // The placeholder is a policy the page accepts.
      await o.locator("#policy").fill(await o.locator("#policy").getAttribute("placeholder"));
      await save(/^Saved\. Open compose windows use it at once\.$/);
      await o.locator("#policy").fill('{"protected": 5}');
      await o.locator("#save").click();
      await o.locator("#error").filter({ hasText: "protected" }).waitFor();
      // The organisation's policy: the open tab flags the northwind typo at once.
      await o.locator("#policy").fill(ORG_POLICY);
      await save(/^Saved/);
      await shot(o, "extension-options");
      await p.bringToFront();
      await p.locator('.mistype-fix', { hasText: /^ops@northwind-defence\.example$/ }).waitFor();
      await note(p, "to").nth(1).waitFor();
      // ask_on block: a sure warning no longer asks (the block finding still does; fix it first).
      await o.locator("#ask_on").selectOption("block");
      await save(/^Saved/);
      await p.bringToFront();
      await note(p, "to").getByRole("button", { name: /Change ops@northwind-defense\.example/ }).click();
      await p.locator("#send").click();
      await p.locator("#status", { hasText: /^Message sent$/ }).waitFor();
      await deliveries([{ page: "settings", to: ["ops@northwind-defence.example", "friend@gmial.com"], cc: [], bcc: [], subject: "" }]);
      assert.equal(await dialogOf(p).isVisible(), false);
      // enabled off: the open tab's check goes away at once; on again: it comes back.
      await o.locator("#enabled").uncheck();
      await save(/^Saved/);
      await p.locator('html[data-mistype-extension="off"]').waitFor({ state: "attached" });
      assert.equal(await p.locator(".mistype-note").count(), 0);
      await o.locator("#enabled").check();
      await save(/^Saved/);
      await attached(p, "generic");
      await note(p, "to").first().waitFor();
    });

    test("managed policy: the organisation's policy reaches the extension and locks the options page", async (t) => {
      const id = await extensionId();
      const machinePolicy = "/etc/chromium/policies/managed/mistype-extension-test.json";
      const machineBefore = await readFile(machinePolicy, "utf8").catch(() => null);
      const managed = await launch({ "3rdparty": { extensions: { [id]: { policy: ORG_POLICY, ask_on: "warn" } } } });
      t.after(() => managed.closeAll());
      const p = await page(managed, t);
      await p.goto(base);
      await attached(p, "demo");
      await p.locator("#to").pressSequentially("ops@northwind-defense.example", { delay: 5 });
      const fix = p.locator('.mistype-notes[data-mistype-for="to"] .mistype-fix');
      await fix.waitFor();
      assert.equal(await fix.textContent(), "ops@northwind-defence.example");
      assert.equal(await note(p, "to").first().getAttribute("data-severity"), "block");
      await shot(p, "extension-managed-policy");
      // The options page says the organisation manages the settings, and locks them.
      const o = await page(managed, t);
      await o.goto(`chrome-extension://${id}/options.html`);
      await o.locator("#managed").waitFor();
      assert.equal(await o.locator("#policy").isDisabled(), true);
      assert.equal(await o.locator("#policy").inputValue(), ORG_POLICY);
      await shot(o, "extension-options-managed");
      // Nothing of it is visible outside that Chromium: the machine's policy directory is as it was.
      assert.equal(await readFile(machinePolicy, "utf8").catch(() => null), machineBefore);
    });
  });
}
