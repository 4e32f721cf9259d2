// Roundcube 1.6 (Debian) with the mistype plugin, behind real Envoy with the shipped config and
// the built filter, driven in headless Chromium. One Roundcube set-up for every test here
// (roundcube-env.mjs); each test composes in a fresh compose window of one logged-in session.
//
//   integrations/test.sh roundcube   (builds what is needed; webmail.test.mjs runs this suite)
//
// Screenshots of each state: $CARGO_TARGET_DIR/webmail-e2e/roundcube-*.png
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { USER, PASSWORD } from "./roundcube-env.mjs";
import { chromium, CHROMIUM, ARGS, shot, login, roundcube } from "./common.mjs";

let env;
let browser;
let context;

export function roundcubeSuite() {
describe("Roundcube plugin (elastic, behind Envoy)", () => {
before(async () => {
  env = await roundcube();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: ARGS, timeout: 60_000 });
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await login(page, env.url, USER, PASSWORD).catch(async (e) => {
    throw new Error(`${e.message}\n${await env.logs()}`);
  });
  await page.close();
});

after(async () => {
  // The browser stays for the larry suite, which closes it.
  if (context) await context.close();
});

/** A fresh compose window with the plugin ready; uncaught page errors fail the test. */
async function compose(t) {
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  t.after(async () => {
    await page.close();
    assert.deepEqual(errors, [], "uncaught errors in the page");
  });
  await page.goto(env.url + "?_task=mail&_action=compose");
  await page.locator('html[data-mistype="ready"], html[data-mistype="failed"]').waitFor({ state: "attached" });
  const state = await page.getAttribute("html", "data-mistype");
  if (state !== "ready") {
    const shown = await page.locator("#messagestack").textContent();
    assert.fail(`the plugin did not start (${state}): ${shown}\n${await env.logs()}`);
  }
  return page;
}

const typing = (page, field) => page.locator(`#compose_${field} ul.recipient-input li.input input`);
const chips = (page, field) => page.locator(`#compose_${field} ul.recipient-input li.recipient`);
const notes = (page, field) => page.locator(`.mistype-notes[data-mistype-for="${field}"]`);
const sendButton = (page) => page.locator("a.send, button.send").filter({ visible: true }).first();
const dialog = (page) => page.locator(".ui-dialog").filter({ visible: true }).last();

async function subject(page, text) {
  await page.locator("#compose-subject").fill(text);
  await page.locator("#composebody").fill("Schedule attached.\n");
}

test("typing a typo shows the warning under the To box and in Roundcube's message area", async (t) => {
  const page = await compose(t);
  const before = await page.locator("#compose_to ul.recipient-input").boundingBox();
  await typing(page, "to").pressSequentially("j.smith@navy.ml", { delay: 10 });
  const note = notes(page, "to").locator(".mistype-note");
  await note.waitFor();
  assert.equal(await note.getAttribute("data-severity"), "block");
  assert.match(await note.textContent(), /j\.smith@navy\.ml: Did you mean j\.smith@navy\.mil\?/);
  // Roundcube's own message area says it too.
  await page.locator("#messagestack").getByText(/Did you mean j\.smith@navy\.mil/).waitFor();
  // The note sits below the whole input group: the chip box keeps its width.
  const box = await page.locator("#compose_to ul.recipient-input").boundingBox();
  const noteBox = await note.boundingBox();
  assert.ok(noteBox.y >= box.y + box.height - 1, "the note is below the chip box");
  assert.ok(Math.abs(box.width - before.width) < 2, `the chip box was ${before.width}px wide, now ${box.width}px`);
  assert.ok(Math.abs(box.height - before.height) < 2, `the chip box was ${before.height}px high, now ${box.height}px`);
  await shot(page, "roundcube-1-warning");
});

test("the fix updates Roundcube's chips and its field, and survives further edits", async (t) => {
  const page = await compose(t);
  await typing(page, "to").pressSequentially("Lt J. Smith <j.smith@navy.ml>,", { delay: 10 });
  await chips(page, "to").first().waitFor();
  const fix = notes(page, "to").getByRole("button", { name: /Change j\.smith@navy\.ml to j\.smith@navy\.mil/ });
  await fix.click();
  await page.waitForFunction(() => document.querySelectorAll(".mistype-note").length === 0);
  assert.match(await chips(page, "to").first().textContent(), /j\.smith@navy\.mil/);
  assert.match(await page.inputValue("textarea[name=_to]"), /j\.smith@navy\.mil/);
  // Another recipient: Roundcube rebuilds its field from the chips; the typo stays gone.
  await typing(page, "to").pressSequentially("p@gmx.com,", { delay: 10 });
  await page.waitForFunction(() => document.querySelectorAll("#compose_to li.recipient").length === 2);
  const value = await page.inputValue("textarea[name=_to]");
  assert.match(value, /j\.smith@navy\.mil/);
  assert.match(value, /p@gmx\.com/);
  assert.doesNotMatch(value, /navy\.ml\b/);
  assert.equal(await page.locator(".mistype-note").count(), 0);
  await shot(page, "roundcube-2-fixed");
});

test("a send with a block finding asks first; going back sends nothing", async (t) => {
  const page = await compose(t);
  await typing(page, "to").pressSequentially("c.jones@navy.ml,", { delay: 10 });
  await subject(page, "asks first");
  await sendButton(page).click();
  const d = dialog(page);
  await d.getByText("These recipients look misaddressed").waitFor();
  assert.match(await d.textContent(), /c\.jones@navy\.ml.*did you mean.*c\.jones@navy\.mil/s);
  await shot(page, "roundcube-3-asks");
  await d.getByRole("button", { name: "Go back and fix" }).click();
  await d.waitFor({ state: "hidden" });
  await page.waitForTimeout(500);
  assert.equal(env.smtp.messages.filter((m) => m.rcpt.includes("c.jones@navy.ml")).length, 0);
});

test("a send the filter blocks shows the reason in Roundcube; confirmed, it arrives", async (t) => {
  const page = await compose(t);
  await typing(page, "to").pressSequentially("Lt J. Smith <j.smith@navy.ml>,", { delay: 10 });
  await typing(page, "to").pressSequentially("ops@army.mil,", { delay: 10 });
  await subject(page, "filter block");
  const log = [];
  page.on("request", (r) => log.push(`${r.method()} ${r.url()}`));
  page.on("response", (r) => log.push(`${r.status()} ${r.url()}`));
  page.on("console", (m) => log.push(`console ${m.text()}`));
  page.on("pageerror", (e) => log.push(`pageerror ${e.stack}`));
  await sendButton(page).click();
  // The compose check asks first; "Send anyway" sends to the filter, which stops it.
  await dialog(page).getByRole("button", { name: "Send anyway" }).click();
  const blocked = page.locator(".ui-dialog").filter({ hasText: "Not sent: a recipient looks misaddressed" });
  await blocked.waitFor().catch(async (e) => {
    await shot(page, "roundcube-debug");
    const shown = await page.locator("#messagestack").textContent();
    throw new Error(`${e.message}\n${log.join("\n")}\nmessages: ${shown}\nsink: ${JSON.stringify(env.smtp.messages.map((m) => m.rcpt))}\n${env.envoyOut().slice(-2000)}`);
  });
  assert.match(await blocked.textContent(), /j\.smith@navy\.ml.*did you mean.*j\.smith@navy\.mil/s);
  // Roundcube's message area shows the filter's reason, not "Connection Error".
  await page.locator("#messagestack").getByText(/Not sent, mistype stopped it/).waitFor();
  assert.equal(await page.locator("#messagestack").getByText(/Connection Error/).count(), 0);
  assert.equal(env.smtp.messages.filter((m) => m.rcpt.includes("j.smith@navy.ml")).length, 0);
  await shot(page, "roundcube-4-filter-blocked");
  // Confirmed: resent with the filter's token, and it arrives.
  await blocked.getByRole("button", { name: "Send anyway" }).click();
  const msg = await env.smtp.waitFor((m) => m.rcpt.includes("j.smith@navy.ml"));
  assert.ok(msg.rcpt.includes("ops@army.mil"));
  assert.match(msg.data, /^Subject: filter block/m);
  await page.locator("#messagestack").getByText(/sent successfully/i).waitFor().catch(() => {});
  await shot(page, "roundcube-5-confirmed-sent");
});

test("the policy from the plugin's configuration is used", async (t) => {
  // roundcube-env.mjs sets mistype_policy to protect northwind-defence.example.
  const page = await compose(t);
  await typing(page, "to").pressSequentially("ops@northwind-defense.example,", { delay: 10 });
  const fix = notes(page, "to").locator(".mistype-fix");
  await fix.waitFor();
  assert.equal(await fix.textContent(), "ops@northwind-defence.example");
  assert.equal(await notes(page, "to").locator(".mistype-note").getAttribute("data-severity"), "block");
});

test("a clean send arrives without a question", async (t) => {
  const page = await compose(t);
  await typing(page, "to").pressSequentially("y.clean@gmail.com,", { delay: 10 });
  await subject(page, "clean");
  await sendButton(page).click();
  const msg = await env.smtp.waitFor((m) => m.rcpt.includes("y.clean@gmail.com"));
  assert.match(msg.data, /^Subject: clean/m);
  assert.equal(await page.locator(".ui-dialog").filter({ visible: true }).count(), 0);
});

test("a gmial.com send reaches the user's eyes before it leaves", async (t) => {
  const page = await compose(t);
  await typing(page, "to").pressSequentially("friend@gmial.com,", { delay: 10 });
  const note = notes(page, "to").locator(".mistype-note");
  await note.waitFor();
  assert.match(await note.textContent(), /friend@gmail\.com/);
  await subject(page, "provider typo");
  await sendButton(page).click();
  const d = dialog(page);
  await d.getByText("These recipients look misaddressed").waitFor();
  assert.match(await d.textContent(), /friend@gmial\.com.*friend@gmail\.com/s);
  await shot(page, "roundcube-6-gmial-asks");
  await d.getByRole("button", { name: "Go back and fix" }).click();
  await page.waitForTimeout(500);
  assert.equal(env.smtp.messages.filter((m) => m.rcpt.includes("friend@gmial.com")).length, 0);
});
});

