#!/usr/bin/env python3
"""Field accuracy: mistype on data it was never tuned on (issue 13's held-out measurement).

Everything here is generated at run time from public packages, downloaded into a cache that is
not committed, so nothing of it can leak into the test corpus:

- typos: dnstwist's fuzzers (PyPI `dnstwist`, pinned below), run offline as a library on 44
  domains drawn with a fixed seed from the default policy (15 protected, 15 known providers,
  14 trusted organisations). Keyboard slips are its omission, insertion, addition, repetition,
  transposition, replacement and vowel-swap fuzzers; lookalikes its homoglyph, cyrillic,
  hyphenation, subdomain and "various" (dot changes) fuzzers. Each is sent from a neutral sender
  (a Gmail user) and from the same organisation (a sender at the intended domain).
- suffix habit slips: every protected domain of the policy under a government or military
  suffix, with the suffix a colleague's hand may type instead: `.com`, `.org`, `.net`; a
  multi-label suffix with its first label dropped (`mod.gov.uk` -> `mod.uk`) or replaced by the
  country's commercial second level as the Public Suffix List has it (`gov.uk` -> `co.uk`,
  `gov.au` -> `com.au`); sent from the intended domain.
- real registered domains: npm `email-providers` (all.json), `free-email-domains`,
  `disposable-email-domains` (index.json) and the university domains of
  `academic-email-verifier` (its `domains/` tree, JetBrains' swot layout), each from a neutral
  and an `army.mil` sender. Recipients under `.ml` from the `.mil` sender (the policy's
  `*.mil` -> `*.ml` rule) are not counted, as the issue says, and neither are findings of kind
  `risky-destination` (a rule's).

A typo is caught when its recipient has a finding; right when one of the findings suggests the
domain it came from (a tie reports every equally likely domain). Permutations that are
themselves domains of the policy are left out (they are correct addresses).

With `--peers`, mailcheck and email-spell-checker (benches/peers.mjs, given the same policy
domains) run on the same typos and real domains from the neutral sender, for the README's table
beside them. `--seed N` draws another 44 domains.

Usage:
    python3 benches/accuracy/field.py [--mistype PATH] [--cache DIR] [--json OUT] [--misses N]
                                      [--peers] [--seed N]
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tarfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# dnstwist splits names at the public suffix with the optional `tld` package (without it,
# `intradef.gouv.fr` would be permuted in `gouv`).
PYPI = ["dnstwist==20250130", "tld==0.13.1"]
NPM = {
    "email-providers": "2.26.0",
    "free-email-domains": "1.12.6",
    "disposable-email-domains": "1.0.62",
    "academic-email-verifier": "3.1.0",
}
KEYBOARD = ["omission", "insertion", "addition", "repetition", "transposition", "replacement",
            "vowel-swap"]
LOOKALIKE = ["homoglyph", "cyrillic", "hyphenation", "subdomain", "various"]
# Homoglyph permutations of long names run to thousands (two substitutions); each domain and
# fuzzer contributes at most this many, drawn with the fixed seed, so long names do not dominate.
PER_FUZZER_CAP = 150
SEED = 13
NEUTRAL = "someone@gmail.com"
MIL = "someone@army.mil"
# The examples of issue 13's precision section: real domains that must be left alone.
EXAMPLES = ["usma.edu", "stamford.edu", "emich.edu", "uca.edu", "acm.ac.uk", "asu.edu.ru",
            "canford.com", "hot-mail.cf", "lnu.se", "51xyz域名.xyz"]


def cache_dir(arg):
    d = arg or os.environ.get("MISTYPE_FIELD_CACHE") or os.path.join(HERE, ".cache")
    os.makedirs(d, exist_ok=True)
    return d


def ensure_dnstwist(cache):
    target = os.path.join(cache, "py")
    if not os.path.exists(os.path.join(target, "dnstwist.py")):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        "--disable-pip-version-check", "--target", target, *PYPI], check=True)
    sys.path.insert(0, target)
    import dnstwist  # noqa: E402  (installed above, into the cache)
    return dnstwist


def ensure_npm(cache, name, version):
    """The unpacked npm package (registry tarball via `npm pack`), as a directory."""
    d = os.path.join(cache, "npm", f"{name}-{version}")
    if not os.path.isdir(d):
        os.makedirs(os.path.join(cache, "npm"), exist_ok=True)
        out = subprocess.run(["npm", "pack", "-q", f"{name}@{version}"], check=True,
                             cwd=os.path.join(cache, "npm"), capture_output=True, text=True)
        tgz = os.path.join(cache, "npm", out.stdout.strip().splitlines()[-1])
        with tarfile.open(tgz) as t:
            t.extractall(d, filter="data")
        os.remove(tgz)
    return os.path.join(d, "package")


def real_domains(cache):
    """{source: [domain, ...]} from the public lists."""
    out = {}
    p = ensure_npm(cache, "email-providers", NPM["email-providers"])
    out["email-providers (free mail)"] = json.load(open(os.path.join(p, "all.json")))
    p = ensure_npm(cache, "free-email-domains", NPM["free-email-domains"])
    out["free-email-domains (free mail)"] = json.load(open(os.path.join(p, "domains.json")))
    p = ensure_npm(cache, "disposable-email-domains", NPM["disposable-email-domains"])
    out["disposable-email-domains (throwaway)"] = json.load(open(os.path.join(p, "index.json")))
    p = ensure_npm(cache, "academic-email-verifier", NPM["academic-email-verifier"])
    unis = []
    base = os.path.join(p, "domains")
    for dirpath, _, files in os.walk(base):
        rel = os.path.relpath(dirpath, base)
        labels = [] if rel == "." else rel.split(os.sep)
        for f in files:
            if f.endswith(".txt"):
                unis.append(".".join([f[:-4]] + labels[::-1]))
    out["academic-email-verifier (universities)"] = sorted(unis)
    return {k: sorted({d.strip().lower() for d in v if d and "." in d}) for k, v in out.items()}


def policy(mistype):
    return json.loads(subprocess.run([mistype, "policy", "--default"], check=True,
                                     capture_output=True, text=True).stdout)


def sample_targets(pol, seed=SEED):
    rng = random.Random(seed)
    explicit = lambda xs: [d for d in xs if "*" not in d]
    return (rng.sample(explicit(pol["protected"]), 15) + rng.sample(pol["known"], 15)
            + rng.sample(pol["trusted"], 14))


def permutations(dnstwist, targets, fuzzers):
    rng = random.Random(SEED)
    out = []  # (fuzzer, typo, intended)
    for t in targets:
        f = dnstwist.Fuzzer(t)
        f.generate(fuzzers=fuzzers)
        by = collections.defaultdict(set)
        for p in f.domains:
            if p["domain"] != t:
                by[p["fuzzer"]].add(p["domain"])
        for fz in fuzzers:
            ds = sorted(by.get(fz, ()))
            if len(ds) > PER_FUZZER_CAP:
                ds = sorted(rng.sample(ds, PER_FUZZER_CAP))
            out += [(fz, d, t) for d in ds]
    return out


def psl_rules():
    rules = set()
    for line in open(os.path.join(ROOT, "data", "public_suffix_list.dat"), encoding="utf-8"):
        if "===END ICANN DOMAINS===" in line:
            break
        line = line.strip()
        if line and not line.startswith("//"):
            rules.add(line)
    return rules


def habit_slips(pol):
    """Suffix habit slips of protected domains under government or military suffixes."""
    rules = psl_rules()
    out = []
    for d in (x for x in pol["protected"] if "*" not in x):
        labels = d.split(".")
        # The longest public suffix of the domain.
        suffix = next((".".join(labels[i:]) for i in range(1, len(labels))
                       if ".".join(labels[i:]) in rules), labels[-1])
        if suffix in ("com", "org", "net") or suffix.split(".")[0] in ("com", "co", "org", "net"):
            continue
        name = d[: -len(suffix) - 1]
        slips = {f"{name}.{s}" for s in ("com", "org", "net")}
        parts = suffix.split(".")
        if len(parts) > 1:
            cc = parts[-1]
            slips.add(f"{name}.{'.'.join(parts[1:])}")
            for commercial in (f"co.{cc}", f"com.{cc}"):
                if commercial in rules:
                    slips.add(f"{name}.{commercial}")
                    break
        out += [("habit", s, d) for s in sorted(slips) if s != d]
    return out


def run(mistype, requests):
    """Verdicts for [(from, recipient_domain)], in order."""
    lines = "".join(json.dumps({"from": f, "to": [f"x@{d}"]}) + "\n" for f, d in requests)
    out = subprocess.run([mistype, "check"], input=lines, check=True, capture_output=True,
                         text=True).stdout
    return [json.loads(l) for l in out.splitlines()]


def counted(findings):
    return [f for f in findings if f["kind"] != "risky-destination"]


def score_typos(mistype, cases, senders):
    """{(category, sender): (n, caught, right)} plus per-fuzzer rows."""
    reqs, keys = [], []
    for fz, typo, want in cases:
        for label, sender in senders(want):
            reqs.append((sender, typo))
            keys.append((fz, typo, want, label))
    verdicts = run(mistype, reqs)
    table = collections.defaultdict(lambda: [0, 0, 0])
    missed = collections.defaultdict(list)
    for (fz, typo, want, label), v in zip(keys, verdicts):
        fs = v.get("findings") or []
        caught = bool(fs)
        right = any(f.get("suggestion") == f"x@{want}" for f in fs)
        for key in ((fz, label), ("all", label)):
            row = table[key]
            row[0] += 1
            row[1] += caught
            row[2] += right
        if not right:
            missed[(fz, label)].append((typo, want, [(f["kind"], f.get("suggestion")) for f in fs]))
    return table, missed


def unicode_of(domain):
    """The domain as a user types it (punycode labels decoded), for the peers."""
    out = []
    for label in domain.split("."):
        try:
            out.append(label.encode("ascii").decode("idna") if label.startswith("xn--") else label)
        except UnicodeError:
            out.append(label)
    return ".".join(out)


def run_peers(domains):
    """The peers' suggestions (benches/peers.mjs) for x@domain, in order: [{peer: address}]."""
    lines = "".join(json.dumps({"to": f"x@{unicode_of(d)}"}) + "\n" for d in domains)
    out = subprocess.run(["node", os.path.join(ROOT, "benches", "peers.mjs")], input=lines,
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines()]


