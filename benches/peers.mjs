// The open-source peers mistype is measured against, as both measurements call them
// (benches/compare-peers.mjs on the corpus, benches/accuracy/field.py on held-out data):
// mailcheck 1.1.1 and @zootools/email-spell-checker 1.12.0 (from scripts/js/node_modules,
// installed by scripts/ensure-tools.sh), each given the reference domains mistype's default
// policy lists (known, trusted, protected) plus the request's contacts, on top of their own
// default second-level and top-level lists.
//
// As a module: `peerSuggest(name, email, contacts)`. As a program, for other languages:
//   node benches/peers.mjs < requests.jsonl     # {"to": "x@domain", "contacts": [...]} per line
// prints one line per request: {"mailcheck": suggestion or null, "email-spell-checker": ...}.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'scripts/js/package.json'));
const Mailcheck = require('mailcheck');
const ESC = require('@zootools/email-spell-checker');

export const PEERS = ['mailcheck', 'email-spell-checker'];

const policy = JSON.parse(readFileSync(join(root, 'data/default-policy.json'), 'utf8'));
const policyDomains = [
  ...policy.known,
  ...policy.trusted,
  ...policy.protected.filter((p) => !p.startsWith('*')),
];
const tlds = (domains, base) => {
  const s = new Set(base);
  for (const d of domains) {
    const parts = d.split('.');
    s.add(parts.slice(1).join('.'));
    s.add(parts[parts.length - 1]);
  }
  return [...s];
};
const domainOf = (c) => (c.includes('@') ? c.slice(c.lastIndexOf('@') + 1) : c).toLowerCase();

/** The peer's suggested address for `email`, or null; a suggestion equal to what was typed is
 * none. */
export function peerSuggest(name, email, contacts = []) {
  const domains = [...policyDomains, ...contacts.map(domainOf)];
  let out = null;
  if (name === 'mailcheck') {
    const r = Mailcheck.suggest(
      email,
      domains,
      Mailcheck.defaultSecondLevelDomains,
      tlds(domains, Mailcheck.defaultTopLevelDomains),
    );
    out = r ? r.full : null;
  } else if (name === 'email-spell-checker') {
    ESC.run({
      email,
      domains,
      topLevelDomains: tlds(domains, ESC.POPULAR_TLDS),
      suggested: (s) => { out = s.full; },
      empty: () => { out = null; },
    });
  } else {
    throw new Error(`unknown peer: ${name}`);
  }
  return out && out.toLowerCase() !== email.toLowerCase() ? out : null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const lines = readFileSync(0, 'utf8').split('\n').filter((l) => l.trim());
  const out = [];
  for (const l of lines) {
    const r = JSON.parse(l);
    const row = {};
    for (const p of PEERS) row[p] = peerSuggest(p, r.to, r.contacts || []);
    out.push(JSON.stringify(row));
  }
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}