describe("Roundcube plugin (larry: plain textareas)", () => {
  let larry;
  before(async () => {
    const env = await roundcube();
    larry = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await larry.newPage();
    await login(page, env.larry, USER, PASSWORD);
    await page.close();
    larry.env = env;
  });
  after(async () => {
    if (larry) await larry.close();
    if (browser) await browser.close();
  });

  test("larry: the warning, the fix in the textarea, and the question before sending", async (t) => {
    const page = await larry.newPage();
    page.setDefaultTimeout(20_000);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    t.after(() => page.close());
    await page.goto(larry.env.larry + "?_task=mail&_action=compose");
    await page.locator('html[data-mistype="ready"], html[data-mistype="failed"]').waitFor({ state: "attached" });
    assert.equal(await page.getAttribute("html", "data-mistype"), "ready");
    const to = page.locator("textarea#_to");
    await to.pressSequentially("Lt J. Smith <j.smith@navy.ml>", { delay: 10 });
    const note = page.locator('td .mistype-notes[data-mistype-for="to"] .mistype-note');
    await note.waitFor();
    assert.match(await note.textContent(), /Did you mean j\.smith@navy\.mil\?/);
    await shot(page, "roundcube-larry-warning");
    await note.getByRole("button", { name: /Change j\.smith@navy\.ml/ }).click();
    assert.equal(await to.inputValue(), "Lt J. Smith <j.smith@navy.mil>");
    await to.pressSequentially(", c@navy.ml", { delay: 10 });
    await page.locator("#compose-subject").fill("larry");
    await page.locator("input.mainaction, a.button.send").filter({ visible: true }).first().click();
    const d = page.locator(".ui-dialog").filter({ visible: true }).last();
    await d.getByText("These recipients look misaddressed").waitFor();
    assert.match(await d.textContent(), /c@navy\.ml/);
    await d.getByRole("button", { name: "Go back and fix" }).click();
    assert.deepEqual(errors, []);
  });
});
}