def peer_rows(typo_sets, real, mine):
    """Markdown rows: each peer beside mistype, neutral sender, on the same typos and domains."""
    peers = ["mailcheck", "email-spell-checker"]
    rows = []
    for name, cases in typo_sets:
        got = run_peers([typo for _, typo, _ in cases])
        cells = []
        for p in peers:
            caught = sum(1 for g in got if g[p])
            right = sum(1 for g, (_, _, want) in zip(got, cases)
                        if (g[p] or "").lower() == f"x@{want}")
            cells.append(f"{pct(caught, len(cases))} / {pct(right, len(cases))}")
        m = mine[f"{name}/all/neutral"]
        cells.append(f"{pct(m['caught'], m['n'])} / {pct(m['right'], m['n'])}")
        rows.append(f"| {name} ({len(cases):,}): caught / right | " + " | ".join(cells) + " |")
    domains = [d for ds in real.values() for d in ds]
    got = run_peers(domains)
    cells = [f"{100.0 * sum(1 for g in got if g[p]) / len(domains):.2f}%" for p in peers]
    m = mine["real/all/neutral"]
    cells.append(f"{100.0 * m['flagged'] / m['n']:.2f}%")
    rows.append(f"| real registered domains ({len(domains):,}): flagged | " + " | ".join(cells) + " |")
    return rows


