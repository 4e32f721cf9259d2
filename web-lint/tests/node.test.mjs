// The built npm package (web-lint/pkg/) in Node 20+: its package.json is complete and points at
// files that exist, initSync with the bytes from fs works, the API behaves as documented, the
// module as built (wasm-opt, its data segments joined) reaches the native golden verdict for
// every case of the shared corpus, and the compose helper's pure functions split and fix
// recipient text correctly.
//
//   web-lint/build.sh && node --test web-lint/tests/node.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const pkgDir = path.join(repo, "web-lint", "pkg");
if (!existsSync(path.join(pkgDir, "package.json"))) {
  throw new Error("web-lint/pkg is not built; run web-lint/build.sh first");
}
const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
const { initSync, Linter, version } = await import(path.join(pkgDir, pkg.exports["."].default));
const compose = await import(path.join(pkgDir, pkg.exports["./compose"].default));

const cargoVersion = /\[workspace\.package\][^[]*?\nversion = "([^"]+)"/.exec(
  readFileSync(path.join(repo, "Cargo.toml"), "utf8"),
)[1];

initSync({ module: readFileSync(path.join(pkgDir, "mistype_web_lint_bg.wasm")) });

test("package.json is complete and every path in it exists", () => {
  assert.equal(pkg.name, "mistype-web-lint");
  assert.equal(pkg.version, cargoVersion);
  assert.equal(pkg.type, "module");
  assert.ok(pkg.license);
  for (const key of ["main", "module", "types"]) assert.ok(existsSync(path.join(pkgDir, pkg[key])), key);
  for (const [sub, target] of Object.entries(pkg.exports)) {
    const targets = typeof target === "string" ? [target] : Object.values(target);
    for (const t of targets) assert.ok(existsSync(path.join(pkgDir, t)), `${sub} -> ${t}`);
  }
  for (const f of pkg.files) assert.ok(existsSync(path.join(pkgDir, f)), f);
  assert.ok(pkg.files.includes("mistype_web_lint_bg.wasm"));
  assert.ok(pkg.files.includes("compose.js"));
});

