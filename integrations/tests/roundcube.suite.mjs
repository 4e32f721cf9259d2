// Roundcube 1.6 (Debian) with the mistype plugin, behind real Envoy with the shipped config and
// the built filter, driven in headless Chromium. One Roundcube set-up and one browser for every
// test here (roundcube-env.mjs); each skin has its own logged-in session, and each test composes
// in a fresh compose window.
//
//   integrations/test.sh roundcube   (builds what is needed; webmail.test.mjs runs this suite)
//
// What a send did is read from what cannot lie about it: the SMTP sink's deliveries (recipients
// exactly) and the filter's own counters in Envoy (every send Roundcube submits passes through
// the filter and is counted, whether the filter refuses it or not). A "nothing was sent" check is
// always followed, in the same compose window, by a send that does arrive: the counters then
// show exactly that one send, so a send the check missed cannot hide behind a short wait.
//
// The plugin's policy (roundcube-env.mjs) protects northwind-defence.com, which the filter's does
// not: the compose check asks about ops@northwind-defense.com and the filter lets it through. It
// knows amry.mil, which the filter refuses: x@amry.mil reaches the filter unasked.
//
// Screenshots of each state: $CARGO_TARGET_DIR/webmail-e2e/roundcube-*.png
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { USER, PASSWORD } from "./roundcube-env.mjs";
import { chromium, CHROMIUM, ARGS, shot, login, roundcube } from "./common.mjs";

const CHECK_TITLE = "Check the recipients";
const BLOCKED_TITLE = "Not sent: a recipient looks misaddressed";
const SENT = "Message sent successfully.";
// The filter's line in Roundcube's message area for a refused send (the whole line).
const notSentLine = (parts) => new RegExp(`^Not sent, mistype stopped it\\. ${parts}$`);

// The two skins, and what differs between them: elastic turns each recipient into a chip and the
// user types into an input after the chips; larry keeps the plain textarea.
const SKINS = {
  elastic: {
    // The recipient in the "Resend (bounce)" dialog's frame.
    bounceTo: (frame) => frame.locator("#compose_to ul.recipient-input li.input input"),
    // The toolbar's Forward menu, then its "Resend (bounce)".
    async openBounce(page) {
      await page.locator("#forwardmenulink").click();
      await page.locator("#forward-menu a.bounce").click();
    },
    url: (env) => env.url,
    typing: (page) => page.locator("#compose_to ul.recipient-input li.input input"),
    async addRecipients(page, list) {
      for (const r of list) await this.typing(page).pressSequentially(`${r},`, { delay: 5 });
      await page.waitForFunction((n) => document.querySelectorAll("#compose_to li.recipient").length === n, list.length);
    },
    send: (page) => page.locator("a.send, button.send").filter({ visible: true }).first(),
    // The filter's line for a refused send, in the message area.
    notSent: (page, line) => messages(page).filter({ hasText: line }),
  },
  larry: {
    bounceTo: (frame) => frame.locator("textarea#_to"),
    // What the toolbar's "Resend (bounce)" runs.
    openBounce: (page) => page.evaluate(() => window.rcmail.command("bounce")),
    url: (env) => env.larry,
    typing: (page) => page.locator("textarea#_to"),
    async addRecipients(page, list) {
      await this.typing(page).pressSequentially(list.join(", "), { delay: 5 });
    },
    send: (page) => page.locator("input.mainaction, a.button.send").filter({ visible: true }).first(),
    // Larry shows an error message as a box over the page, not in the message area.
    notSent: (page, line) => page.locator(".ui-dialog .popupdialog").filter({ visible: true, hasText: line }),
  },
};

let env;
let browser;
const sessions = {};

