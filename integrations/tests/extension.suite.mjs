// The browser extension loaded unpacked (--load-extension) into Chromium's new headless mode:
// on the project's demo page, on Roundcube without the plugin (the shared set-up's "plain"
// site), and with an organisation's policy pushed through Chromium's managed policy file
// (/etc/chromium/policies/managed/, the path Debian's Chromium reads), which reaches the
// extension's chrome.storage.managed.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile, mkdtemp, rm, mkdir, writeFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { USER, PASSWORD } from "./roundcube-env.mjs";
import { repo, target, chromium, CHROMIUM, ARGS, shot, login, roundcube } from "./common.mjs";

const EXT = path.join(target, "mistype-extension");
const POLICY_DIR = "/etc/chromium/policies/managed";
const POLICY_FILE = path.join(POLICY_DIR, "mistype-extension-test.json");
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

/** web-lint/demo at / and web-lint/pkg at /pkg/, as the demo page expects. */
function demoServer() {
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };
  const server = createServer(async (req, res) => {
    let rel = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (rel === "/generic.html") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(GENERIC_PAGE);
      return;
    }
    let base = path.join(repo, "web-lint", "demo");
    if (rel.startsWith("/pkg/")) {
      base = path.join(repo, "web-lint", "pkg");
      rel = rel.slice(4);
    }
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.resolve(base, "." + rel);
    try {
      if (!file.startsWith(base + path.sep)) throw new Error("outside");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

async function launch(t) {
  const profile = await mkdtemp(path.join(os.tmpdir(), "mistype-ext-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    // Playwright disables extensions by default; the new headless mode runs them.
    ignoreDefaultArgs: ["--disable-extensions"],
    args: [...ARGS, "--headless=new", `--disable-extensions-except=${EXT}`, `--load-extension=${EXT}`],
    viewport: { width: 1280, height: 860 },
    timeout: 60_000,
  });
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  return context;
}

async function page(context, t) {
  const p = await context.newPage();
  p.setDefaultTimeout(20_000);
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e)));
  if (process.env.MISTYPE_DEBUG) p.on("console", (m) => console.error(`[console] ${m.text()}`));
  t.after(async () => {
    await p.close();
    assert.deepEqual(errors, [], "uncaught errors in the page");
  });
  return p;
}

async function attached(p, name) {
  await p
    .locator(`html[data-mistype-extension="attached:${name}"]`)
    .waitFor({ state: "attached" })
    .catch(async (e) => {
      const attrs = await p.evaluate(() =>
        [...document.documentElement.attributes].map((a) => `${a.name}=${a.value}`).join(" "),
      );
      throw new Error(`${e.message}\n<html ${attrs}> at ${p.url()}`);
    });
}

