// What the browser extension's page watching costs: one look at the page (the generic adapter's
// fields: every input, textarea, contenteditable and textbox/combobox with its accessible name,
// as content.js does at most every 250 ms while the page changes) and the work of one click on
// Send (finding the compose window), on a page shaped like a big webmail's inbox with an open
// compose window, in headless Chromium.
//
//   node benches/measure-extension-scan.mjs [--rows N] [--runs N]
//
// Prints the page's element count and the medians in milliseconds.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const require = createRequire(path.join(repo, "scripts", "js", "package.json"));
const { chromium } = require("playwright-core");
const arg = (name, d) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : d);
const ROWS = arg("--rows", 2000);
const RUNS = arg("--runs", 51);

const server = createServer(async (req, res) => {
  if (req.url === "/compose.js") {
    res.writeHead(200, { "content-type": "text/javascript" });
    res.end(await readFile(path.join(repo, "web-lint", "js", "compose.js")));
    return;
  }
  res.writeHead(200, { "content-type": "text/html" });
  res.end("<!DOCTYPE html><html><body></body></html>");
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const result = await page.evaluate(
    async ({ ROWS, RUNS }) => {
      const { genericAdapter } = await import("/compose.js");
      // An inbox: each row a checkbox, a star button, sender, subject, snippet, date, actions.
      const rows = [];
      for (let i = 0; i < ROWS; i++) {
        rows.push(
          `<tr><td><input type="checkbox" aria-label="Select"></td><td><div role="button" aria-label="Star">☆</div></td>` +
            `<td><span email="sender${i}@example.com">Sender ${i}</span></td><td><a href="#m${i}">Subject ${i}</a> ` +
            `<span class="snippet">Snippet text of message ${i}</span></td><td>12:${i % 60}</td>` +
            `<td><div role="button" aria-label="Archive">A</div><div role="button" aria-label="Delete">D</div></td></tr>`,
        );
      }
      document.body.innerHTML =
        `<input type="search" aria-label="Search mail"><table>${rows.join("")}</table>` +
        `<div class="compose" role="dialog" aria-label="New Message">` +
        `<div contenteditable="true" role="textbox" aria-label="To recipients"></div>` +
        `<div contenteditable="true" role="textbox" aria-label="Cc recipients"></div>` +
        `<input aria-label="Subject"><div contenteditable="true" role="textbox" aria-label="Message Body"></div>` +
        `<div role="button" id="send" aria-label="Send (Ctrl-Enter)">Send</div></div>`;
      const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
      const time = (fn) => {
        const out = [];
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          fn();
          out.push(performance.now() - t0);
        }
        return median(out);
      };
      const opts = { fields: [], labels: {} };
      const fields = genericAdapter.fields(document, opts);
      const nodes = fields.map((f) => f.node);
      return {
        elements: document.getElementsByTagName("*").length,
        fields: fields.map((f) => f.key),
        scan: time(() => genericAdapter.fields(document, opts)),
        sendControls: time(() => genericAdapter.sendControls(document)),
        canStop: time(() => genericAdapter.canStop(document, nodes[0], () => nodes)),
      };
    },
    { ROWS, RUNS },
  );
  console.log(`page: ${result.elements} elements (${ROWS} inbox rows), fields found: ${result.fields.join(", ")}`);
  console.log(`one look at the page (fields):      median ${result.scan.toFixed(2)} ms`);
  console.log(`Send controls of the page:           median ${result.sendControls.toFixed(2)} ms`);
  console.log(`can a field's send be stopped:       median ${result.canStop.toFixed(2)} ms`);
} finally {
  await browser.close();
  server.close();
}