/** A fresh compose window on `skin` with the plugin ready; uncaught page errors fail the test. */
async function compose(t, skin) {
  const page = await sessions[skin].newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // The title of every dialog Roundcube opens, in order (kept across the page's navigations).
  page.dialogs = [];
  await page.exposeFunction("mistypeTestDialog", (title) => page.dialogs.push(title));
  t.after(async () => {
    await page.close();
    assert.deepEqual(errors, [], "uncaught errors in the page");
  });
  await page.goto(SKINS[skin].url(env) + "?_task=mail&_action=compose");
  await page.locator('html[data-mistype="ready"], html[data-mistype="failed"]').waitFor({ state: "attached" });
  const state = await page.getAttribute("html", "data-mistype");
  if (state !== "ready") {
    const shown = await page.locator("#messagestack").textContent();
    assert.fail(`the plugin did not start (${state}): ${shown}\n${await env.logs()}`);
  }
  await page.evaluate(() =>
    window.rcmail.addEventListener("dialog-open", (e) =>
      window.mistypeTestDialog(e.obj.closest(".ui-dialog").find(".ui-dialog-title").text()),
    ),
  );
  return page;
}

const chips = (page, field) => page.locator(`#compose_${field} ul.recipient-input li.recipient`);
const notes = (page, field) => page.locator(`.mistype-notes[data-mistype-for="${field}"]`);
/** The open dialog with this exact title. */
const dialog = (page, title) =>
  page.locator(".ui-dialog").filter({ visible: true, has: page.locator(".ui-dialog-title", { hasText: new RegExp(`^${title}$`) }) });
/** A dialog's button by its whole text (elastic's icons are part of a button's accessible name). */
const button = (d, name) =>
  d.locator(".ui-dialog-buttonpane button").filter({ hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) });
/** Roundcube's message area, one entry per message. */
const messages = (page) => page.locator("#messagestack > div");

async function subject(page, text) {
  await page.locator("#compose-subject").fill(text);
  await page.locator("#composebody").fill("Schedule attached.\n");
}

/** The focused element: its tag and its text. */
const focused = (page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    return a ? { tag: a.tagName, text: a.textContent.trim() } : null;
  });

/** The addresses in a dialog's list, in order. */
const listed = (d) => d.locator(".mistype-list li > code:first-child").allTextContents();

/** The filter's Roundcube counters now. */
async function filterCounts() {
  const c = await env.counters();
  const get = (name) => {
    const v = c[`mistype.api.roundcube.${name}`];
    assert.equal(typeof v, "number", `no counter mistype.api.roundcube.${name} in Envoy's /stats`);
    return v;
  };
  return { inspected: get("inspected"), allowed: get("allowed"), blocked: get("blocked"), confirmed: get("confirmed") };
}
const since = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));

/** The sink's deliveries of this subject, each as its sorted recipients. */
const delivered = (subj) =>
  env.smtp.messages.filter((m) => new RegExp(`^Subject: ${subj}$`, "m").test(m.data)).map((m) => [...m.rcpt].sort());

/**
 * Waits for the one delivery of `subj`, then for Roundcube to leave the compose window (after
 * which nothing more can be sent from it); returns the deliveries of `subj`.
 */
async function sentOnce(page, subj) {
  await env.smtp.waitFor((m) => new RegExp(`^Subject: ${subj}$`, "m").test(m.data));
  await messages(page).filter({ hasText: new RegExp(`^${SENT}$`) }).waitFor();
  await page.waitForURL((u) => u.searchParams.get("_action") !== "compose");
  return delivered(subj);
}

/**
 * Runs `step`, the send that follows a "nothing was sent" in the same window; if it fails, says
 * what had happened since `c0`: a send that went out before it is what usually makes it fail.
 */
async function thenSend(page, c0, subj, step) {
  try {
    return await step();
  } catch (e) {
    const counts = JSON.stringify(since(c0, await filterCounts()));
    throw new Error(
      `${e.message.split("\n")[0]}\nsince the start of the test: the filter counted ${counts}; ` +
        `deliveries of "${subj}": ${JSON.stringify(delivered(subj))}; dialogs: ${JSON.stringify(page.dialogs)}`,
    );
  }
}

