// Roundcube 1.6 as it is (no mistype plugin), handing its mail over SMTP to the organisation's
// Postfix, whose policy service is mistype-smtpd (docs/smtp.md). The same Roundcube set-up as the
// other suites (roundcube-env.mjs: a fourth site whose SMTP host is a private Postfix relaying to
// the test's sink). The person sees the refusal's reason in Roundcube's own error message and
// confirms by sending again.
//
//   integrations/test.sh smtp
//
// Screenshots: $CARGO_TARGET_DIR/webmail-e2e/roundcube-smtp-*.png
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { USER, PASSWORD } from "./roundcube-env.mjs";
import { chromium, CHROMIUM, ARGS, shot, login, openCompose, roundcube } from "./common.mjs";

export function smtpSuite() {
  describe("Roundcube over SMTP (Postfix with mistype-smtpd)", () => {
    let env;
    let browser;
    let context;
    before(async () => {
      env = await roundcube();
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: ARGS, timeout: 60_000 });
      context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      await login(page, env.overSmtp, USER, PASSWORD).catch(async (e) => {
        throw new Error(`${e.message}\n${await env.logs()}`);
      });
      await page.close();
    });
    after(async () => {
      if (browser) await browser.close();
    });

    test("a navy.ml recipient: Roundcube shows the server's reason; sent again, it arrives confirmed", async (t) => {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      t.after(() => page.close());
      const to = await openCompose(page, env.overSmtp);
      await to.pressSequentially("Lt J. Smith <j.smith@navy.ml>,", { delay: 10 });
      await page.locator("#compose-subject").fill("over smtp");
      await page.locator("#composebody").fill("Schedule attached.\n");
      const send = page.locator("a.send, button.send").filter({ visible: true }).first();
      await send.click();
      // Roundcube's own error message, with the reason Postfix passed on from the policy service.
      const error = page.locator("#messagestack").getByText(/SMTP Error \(550\)/);
      await error.waitFor().catch(async (e) => {
        await shot(page, "roundcube-smtp-debug");
        const pflog = env.postfixLog ? readFileSync(env.postfixLog, "utf8").slice(-3000) : "";
        throw new Error(`${e.message}\n${await page.locator("#messagestack").textContent()}\n${pflog}\n${await env.logs()}`);
      });
      const shown = await error.textContent();
      assert.match(
        shown,
        /Failed to add recipient "j\.smith@navy\.ml".*navy\.ml is in Mali, not navy\.mil - did you mean j\.smith@navy\.mil\? To send it as written, send it again within 10 minutes\./s,
      );
      await shot(page, "roundcube-smtp-refused");
      await page.waitForTimeout(500);
      // The sink is shared with the other suites: this message is the one with this subject.
      const ours = (m) => m.rcpt.includes("j.smith@navy.ml") && /^Subject: over smtp\r?$/m.test(m.data);
      assert.equal(env.smtp.messages.filter(ours).length, 0, "nothing reached the sink");
      // The person decides it was meant: Send again, within the window.
      await send.click();
      const msg = await env.smtp.waitFor(ours);
      assert.match(msg.data, /^X-Mistype: confirmed j\.smith@navy\.ml: navy\.ml is in Mali, not navy\.mil - did you mean j\.smith@navy\.mil\?\r?$/m);
      assert.match(msg.data, /^Subject: over smtp\r?$/m);
      await page.locator("#messagestack").getByText(/sent successfully/i).waitFor().catch(() => {});
      await shot(page, "roundcube-smtp-confirmed");
    });

    test("a correctly addressed message goes through untouched", async (t) => {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      t.after(() => page.close());
      const to = await openCompose(page, env.overSmtp);
      await to.pressSequentially("d.jones@navy.mil,", { delay: 10 });
      await page.locator("#compose-subject").fill("over smtp clean");
      await page.locator("#composebody").fill("Schedule attached.\n");
      await page.locator("a.send, button.send").filter({ visible: true }).first().click();
      const msg = await env.smtp.waitFor((m) => m.rcpt.includes("d.jones@navy.mil") && /over smtp clean/.test(m.data));
      assert.doesNotMatch(msg.data, /X-Mistype/);
    });
  });
}