def pct(a, n):
    return f"{100.0 * a / n:.1f}%" if n else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--mistype", default=os.path.join(target_dir, "release", "mistype"))
    ap.add_argument("--cache")
    ap.add_argument("--json", help="write the figures as JSON here")
    ap.add_argument("--misses", type=int, default=0, help="list this many misses per row")
    ap.add_argument("--peers", action="store_true",
                    help="also run mailcheck and email-spell-checker (neutral sender; minutes)")
    ap.add_argument("--seed", type=int, default=SEED,
                    help="draw another 44 domains (the figures in docs/ use the default)")
    args = ap.parse_args()
    cache = cache_dir(args.cache)
    dnstwist = ensure_dnstwist(cache)
    pol = policy(args.mistype)
    references = set(pol["known"]) | set(pol["trusted"]) | {
        d for d in pol["protected"] if "*" not in d}
    targets = sample_targets(pol, args.seed)

    def keep(cases):
        return [c for c in cases if c[1] not in references]

    same_org = lambda want: [("neutral", NEUTRAL), ("same-org", f"colleague@{want}")]
    results = {}
    print(f"targets ({len(targets)}): {' '.join(targets)}\n")
    sets = [
        ("keyboard slips", keep(permutations(dnstwist, targets, KEYBOARD)), same_org),
        ("lookalikes", keep(permutations(dnstwist, targets, LOOKALIKE)), same_org),
        ("suffix habit slips", keep(habit_slips(pol)),
         lambda want: [("same-org", f"colleague@{want}")]),
    ]
    print("| set | fuzzer | sender | typos | caught | right |")
    print("|---|---|---|---|---|---|")
    for name, cases, senders in sets:
        table, missed = score_typos(args.mistype, cases, senders)
        for (fz, label), (n, c, r) in sorted(table.items(), key=lambda kv: (kv[0][0] != "all", kv[0])):
            print(f"| {name} | {fz} | {label} | {n} | {pct(c, n)} | {pct(r, n)} |")
            results[f"{name}/{fz}/{label}"] = {"n": n, "caught": c, "right": r}
        if args.misses:
            for key, ms in sorted(missed.items()):
                print(f"  misses {name} {key}: {len(ms)}")
                for m in ms[: args.misses]:
                    print(f"    {m[0]} (for {m[1]}): {m[2]}")
    print()
    lists = real_domains(cache)
    print("| real registered domains | sender | domains | flagged |")
    print("|---|---|---|---|")
    total = collections.Counter()
    for src, domains in lists.items():
        domains = [d for d in domains if d not in references]
        for label, sender in (("neutral", NEUTRAL), (".mil", MIL)):
            if label == ".mil":
                domains = [d for d in domains if not d.endswith(".ml")]
            verdicts = run(args.mistype, [(sender, d) for d in domains])
            flagged = [(d, counted(v.get("findings") or [])) for d, v in zip(domains, verdicts)]
            flagged = [(d, fs) for d, fs in flagged if fs]
            print(f"| {src} | {label} | {len(domains)} | {len(flagged)} ({100.0 * len(flagged) / len(domains):.2f}%) |")
            results[f"real/{src}/{label}"] = {"n": len(domains), "flagged": len(flagged)}
            total[label, "n"] += len(domains)
            total[label, "flagged"] += len(flagged)
            for d, fs in flagged[: args.misses]:
                print(f"    {d}: {[(f['kind'], f.get('suggestion')) for f in fs]}")
    for label in ("neutral", ".mil"):
        n, f = total[label, "n"], total[label, "flagged"]
        print(f"| all | {label} | {n} | {f} ({100.0 * f / n:.2f}%) |")
        results[f"real/all/{label}"] = {"n": n, "flagged": f}
    print("\nissue examples (real domains; must be allowed):")
    for label, sender in (("neutral", NEUTRAL), (".mil", MIL)):
        vs = run(args.mistype, [(sender, d) for d in EXAMPLES])
        for d, v in zip(EXAMPLES, vs):
            fs = counted(v.get("findings") or [])
            if fs:
                print(f"  FLAGGED from {label}: {d}: {[(f['kind'], f.get('suggestion')) for f in fs]}")
            results[f"example/{d}/{label}"] = len(fs)
    if args.peers:
        real = {src: [d for d in ds if d not in references] for src, ds in lists.items()}
        print("\n| neutral sender | mailcheck | email-spell-checker | mistype |")
        print("|---|---|---|---|")
        for row in peer_rows([(n, c) for n, c, _ in sets[:2]], real, results):
            print(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