/** A message with this subject in the user's inbox (Dovecot's maildir; it is read at the next look). */
async function deliverToInbox(subj) {
  const name = `${Date.now()}.${Math.random().toString(36).slice(2)}.mistype-test`;
  const text =
    `From: Lt J Smith <j.smith@navy.mil>\r\nTo: ${USER}\r\nSubject: ${subj}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${name}@test>\r\n\r\nMovement schedule.\r\n`;
  await writeFile(path.join(env.dir, "mail", USER, "new", name), text, { mode: 0o644 });
}

/**
 * The inbox on `skin` with the message `subj` selected, its "Resend (bounce)" dialog open (as its
 * toolbar's menu item opens it) and `to` typed into it; returns the page and the dialog.
 */
async function bounceDialog(page, skin, subj, to) {
  await page.goto(SKINS[skin].url(env) + "?_task=mail&_mbox=INBOX");
  await page.locator("#messagelist tr", { hasText: subj }).first().click();
  await page.waitForFunction(() => window.rcmail.commands.bounce);
  await SKINS[skin].openBounce(page);
  const d = dialog(page, "Resend \\(bounce\\)");
  await d.waitFor();
  const frame = page.frameLocator(".ui-dialog iframe");
  await SKINS[skin].bounceTo(frame).pressSequentially(`${to},`, { delay: 5 });
  return d;
}

/** Logs in on each skin once; one browser for the whole suite. */
async function setUp() {
  env = await roundcube();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: ARGS, timeout: 60_000 });
  for (const skin of Object.keys(SKINS)) {
    sessions[skin] = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await sessions[skin].newPage();
    await login(page, SKINS[skin].url(env), USER, PASSWORD).catch(async (e) => {
      throw new Error(`${skin}: ${e.message}\n${await env.logs()}`);
    });
    await page.close();
  }
}