test("the TypeScript types describe the API precisely", () => {
  const dts = readFileSync(path.join(pkgDir, pkg.types), "utf8");
  for (const t of ["Verdict", "Finding", "CheckRequest", "Policy", "RecipientError", "AddressContext"]) {
    assert.match(dts, new RegExp(`export interface ${t} \\{`), t);
  }
  assert.match(dts, /constructor\(policy\?: Policy \| string \| null\)/);
  assert.match(dts, /check\(request: CheckRequest \| string\): Verdict;/);
  assert.match(dts, /checkAddress\(address: string, context\?: AddressContext \| null\): Finding\[\];/);
  assert.match(dts, /export function initSync\(/);
  const cdts = readFileSync(path.join(pkgDir, pkg.exports["./compose"].types), "utf8");
  assert.match(cdts, /export function attachCompose\(/);
});

test("compose.d.ts declares every export of compose.js, and nothing else", () => {
  const cdts = readFileSync(path.join(pkgDir, pkg.exports["./compose"].types), "utf8");
  const declared = [...cdts.matchAll(/^export (?:function|const) (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(declared, Object.keys(compose).sort());
  assert.deepEqual(Object.keys(compose.adapters).sort(), ["demo", "generic", "plain", "roundcube"]);
});

test("initSync, new Linter() and check work in Node", () => {
  const linter = new Linter();
  const v = linter.check({ id: "n1", from: "a.b@army.mil", to: ["c@navy.ml"], cc: "y@gmail.com" });
  assert.equal(v.id, "n1");
  assert.equal(v.verdict, "block");
  assert.equal(v.findings.length, 1);
  assert.equal(v.findings[0].suggestion, "c@navy.mil");
  assert.equal(v.findings[0].kind, "suffix-typo");
  assert.deepEqual(v.errors, []);
  assert.equal(Object.getPrototypeOf(v), Object.prototype, "a plain object");
  linter.free();
});

test("the package reaches the native golden verdict for every case of testdata/", () => {
  const testdata = path.join(repo, "testdata");
  const jsonl = (file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("//"))
      .map((l) => JSON.parse(l));
  const golden = new Map(
    jsonl(path.join(testdata, "golden", "verdicts.jsonl")).map((g) => [`${g.file}: ${g.name}`, g.verdict]),
  );
  const linters = new Map();
  const linterFor = (policy) => {
    if (!linters.has(policy)) {
      const text = policy && readFileSync(path.join(testdata, "policies", `${policy}.json`), "utf8");
      linters.set(policy, new Linter(text ? JSON.parse(text) : undefined));
    }
    return linters.get(policy);
  };
  let compared = 0;
  const differ = [];
  for (const file of ["corpus.jsonl", "must-hold.jsonl"]) {
    for (const c of jsonl(path.join(testdata, "cases", file))) {
      const key = `${file}: ${c.name}`;
      assert.ok(golden.has(key), `no golden verdict for ${key}`);
      const verdict = linterFor(c.policy ?? null).check(c.request);
      try {
        assert.deepStrictEqual(verdict, golden.get(key));
      } catch {
        differ.push(`${key}\n  package: ${JSON.stringify(verdict)}\n  golden:  ${JSON.stringify(golden.get(key))}`);
      }
      compared += 1;
    }
  }
  for (const l of linters.values()) l.free();
  assert.equal(compared, golden.size, "every golden verdict has its case");
  assert.deepEqual(differ.slice(0, 5), [], `${differ.length} of ${compared} cases differ`);
});

test("checkAddress returns the findings array for one address", () => {
  const linter = new Linter();
  const [f, ...rest] = linter.checkAddress("x@gmial.com", { from: "me@example.com", contacts: [] });
  assert.deepEqual(rest, []);
  assert.equal(f.severity, "warn");
  assert.equal(f.suggestion, "x@gmail.com");
  assert.deepEqual(linter.checkAddress("y@gmail.com"), []);
  assert.deepEqual(linter.checkAddress("y@gmail.com", null), []);
});

test("a bad policy throws an Error naming the key", () => {
  assert.throws(() => new Linter({ protectd: ["*.mil"] }), (e) => e instanceof Error && /protectd/.test(e.message));
  assert.throws(() => new Linter('{"rules": [{"from": "*.mil", "to": "*.ml", "severity": "loud"}]}'),
    (e) => e instanceof Error && /severity|loud/.test(e.message));
});

test("version() is the package version", () => {
  assert.equal(version(), pkg.version);
});

test("splitRecipients keeps quoted commas and angle brackets together", () => {
  const text = '"Smith, J." <j.smith@army.ml>; y@gmail.com ,  (a, comment) z@x.org,,';
  const parts = compose.splitRecipients(text);
  assert.deepEqual(parts.map((p) => p.value), ['"Smith, J." <j.smith@army.ml>', "y@gmail.com", "(a, comment) z@x.org"]);
  for (const p of parts) assert.equal(text.slice(p.start, p.end), p.value);
});

test("applySuggestion swaps the domain and keeps everything else as typed", () => {
  const f = { intended: "army.mil", suggestion: "J.Smith@army.mil", address: "J.Smith@army.ml" };
  assert.equal(compose.applySuggestion('"Smith, J." <J.Smith@army.ml>', f), '"Smith, J." <J.Smith@army.mil>');
  assert.equal(compose.applySuggestion("J.Smith@army.ml", f), "J.Smith@army.mil");
});

test("applySuggestions fixes the entries a finding names in a list and keeps the rest as typed", () => {
  const f = { intended: "army.mil", suggestion: "J.Smith@army.mil", address: "J.Smith@army.ml" };
  const text = '"Smith, J." <j.smith@ARMY.ml>, aj.smith@army.ml; J.Smith@army.ml';
  assert.equal(
    compose.applySuggestions(text, [f]),
    '"Smith, J." <j.smith@army.mil>, aj.smith@army.ml; J.Smith@army.mil',
  );
  assert.equal(compose.applySuggestions("x@y.org", [f]), "x@y.org");
});
