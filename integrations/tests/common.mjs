// Shared by the webmail tests: paths, the browser, screenshots.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { mkdir } from "node:fs/promises";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, "..", "..");
export const target = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
export const pkgDir = path.join(repo, "web-lint", "pkg");
export const wasm = path.join(target, "wasm32-wasip1", "wasm", "mistype_filter.wasm");
export const shots = path.join(target, "webmail-e2e");
// mistype-smtpd, for Roundcube sending over SMTP (smtp.suite.mjs).
export const smtpd = path.join(target, "debug", "mistype-smtpd");
const require = createRequire(path.join(repo, "scripts", "js", "package.json"));
export const { chromium } = require("playwright-core");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"];

export async function shot(page, name) {
  await mkdir(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

/**
 * Logs in to Roundcube and waits for the mailbox. A login that does not get there fails with
 * where the page is and what Roundcube shows (a refused login, an invalid request, a proxy's
 * error page), not with the wait's timeout alone.
 */
export async function login(page, url, user, password) {
  await page.goto(url + "?_task=login");
  await page.locator("#rcmloginuser").fill(user);
  await page.locator("#rcmloginpwd").fill(password);
  await page.locator("#rcmloginsubmit").click();
  try {
    await page.waitForURL(/_task=mail/);
  } catch (e) {
    const shows = await shown(page);
    throw new Error(`the login at ${url} did not reach the mailbox: the page is ${page.url()} and shows ${JSON.stringify(shows)} (${e.message.split("\n")[0]})`);
  }
  // The mailbox's own requests (the message list, the unread counts) each write the session when
  // they end. One still running when the next page opens the compose window can write back a
  // session without the compose window's data, and Roundcube then has no such compose window.
  await page.waitForLoadState("networkidle");
}

/** What the page shows: Roundcube's message, or the start of its text. */
async function shown(page) {
  return page
    .evaluate(() => (document.querySelector("#messagestack")?.innerText || document.body?.innerText || "").trim().slice(0, 300))
    .catch((err) => `(unreadable: ${err.message})`);
}

/**
 * Opens Roundcube's compose window at `url` (elastic) and returns its recipient input once it is
 * there; one that never comes fails with where the page is and what it shows.
 */
export async function openCompose(page, url) {
  await page.goto(url + "?_task=mail&_action=compose");
  const input = page.locator("#compose_to ul.recipient-input li.input input");
  try {
    await input.waitFor();
  } catch (e) {
    throw new Error(`the compose window at ${url} shows no recipient field: the page is ${page.url()} and shows ${JSON.stringify(await shown(page))} (${e.message.split("\n")[0]})`);
  }
  return input;
}

// --- One Roundcube set-up for every suite of the run (webmail.test.mjs stops it at the end).
let started = null;
export function roundcube() {
  if (!started) {
    started = (async () => {
      const { stat } = await import("node:fs/promises");
      const { startRoundcube } = await import("./roundcube-env.mjs");
      await stat(wasm).catch(() => {
        throw new Error(`the filter is not built (${wasm}); run filter/build.sh`);
      });
      await stat(path.join(pkgDir, "mistype_web_lint_bg.wasm")).catch(() => {
        throw new Error("web-lint/pkg is not built; run web-lint/build.sh");
      });
      // Roundcube over SMTP through Postfix and mistype-smtpd when that suite runs.
      const only = process.env.MISTYPE_WEBMAIL || "all";
      const withSmtp = only === "all" || only === "smtp";
      if (withSmtp) {
        await stat(smtpd).catch(() => {
          throw new Error(`mistype-smtpd is not built (${smtpd}); run cargo build -p mistype-smtp`);
        });
      }
      return startRoundcube({ repo, pkgDir, wasm, smtpd: withSmtp ? smtpd : null });
    })();
  }
  return started;
}

export async function stopRoundcube() {
  const env = started ? await started.catch(() => null) : null;
  if (env) await env.stop();
}