export function roundcubeSuite() {
  describe("Roundcube plugin behind Envoy", () => {
    before(setUp);
    after(async () => {
      if (browser) await browser.close();
    });

    test("elastic: typing a typo shows the warning under the To box and in Roundcube's message area", async (t) => {
      const page = await compose(t, "elastic");
      const before = await page.locator("#compose_to ul.recipient-input").boundingBox();
      await SKINS.elastic.typing(page).pressSequentially("j.smith@navy.ml", { delay: 10 });
      const note = notes(page, "to").locator(".mistype-note");
      await note.waitFor();
      assert.equal(await note.getAttribute("data-severity"), "block");
      assert.match(await note.textContent(), /j\.smith@navy\.ml: Did you mean j\.smith@navy\.mil\?/);
      // Roundcube's own message area says it too.
      await messages(page).filter({ hasText: /^Blocked: To j\.smith@navy\.ml\. Did you mean j\.smith@navy\.mil\?$/ }).waitFor();
      // The note sits below the whole input group: the chip box keeps its width.
      const box = await page.locator("#compose_to ul.recipient-input").boundingBox();
      const noteBox = await note.boundingBox();
      assert.ok(noteBox.y >= box.y + box.height - 1, "the note is below the chip box");
      assert.ok(Math.abs(box.width - before.width) < 2, `the chip box was ${before.width}px wide, now ${box.width}px`);
      assert.ok(Math.abs(box.height - before.height) < 2, `the chip box was ${before.height}px high, now ${box.height}px`);
      await shot(page, "roundcube-1-warning");
    });

    test("elastic: the fix updates Roundcube's chips and its field, clears its message, and survives further edits", async (t) => {
      const page = await compose(t, "elastic");
      await SKINS.elastic.addRecipients(page, ["Lt J. Smith <j.smith@navy.ml>"]);
      const line = messages(page).filter({ hasText: /^Blocked: To j\.smith@navy\.ml\. Did you mean j\.smith@navy\.mil\?$/ });
      await line.waitFor();
      await notes(page, "to").getByRole("button", { name: "Change j.smith@navy.ml to j.smith@navy.mil", exact: true }).click();
      // At once, not when the line's own 8 s run out.
      assert.equal(await line.count(), 0, "the message the fix answers is still shown");
      await page.waitForFunction(() => document.querySelectorAll(".mistype-note").length === 0);
      assert.equal((await chips(page, "to").first().textContent()).trim(), "Lt J. Smith <j.smith@navy.mil>,");
      assert.equal(await page.inputValue("textarea[name=_to]"), "Lt J. Smith <j.smith@navy.mil>,");
      // Another recipient: Roundcube rebuilds its field from the chips; the typo stays gone.
      await SKINS.elastic.typing(page).pressSequentially("p@gmx.com,", { delay: 10 });
      await page.waitForFunction(() => document.querySelectorAll("#compose_to li.recipient").length === 2);
      assert.equal(await page.inputValue("textarea[name=_to]"), "Lt J. Smith <j.smith@navy.mil>,p@gmx.com,");
      assert.equal(await page.locator(".mistype-note").count(), 0);
      await shot(page, "roundcube-2-fixed");
    });

    test("elastic: the policy from the plugin's configuration is used", async (t) => {
      // roundcube-env.mjs sets mistype_policy to protect northwind-defence.com.
      const page = await compose(t, "elastic");
      await SKINS.elastic.addRecipients(page, ["ops@northwind-defense.com"]);
      const fix = notes(page, "to").locator(".mistype-fix");
      await fix.waitFor();
      assert.equal(await fix.textContent(), "ops@northwind-defence.com");
      assert.equal(await notes(page, "to").locator(".mistype-note").getAttribute("data-severity"), "block");
    });

    test("elastic: a clean send arrives without a question", async (t) => {
      const page = await compose(t, "elastic");
      await SKINS.elastic.addRecipients(page, ["y.clean@gmail.com"]);
      await subject(page, "elastic clean");
      const c0 = await filterCounts();
      await SKINS.elastic.send(page).click();
      assert.deepEqual(await sentOnce(page, "elastic clean"), [["y.clean@gmail.com"]]);
      assert.deepEqual(since(c0, await filterCounts()), { inspected: 1, allowed: 1, blocked: 0, confirmed: 0 });
      assert.deepEqual(page.dialogs, []);
    });

    test("elastic: a gmial.com send asks before it leaves; going back sends nothing; the fix sends to gmail.com", async (t) => {
      const page = await compose(t, "elastic");
      await SKINS.elastic.addRecipients(page, ["mate@gmial.com"]);
      await subject(page, "elastic provider typo");
      const c0 = await filterCounts();
      await SKINS.elastic.send(page).click();
      const d = dialog(page, CHECK_TITLE);
      await d.waitFor();
      assert.deepEqual(await listed(d), ["mate@gmial.com"]);
      assert.match(await d.locator(".mistype-list li").textContent(), /^mate@gmial\.com \(did you mean mate@gmail\.com\?\)/);
      await shot(page, "roundcube-6-gmial-asks");
      await button(d, "Go back and fix").click();
      await d.waitFor({ state: "detached" });
      // Then the fix, from the same question: exactly one send, to the fixed address.
      await thenSend(page, c0, "elastic provider typo", async () => {
        await SKINS.elastic.send(page).click();
        await button(dialog(page, CHECK_TITLE), "Send to mate@gmail.com instead").click();
        assert.deepEqual(await sentOnce(page, "elastic provider typo"), [["mate@gmail.com"]]);
      });
      assert.deepEqual(since(c0, await filterCounts()), { inspected: 1, allowed: 1, blocked: 0, confirmed: 0 });
      assert.deepEqual(page.dialogs, [CHECK_TITLE, CHECK_TITLE]);
    });

    test("larry: the warning and the fix in the textarea", async (t) => {
      const page = await compose(t, "larry");
      const to = SKINS.larry.typing(page);
      await to.pressSequentially("Lt J. Smith <j.smith@navy.ml>", { delay: 10 });
      const note = page.locator('td .mistype-notes[data-mistype-for="to"] .mistype-note');
      await note.waitFor();
      assert.match(await note.textContent(), /Did you mean j\.smith@navy\.mil\?/);
      await shot(page, "roundcube-larry-warning");
      await note.getByRole("button", { name: "Change j.smith@navy.ml to j.smith@navy.mil", exact: true }).click();
      assert.equal(await to.inputValue(), "Lt J. Smith <j.smith@navy.mil>");
      await page.waitForFunction(() => document.querySelectorAll(".mistype-note").length === 0);
    });

    for (const skin of Object.keys(SKINS)) {
      const S = SKINS[skin];

      test(`${skin}: the question before sending: Enter, Enter twice and Escape go back; the fix sends to the fixed address`, async (t) => {
        const page = await compose(t, skin);
        // The compose check asks about this one; the filter would let it through.
        await S.addRecipients(page, ["ops@northwind-defense.com"]);
        const subj = `${skin} check dialog`;
        await subject(page, subj);
        const c0 = await filterCounts();

        await S.send(page).click();
        const d = dialog(page, CHECK_TITLE);
        await d.waitFor();
        assert.deepEqual(await listed(d), ["ops@northwind-defense.com"]);
        // The safe action is the focused one; the buttons in tab order.
        assert.deepEqual(await focused(page), { tag: "BUTTON", text: "Go back and fix" });
        assert.deepEqual(await d.locator(".ui-dialog-buttonpane button").allTextContents(), [
          "Go back and fix",
          "Send to ops@northwind-defence.com instead",
          "Send anyway",
        ]);
        await shot(page, `roundcube-${skin}-check-dialog`);
        // Enter twice, as a user dismissing dialogs does.
        await page.keyboard.press("Enter");
        await page.keyboard.press("Enter");
        await d.waitFor({ state: "detached" });
        // Back in the recipient field.
        assert.equal(await S.typing(page).evaluate((e) => e === document.activeElement), true, "the To field has the focus");

        // Escape goes back too.
        await thenSend(page, c0, subj, async () => {
          await S.send(page).click();
          await dialog(page, CHECK_TITLE).waitFor();
        });
        await page.keyboard.press("Escape");
        await dialog(page, CHECK_TITLE).waitFor({ state: "detached" });

        // The fix from the dialog: Roundcube's own field is rewritten and the message goes.
        await thenSend(page, c0, subj, async () => {
          await S.send(page).click();
          await button(dialog(page, CHECK_TITLE), "Send to ops@northwind-defence.com instead").click();
          assert.deepEqual(await sentOnce(page, subj), [["ops@northwind-defence.com"]]);
        });
        // Exactly that one send reached the filter: none from Enter, Enter or Escape.
        assert.deepEqual(since(c0, await filterCounts()), { inspected: 1, allowed: 1, blocked: 0, confirmed: 0 });
        assert.deepEqual(page.dialogs, [CHECK_TITLE, CHECK_TITLE, CHECK_TITLE]);
      });

      test(`${skin}: confirmed, then refused by the filter for the same recipients: sent once, with no second question`, async (t) => {
        const page = await compose(t, skin);
        await S.addRecipients(page, ["Lt J. Smith <j.smith@navy.ml>", "ops@army.mil"]);
        const subj = `${skin} confirmed once`;
        await subject(page, subj);
        const c0 = await filterCounts();
        await S.send(page).click();
        const d = dialog(page, CHECK_TITLE);
        await d.waitFor();
        assert.deepEqual(await listed(d), ["j.smith@navy.ml"]);
        await shot(page, `roundcube-${skin}-asks`);
        await button(d, "Send anyway").click();
        // The filter refuses it; the plugin sends again with the filter's token, unasked.
        assert.deepEqual(await sentOnce(page, subj), [["j.smith@navy.ml", "ops@army.mil"]]);
        assert.deepEqual(since(c0, await filterCounts()), { inspected: 2, allowed: 0, blocked: 1, confirmed: 1 });
        assert.deepEqual(page.dialogs, [CHECK_TITLE]);
        await shot(page, `roundcube-${skin}-confirmed-sent`);
      });

      test(`${skin}: refused for a recipient the user did not confirm: the filter's question; Enter, Enter twice and Escape go back; Send anyway sends once`, async (t) => {
        const page = await compose(t, skin);
        await S.addRecipients(page, ["c@navy.ml", "x@amry.mil"]);
        const subj = `${skin} refused differs`;
        await subject(page, subj);
        const c0 = await filterCounts();
        // Asked about c@navy.ml only; confirmed; the filter refuses x@amry.mil as well.
        const confirmThenRefused = async () => {
          await S.send(page).click();
          const check = dialog(page, CHECK_TITLE);
          await check.waitFor();
          assert.deepEqual(await listed(check), ["c@navy.ml"]);
          await button(check, "Send anyway").click();
          const blocked = dialog(page, BLOCKED_TITLE);
          await blocked.waitFor();
          assert.deepEqual(await listed(blocked), ["c@navy.ml", "x@amry.mil"]);
          assert.deepEqual(await focused(page), { tag: "BUTTON", text: "Go back and fix" });
          return blocked;
        };
        let blocked = await confirmThenRefused();
        assert.deepEqual(await blocked.locator(".ui-dialog-buttonpane button").allTextContents(), [
          "Go back and fix",
          "Send to the suggested addresses instead",
          "Send anyway",
        ]);
        // Roundcube shows the filter's reason, not "Connection Error": elastic in its message
        // area (where it stays), larry in an error box that the plugin's dialog replaces.
        const reason = S.notSent(page, notSentLine("c@navy\\.ml \\(did you mean c@navy\\.mil\\?\\): .+; x@amry\\.mil \\(did you mean x@army\\.mil\\?\\): .+"));
        if (skin === "elastic") await reason.waitFor();
        else assert.equal(await reason.count(), 0, "larry's error box is still open over the plugin's dialog");
        await shot(page, `roundcube-${skin}-filter-blocked`);

        await page.keyboard.press("Enter");
        await page.keyboard.press("Enter");
        await blocked.waitFor({ state: "detached" });
        assert.equal(await S.typing(page).evaluate((e) => e === document.activeElement), true, "the To field has the focus");
        // The next round proves that Enter sent nothing: exactly one more refused send.
        blocked = await thenSend(page, c0, subj, confirmThenRefused);
        assert.deepEqual(since(c0, await filterCounts()), { inspected: 2, allowed: 0, blocked: 2, confirmed: 0 });
        // Long after the first refusal's frame has loaded: Roundcube took it as its own page.
        assert.equal(await page.getByText(/Connection Error/).count(), 0);
        await page.keyboard.press("Escape");
        await blocked.waitFor({ state: "detached" });

        // A deliberate "Send anyway" (Tab, Tab, Enter) sends it, once.
        blocked = await thenSend(page, c0, subj, confirmThenRefused);
        await page.keyboard.press("Tab");
        await page.keyboard.press("Tab");
        assert.equal((await focused(page)).text, "Send anyway");
        await page.keyboard.press("Enter");
        assert.deepEqual(await sentOnce(page, subj), [["c@navy.ml", "x@amry.mil"]]);
        assert.deepEqual(since(c0, await filterCounts()), { inspected: 4, allowed: 0, blocked: 3, confirmed: 1 });
        assert.deepEqual(page.dialogs, [CHECK_TITLE, BLOCKED_TITLE, CHECK_TITLE, BLOCKED_TITLE, CHECK_TITLE, BLOCKED_TITLE]);
      });

      test(`${skin}: the filter's question offers the fix: it replaces the recipient in Roundcube's field, clears the filter's message and sends`, async (t) => {
        const page = await compose(t, skin);
        // Not asked by the compose check (the plugin's policy knows amry.mil); the filter refuses it.
        await S.addRecipients(page, ["ops@army.mil", "Maj X <x@amry.mil>"]);
        const subj = `${skin} filter fix`;
        await subject(page, subj);
        const c0 = await filterCounts();
        await S.send(page).click();
        const blocked = dialog(page, BLOCKED_TITLE);
        await blocked.waitFor();
        assert.deepEqual(await listed(blocked), ["x@amry.mil"]);
        const line = S.notSent(page, notSentLine("x@amry\\.mil \\(did you mean x@army\\.mil\\?\\): .+"));
        if (skin === "elastic") await line.waitFor();
        await button(blocked, "Send to x@army.mil instead").click();
        // The line it answers goes at once.
        assert.equal(await line.count(), 0, "the filter's message is still shown after the fix");
        assert.deepEqual(await sentOnce(page, subj), [["ops@army.mil", "x@army.mil"]]);
        const msg = env.smtp.messages.find((m) => new RegExp(`^Subject: ${subj}$`, "m").test(m.data));
        assert.match(msg.data, /^To: ops@army\.mil, Maj X <x@army\.mil>\r?$/m);
        assert.deepEqual(since(c0, await filterCounts()), { inspected: 2, allowed: 1, blocked: 1, confirmed: 0 });
        assert.deepEqual(page.dialogs, [BLOCKED_TITLE]);
      });

      test(`${skin}: a bounce (Resend) to a typo is stopped with the reason; Enter goes back; the fix and Send anyway resend once each`, async (t) => {
        const page = await sessions[skin].newPage();
        page.setDefaultTimeout(20_000);
        const errors = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        t.after(async () => {
          await page.close();
          assert.deepEqual(errors, [], "uncaught errors in the page");
        });
        const subj = `${skin} bounce ${Date.now()}`;
        await deliverToInbox(subj);
        const c0 = await filterCounts();

        // Resent to the typo: refused, the line in the message area, then the question.
        let d = await bounceDialog(page, skin, subj, "j.smith@navy.ml");
        await button(d, "Resend").click();
        const blocked = dialog(page, BLOCKED_TITLE);
        await blocked.waitFor();
        assert.deepEqual(await listed(blocked), ["j.smith@navy.ml"]);
        const line = S.notSent(page, notSentLine("j\\.smith@navy\\.ml \\(did you mean j\\.smith@navy\\.mil\\?\\): .+"));
        if (skin === "elastic") await line.waitFor();
        assert.deepEqual(await focused(page), { tag: "BUTTON", text: "Go back and fix" });
        assert.deepEqual(await blocked.locator(".ui-dialog-buttonpane button").allTextContents(), [
          "Go back and fix",
          "Send to j.smith@navy.mil instead",
          "Send anyway",
        ]);
        await shot(page, `roundcube-${skin}-bounce-blocked`);
        await page.keyboard.press("Enter");
        await blocked.waitFor({ state: "detached" });
        assert.deepEqual(since(c0, await filterCounts()), { inspected: 1, allowed: 0, blocked: 1, confirmed: 0 });

        // Again, and the fix: resent to navy.mil, and only that (the refused one never left).
        await thenSend(page, c0, subj, async () => {
          d = await bounceDialog(page, skin, subj, "j.smith@navy.ml");
          await button(d, "Resend").click();
          await blocked.waitFor();
          await button(blocked, "Send to j.smith@navy.mil instead").click();
          await env.smtp.waitFor((m) => new RegExp(`^Subject: ${subj}$`, "m").test(m.data));
        });
        await messages(page).filter({ hasText: new RegExp(`^${SENT}$`) }).waitFor();
        assert.deepEqual(delivered(subj), [["j.smith@navy.mil"]]);
        assert.match(env.smtp.messages.find((m) => new RegExp(`^Subject: ${subj}$`, "m").test(m.data)).data, /^Resent-To: j\.smith@navy\.mil\r?$/m);

        // Again, and Send anyway: resent to the address as typed, once, confirmed.
        d = await bounceDialog(page, skin, subj, "j.smith@navy.ml");
        await button(d, "Resend").click();
        await blocked.waitFor();
        await button(blocked, "Send anyway").click();
        await env.smtp.waitFor((m) => new RegExp(`^Subject: ${subj}$`, "m").test(m.data) && m.rcpt.includes("j.smith@navy.ml"));
        assert.deepEqual(delivered(subj), [["j.smith@navy.mil"], ["j.smith@navy.ml"]]);
        assert.deepEqual(since(c0, await filterCounts()), { inspected: 5, allowed: 1, blocked: 3, confirmed: 1 });
      });
    }
  });
}