export function extensionSuite() {
  describe("browser extension (unpacked, headless Chromium)", () => {
    let demo;
    let base;
    let env;

    before(async () => {
      await stat(path.join(EXT, "manifest.json")).catch(() => {
        throw new Error(`the extension is not built (${EXT}); run integrations/build-extension.sh`);
      });
      demo = await demoServer();
      base = `http://127.0.0.1:${demo.address().port}/`;
      env = await roundcube();
    });
    after(async () => {
      if (demo) demo.close();
      await rm(POLICY_FILE, { force: true });
    });

    test("demo page: the extension takes over the check, warns, and asks before sending", async (t) => {
      const ctx = await launch(t);
      const p = await page(ctx, t);
      await p.goto(base);
      await attached(p, "demo");
      await p.locator("#status", { hasText: "mistype" }).waitFor();
      await p.locator("#to").pressSequentially("j.smith@army.ml", { delay: 10 });
      const note = p.locator('.mistype-notes[data-mistype-for="to"] .mistype-note');
      await note.waitFor();
      assert.match(await note.textContent(), /Did you mean j\.smith@army\.mil\?/);
      // One check only: the page did not attach its own.
      assert.equal(await p.locator('.mistype-notes[data-mistype-for="to"]').count(), 1);
      await shot(p, "extension-demo-warning");
      await p.locator("#subject").fill("crew list");
      await p.locator("#send").click();
      const dialog = p.getByRole("alertdialog");
      await dialog.waitFor();
      assert.match(await dialog.textContent(), /j\.smith@army\.ml/);
      await dialog.getByRole("button", { name: "Send anyway" }).click();
      await p.locator("#result h2").waitFor();
      assert.match(await p.locator("#result").textContent(), /Local verdict: block/);
    });

    test("a site without an adapter: generic detection finds the To field, warns, and asks on submit", async (t) => {
      const ctx = await launch(t);
      const p = await page(ctx, t);
      await p.goto(base + "generic.html");
      await attached(p, "generic");
      await p.locator("#rcpt").pressSequentially("friend@gmial.com", { delay: 10 });
      const note = p.locator(".mistype-note");
      await note.waitFor();
      assert.match(await note.textContent(), /Did you mean friend@gmail\.com\?/);
      await p.locator("#go").click();
      const dialog = p.getByRole("alertdialog");
      await dialog.waitFor();
      await dialog.getByRole("button", { name: "Go back and fix" }).click();
      assert.equal(await p.evaluate(() => document.body.dataset.sent || "0"), "0");
      await shot(p, "extension-generic-warning");
      await p.locator("#go").click();
      await dialog.getByRole("button", { name: "Send anyway" }).click();
      await p.waitForFunction(() => document.body.dataset.sent === "1");
    });

    test("Roundcube without the plugin: chips, fix, a question before a gmial.com send, a clean send arrives", async (t) => {
      const ctx = await launch(t);
      const p = await page(ctx, t);
      await login(p, env.plain, USER, PASSWORD);
      await p.goto(env.plain + "?_task=mail&_action=compose");
      await attached(p, "roundcube");
      const input = p.locator("#compose_to ul.recipient-input li.input input");
      await input.pressSequentially("Lt J. Smith <j.smith@navy.ml>,", { delay: 10 });
      const note = p.locator('.mistype-notes[data-mistype-for="to"] .mistype-note');
      await note.waitFor();
      assert.equal(await note.getAttribute("data-severity"), "block");
      await shot(p, "extension-roundcube-warning");
      await note.getByRole("button", { name: /Change j\.smith@navy\.ml/ }).click();
      await p.waitForFunction(() => document.querySelectorAll(".mistype-note").length === 0);
      assert.match(await p.locator("#compose_to li.recipient").first().textContent(), /navy\.mil/);
      await input.pressSequentially("friend@gmial.com,", { delay: 10 });
      await note.waitFor();
      await p.locator("#compose-subject").fill("extension");
      await p.locator("#composebody").fill("hello\n");
      const send = p.locator("a.send, button.send").filter({ visible: true }).first();
      await send.click();
      const dialog = p.getByRole("alertdialog");
      await dialog.waitFor();
      assert.match(await dialog.textContent(), /friend@gmial\.com.*friend@gmail\.com/s);
      await shot(p, "extension-roundcube-asks");
      await dialog.getByRole("button", { name: "Go back and fix" }).click();
      assert.equal(env.smtp.messages.filter((m) => m.rcpt.includes("friend@gmial.com")).length, 0);
      // Fixed: the send goes through Roundcube's own Send, and arrives.
      await p.locator('.mistype-notes[data-mistype-for="to"]').getByRole("button", { name: /Change friend@gmial\.com/ }).click();
      await p.waitForFunction(() => document.querySelectorAll(".mistype-note").length === 0);
      await send.click();
      const msg = await env.smtp.waitFor((m) => m.rcpt.includes("friend@gmail.com"));
      assert.ok(msg.rcpt.includes("j.smith@navy.mil"));
    });

    test("Roundcube with the mistype plugin: the extension leaves the page to the plugin", async (t) => {
      const ctx = await launch(t);
      const p = await page(ctx, t);
      await login(p, env.url, USER, PASSWORD);
      await p.goto(env.url + "?_task=mail&_action=compose");
      await p.locator('html[data-mistype="ready"]').waitFor({ state: "attached" });
      await p.locator('html[data-mistype-extension="plugin"]').waitFor({ state: "attached" });
      await p.locator("#compose_to ul.recipient-input li.input input").pressSequentially("c@navy.ml", { delay: 10 });
      await p.locator('.mistype-notes[data-mistype-for="to"] .mistype-note').waitFor();
      assert.equal(await p.locator('.mistype-notes[data-mistype-for="to"]').count(), 1);
    });

    test("managed policy: the organisation's policy reaches the extension and locks the options page", async (t) => {
      const id = await extensionId();
      const typo = "ops@northwind-defense.example";
      // Without the policy: no suggestion for this domain.
      {
        const ctx = await launch(t);
        const p = await page(ctx, t);
        await p.goto(base);
        await attached(p, "demo");
        await p.locator("#to").pressSequentially(typo, { delay: 5 });
        await p.keyboard.press("Tab");
        assert.equal(await p.locator(".mistype-fix").count(), 0);
      }
      await mkdir(POLICY_DIR, { recursive: true });
      await writeFile(
        POLICY_FILE,
        JSON.stringify({ "3rdparty": { extensions: { [id]: { policy: ORG_POLICY, ask_on: "warn" } } } }),
      );
      t.after(() => rm(POLICY_FILE, { force: true }));
      const ctx = await launch(t);
      const p = await page(ctx, t);
      await p.goto(base);
      await attached(p, "demo");
      await p.locator("#to").pressSequentially(typo, { delay: 5 });
      const fix = p.locator('.mistype-notes[data-mistype-for="to"] .mistype-fix');
      await fix.waitFor();
      assert.equal(await fix.textContent(), "ops@northwind-defence.example");
      assert.equal(await p.locator('.mistype-note').first().getAttribute("data-severity"), "block");
      await shot(p, "extension-managed-policy");
      // The options page says the organisation manages the settings, and locks them.
      const o = await page(ctx, t);
      await o.goto(`chrome-extension://${id}/options.html`);
      await o.locator("#managed").waitFor();
      assert.equal(await o.locator("#policy").isDisabled(), true);
      assert.equal(await o.locator("#policy").inputValue(), ORG_POLICY);
      await shot(o, "extension-options-managed");
    });

    test("options page: an individual's policy is checked, saved, and used by open compose windows", async (t) => {
      const ctx = await launch(t);
      const id = await extensionId();
      const p = await page(ctx, t);
      await p.goto(base);
      await attached(p, "demo");
      await p.locator("#to").pressSequentially("ops@northwind-defense.example", { delay: 5 });
      await p.keyboard.press("Tab");
      assert.equal(await p.locator(".mistype-fix").count(), 0);
      const o = await page(ctx, t);
      await o.goto(`chrome-extension://${id}/options.html`);
      await o.locator("#version").filter({ hasText: /\d/ }).waitFor();
      assert.equal(await o.locator("#managed").isHidden(), true);
      await o.locator("#policy").fill('{"protected": 5}');
      await o.locator("#save").click();
      await o.locator("#error").filter({ hasText: "protected" }).waitFor();
      await o.locator("#policy").fill(ORG_POLICY);
      await o.locator("#save").click();
      await o.locator("#status", { hasText: "Saved" }).waitFor();
      await shot(o, "extension-options");
      // The open compose window picks it up.
      await p.bringToFront();
      await p.locator("#to").press("End");
      await p.locator("#to").pressSequentially(" ", { delay: 5 });
      await p.locator(".mistype-fix").waitFor();
      assert.equal(await p.locator(".mistype-fix").textContent(), "ops@northwind-defence.example");
    });
  });
}
