#!/usr/bin/env node
// Throughput of `mistype check` on JSON lines beside mailcheck on the same requests.
//
//   make bench-check       (builds the release CLI, then runs this)
//   node benches/bench-check.mjs [REPEAT]
//
// The requests: every request of testdata/cases/corpus.jsonl, repeated REPEAT times (default
// 20; 136,220 requests). mailcheck 1.1.1 (scripts/js/node_modules) suggests for every recipient
// of every request, in Node, with its own default domain lists (the way it is deployed), and
// again given the ~950 domains of mistype's default policy. mistype: the release CLI
// (`mistype check`, all cores, verdicts in order) reading the same requests from a file, the
// whole run including start-up and JSON in and out. Best of three runs each.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { tmpdir, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'scripts/js/package.json'));
const Mailcheck = require('mailcheck');

const repeat = Number(process.argv[2] || 20);
const base = readFileSync(join(root, 'testdata/cases/corpus.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('//'))
  .map((l) => JSON.parse(l).request);
const requests = [];
for (let i = 0; i < repeat; i++) requests.push(...base);
const recipients = requests.reduce((n, r) => n + [r.to, r.cc, r.bcc].flat().filter(Boolean).length, 0);

const policy = JSON.parse(readFileSync(join(root, 'data/default-policy.json'), 'utf8'));
const policyDomains = [...policy.known, ...policy.trusted, ...policy.protected.filter((p) => !p.startsWith('*'))];

function best(f) {
  let t = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    f();
    t = Math.min(t, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return t;
}

let sink = 0;
const mailcheck = (domains) => () => {
  for (const r of requests) {
    for (const email of [r.to, r.cc, r.bcc].flat().filter(Boolean)) {
      const s = domains ? Mailcheck.suggest(email, domains) : Mailcheck.suggest(email);
      if (s) sink++;
    }
  }
};
const mcDefault = best(mailcheck(null));
// Given the policy's domains it scans them all per recipient: one round is enough to time.
const few = requests.slice(0, Math.min(requests.length, 5000));
const t0 = process.hrtime.bigint();
for (const r of few) for (const email of [r.to].flat()) if (Mailcheck.suggest(email, policyDomains)) sink++;
const mcPolicy = (Number(process.hrtime.bigint() - t0) / 1e9) * (requests.length / few.length);

const dir = mkdtempSync(join(tmpdir(), 'mistype-bench-check-'));
const input = join(dir, 'requests.jsonl');
writeFileSync(input, requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
const bin = join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'release', 'mistype');
let lines = 0;
const ms = best(() => {
  const out = execFileSync(bin, ['check', input], { maxBuffer: 1 << 30 });
  lines = out.toString().split('\n').length - 1;
});
rmSync(dir, { recursive: true, force: true });
if (lines !== requests.length) throw new Error(`mistype wrote ${lines} verdicts for ${requests.length} requests`);

const rate = (t) => Math.round(requests.length / t).toLocaleString('en');
console.log(`${requests.length.toLocaleString('en')} requests (${recipients.toLocaleString('en')} recipients), ${cpus().length} cores, best of 3:\n`);
console.log('| checker | seconds | requests/s | mistype is |');
console.log('|---|---|---|---|');
console.log(`| mailcheck 1.1.1, its default domains (Node) | ${mcDefault.toFixed(2)} | ${rate(mcDefault)} | ${(mcDefault / ms).toFixed(1)}x faster |`);
console.log(`| mailcheck 1.1.1, given the policy's domains (Node; timed on ${few.length} requests) | ${mcPolicy.toFixed(2)} | ${rate(mcPolicy)} | ${(mcPolicy / ms).toFixed(1)}x faster |`);
console.log(`| mistype check (release CLI, whole run) | ${ms.toFixed(2)} | ${rate(ms)} | |`);
if (sink < 0) console.log(sink);
