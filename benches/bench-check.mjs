#!/usr/bin/env node
// Throughput of `mistype check` on JSON lines beside mailcheck on the same requests and policy.
//
//   make bench-check       (builds the release CLI, then runs this)
//   node benches/bench-check.mjs                  # the comparison (best of three runs each)
//   node benches/bench-check.mjs --write FILE     # only write the request file (to compare
//                                                 # outputs of two builds byte for byte)
//
// The requests: 40,000 check requests, deterministic, in a fixed interleaved order:
// - 10,000 misaddressed: the `typo` cases of testdata/cases/corpus.jsonl, cycled;
// - 10,000 correctly addressed from the corpus's `legit` cases, cycled (reference domains,
//   held-out real domains beside providers, organisation names, IDNs, subdomains);
// - 20,000 correctly addressed to the reference domains of the default policy, each in turn,
//   every fourth with a display name, from a handful of senders.
// mailcheck 1.1.1 (scripts/js/node_modules) suggests for every recipient of every request, in
// Node, given the same reference domains (the ~950 names of mistype's default policy: the same
// policy), and, for scale, with its own 30-odd default domains (how it is usually deployed).
// mistype: the release CLI (`mistype check`, all cores, verdicts in order) reading the same
// requests from a file, the whole run: start-up, JSON in and out. Best of three runs each.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { tmpdir, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'scripts/js/package.json'));
const Mailcheck = require('mailcheck');

const corpus = readFileSync(join(root, 'testdata/cases/corpus.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('//'))
  .map((l) => JSON.parse(l));
const typos = corpus.filter((c) => c.group === 'typo').map((c) => c.request);
const legit = corpus.filter((c) => c.group === 'legit').map((c) => c.request);

const policy = JSON.parse(readFileSync(join(root, 'data/default-policy.json'), 'utf8'));
const policyDomains = [...policy.known, ...policy.trusted, ...policy.protected.filter((p) => !p.startsWith('*'))];

const people = [['Jane', 'Doe'], ['Pieter', 'de Vries'], ['Claire', 'Martin'], ['Ray', 'Kowalski'], ['Amina', 'Okafor'], ['Li', 'Wei'], ['Sven', 'Larsen']];
const senders = ['ray.k@army.mil', 'ops@acme-logistics.com', 'friend@gmail.com', 'k@mindef.nl', 'x@orange.fr', 'z@defence.gov.au'];
function clean(i) {
  const [first, last] = people[i % people.length];
  const local = `${first}.${last.replace(' ', '')}`.toLowerCase();
  const domain = policyDomains[i % policyDomains.length];
  const to = i % 4 === 3 ? `${first} ${last} <${local}@${domain}>` : `${local}@${domain}`;
  return { from: senders[i % senders.length], to: [to] };
}
// Interleaved: a typo, a corpus legit, two clean ones; repeated.
const requests = [];
for (let i = 0; requests.length < 40000; i++) {
  requests.push(typos[i % typos.length], legit[i % legit.length], clean(2 * i), clean(2 * i + 1));
}
const lines = requests.map((r) => JSON.stringify(r)).join('\n') + '\n';

const write = process.argv.indexOf('--write');
if (write >= 0) {
  writeFileSync(process.argv[write + 1], lines);
  process.exit(0);
}

const recipients = requests.reduce((n, r) => n + [r.to, r.cc, r.bcc].flat().filter(Boolean).length, 0);

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
const mcPolicy = best(mailcheck(policyDomains));
const mcDefault = best(mailcheck(null));

const dir = mkdtempSync(join(tmpdir(), 'mistype-bench-check-'));
const input = join(dir, 'requests.jsonl');
writeFileSync(input, lines);
const bin = join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'release', 'mistype');
let verdicts = 0;
const ms = best(() => {
  const out = execFileSync(bin, ['check', input], { maxBuffer: 1 << 30 });
  verdicts = out.toString().split('\n').length - 1;
});
rmSync(dir, { recursive: true, force: true });
if (verdicts !== requests.length) throw new Error(`mistype wrote ${verdicts} verdicts for ${requests.length} requests`);

const rate = (t) => Math.round(requests.length / t).toLocaleString('en');
console.log(`${requests.length.toLocaleString('en')} requests (${recipients.toLocaleString('en')} recipients), ${cpus().length} cores, best of 3:\n`);
console.log('| checker | seconds | requests/s | mistype is |');
console.log('|---|---|---|---|');
console.log(`| mailcheck 1.1.1, given the policy's ${policyDomains.length} domains (Node) | ${mcPolicy.toFixed(2)} | ${rate(mcPolicy)} | ${(mcPolicy / ms).toFixed(1)}x faster |`);
console.log(`| mailcheck 1.1.1, its 30-odd default domains (Node) | ${mcDefault.toFixed(2)} | ${rate(mcDefault)} | ${(mcDefault / ms).toFixed(2)}x |`);
console.log(`| mistype check (release CLI, whole run) | ${ms.toFixed(2)} | ${rate(ms)} | |`);
if (sink < 0) console.log(sink);
