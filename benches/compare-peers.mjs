#!/usr/bin/env node
// The accuracy table: mistype beside today's best open-source peers on the same corpus.
//
//   make accuracy            (builds the CLI, then runs this)
//   node benches/compare-peers.mjs [corpus.jsonl]
//
// Peers (from scripts/js/node_modules, installed by scripts/ensure-tools.sh):
//   mailcheck 1.1.1 and @zootools/email-spell-checker 1.12.0, each given the same reference
//   domains mistype's default policy lists (known, trusted, protected) plus the request's contacts,
//   on top of their own default second-level and top-level lists.
// mistype: the release CLI (`mistype check`) on the same requests, with its sender context.
//
// Scoring, per recipient of testdata/cases/corpus.jsonl:
//   typo  cases: caught = any suggestion/finding; right = the expected address among them;
//   legit cases: flagged = any suggestion/finding.
// Prints a markdown table (and the per-recipient time of the peers in Node).
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerSuggest, PEERS } from './peers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const corpusPath = process.argv[2] || join(root, 'testdata/cases/corpus.jsonl');
const cases = readFileSync(corpusPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('//'))
  .map((l) => JSON.parse(l));

function score(kind, results) {
  let typos = 0, caught = 0, right = 0, legit = 0, flagged = 0;
  for (const [c, got] of results) {
    if (c.group === 'typo') {
      typos += 1;
      if (got.length) caught += 1;
      if (got.includes(c.expect.suggestions[0])) right += 1;
    } else if (c.group === 'legit') {
      legit += 1;
      if (got.length) flagged += 1;
    }
  }
  const pct = (a, b, n = 1) => ((100 * a) / Math.max(b, 1)).toFixed(n) + '%';
  return { kind, typos, legit, caught: pct(caught, typos), right: pct(right, typos), flagged: pct(flagged, legit, 2) };
}

const rows = [];
for (const name of PEERS) {
  const results = [];
  const t0 = process.hrtime.bigint();
  for (const c of cases) {
    const email = c.request.to[0];
    const s = peerSuggest(name, email, c.request.contacts || []);
    results.push([c, s ? [s] : []]);
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / cases.length;
  rows.push({ ...score(name, results), us: us.toFixed(1) });
}

const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');
const bin = join(targetDir, 'release', 'mistype');
const input = cases.map((c) => JSON.stringify(c.request)).join('\n') + '\n';
const t0 = process.hrtime.bigint();
const out = execFileSync(bin, ['check'], { input, maxBuffer: 1 << 28 }).toString();
const us = Number(process.hrtime.bigint() - t0) / 1000 / cases.length;
const verdicts = out.trim().split('\n').map((l) => JSON.parse(l));
const results = cases.map((c, i) => [c, (verdicts[i].findings || []).map((f) => f.suggestion ?? '(finding)')]);
rows.push({ ...score('mistype', results), us: `${us.toFixed(1)} (whole CLI run incl. start-up and JSON)` });

console.log(`Corpus: ${corpusPath.replace(root + '/', '')}: ${rows[0].typos} misaddressed recipients, ${rows[0].legit} correctly addressed.\n`);
console.log('| checker | typos caught | right suggestion | correct recipients flagged | µs per recipient |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.kind} | ${r.caught} | ${r.right} | ${r.flagged} | ${r.us} |`);
