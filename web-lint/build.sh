#!/usr/bin/env bash
# Build the npm package of mistype-web-lint into web-lint/pkg/:
#   cargo (wasm32-unknown-unknown, profile wasm-small) -> wasm-opt -Oz -> wasm-bindgen --target web
#   (pinned CLI, same version as the crate) -> package.json, README.md, LICENSE, compose helper.
#
#   web-lint/build.sh            # build (quick when nothing changed)
#
# Honours $CARGO_TARGET_DIR (default <repo>/target). Needs: the wasm32-unknown-unknown target,
# wasm-bindgen-cli at the crate's version, wasm-opt (binaryen); scripts/ensure-tools.sh installs
# them.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
PKG=web-lint/pkg
log() { printf '[build-web-lint] %s\n' "$*" >&2; }

want=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$want" != "$have" ]; then
  echo "wasm-bindgen-cli $want is needed (found '${have:-none}'); run scripts/ensure-tools.sh rust" >&2
  exit 1
fi
command -v wasm-opt >/dev/null || { echo "wasm-opt (binaryen) is missing; run scripts/ensure-tools.sh browser" >&2; exit 1; }

log "cargo build -p mistype-web-lint --target wasm32-unknown-unknown --profile wasm-small"
cargo build -q -p mistype-web-lint --target wasm32-unknown-unknown --profile wasm-small
WASM_IN="$TARGET_DIR/wasm32-unknown-unknown/wasm-small/mistype_web_lint.wasm"

# wasm-opt runs on cargo's output, before wasm-bindgen: wasm-bindgen adds an externref table,
# and Debian's binaryen (version 108) rewrites externref as anyref, which browsers reject
# ("WebAssembly.Table.set(): Argument 1 is invalid for table"). rustc enables these wasm
# proposals by default for wasm32-unknown-unknown; wasm-opt must accept them.
# --one-caller-inline-max-function-size: by default -Oz inlines every function with one caller,
# however large, so rare paths (IDNA, error wording, the lazy suffix-list parse) ended up inside
# the hot functions that V8 recompiles with TurboFan during the first new Linter(); on a small
# machine those compiles took tens of milliseconds away from start-up. Keeping large
# single-caller functions apart also made the module smaller.
log "wasm-opt -Oz"
WASM_OPT="$TARGET_DIR/wasm32-unknown-unknown/wasm-small/mistype_web_lint.opt.wasm"
wasm-opt -Oz --one-caller-inline-max-function-size 200 \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue --enable-mutable-globals \
  -o "$WASM_OPT" "$WASM_IN"

rm -rf "$PKG"
mkdir -p "$PKG"
log "wasm-bindgen $want --target web"
wasm-bindgen --target web --out-dir "$PKG" --out-name mistype_web_lint "$WASM_OPT"
# wasm-opt splits the data at every run of zeros (~1,300 segments); one segment with the zeros
# written back is smaller as a web server sends it (web-lint/join-data.mjs says why).
log "join the data segments"
node web-lint/join-data.mjs "$PKG/mistype_web_lint_bg.wasm"

cp web-lint/js/compose.js web-lint/js/compose.d.ts web-lint/js/compose.css "$PKG/"
cp web-lint/README.npm.md "$PKG/README.md"
for l in LICENSE LICENSE-MIT LICENSE-APACHE; do
  if [ -f "$l" ]; then cp "$l" "$PKG/"; fi
done

VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
LICENSE=$(sed -n '/^\[workspace.package\]/,/^\[/s/^license = "\(.*\)"/\1/p' Cargo.toml)
REPOSITORY=$(sed -n '/^\[workspace.package\]/,/^\[/s/^repository = "\(.*\)"/\1/p' Cargo.toml)
FILES=$(cd "$PKG" && ls | grep -v '^package.json$' | sed 's/.*/    "&"/' | sed '$!s/$/,/')
cat >"$PKG/package.json" <<EOF
{
  "name": "mistype-web-lint",
  "version": "$VERSION",
  "description": "Warns in the compose window before an email goes to a mistyped or lookalike domain (navy.ml for navy.mil, gmial.com): the mistype core compiled to WebAssembly",
  "keywords": ["email", "typo", "lookalike", "compose", "webassembly", "wasm"],
  "license": "$LICENSE",
  "repository": {"type": "git", "url": "$REPOSITORY"},
  "type": "module",
  "main": "./mistype_web_lint.js",
  "module": "./mistype_web_lint.js",
  "types": "./mistype_web_lint.d.ts",
  "exports": {
    ".": {
      "types": "./mistype_web_lint.d.ts",
      "default": "./mistype_web_lint.js"
    },
    "./compose": {
      "types": "./compose.d.ts",
      "default": "./compose.js"
    },
    "./compose.css": "./compose.css",
    "./mistype_web_lint_bg.wasm": "./mistype_web_lint_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": [
$FILES
  ],
  "sideEffects": ["./compose.css"],
  "engines": {"node": ">=20"}
}
EOF
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$PKG/package.json"
# The size as a web server sends it: zlib's gzip at level 9 (what benches/measure-web-lint.mjs reports).
served=$(node -e 'process.stdout.write(String(require("zlib").gzipSync(require("fs").readFileSync(process.argv[1]), { level: 9 }).length))' "$PKG/mistype_web_lint_bg.wasm")
log "built $PKG ($(wc -c <"$PKG/mistype_web_lint_bg.wasm") bytes of wasm, $served as served: zlib gzip -9)"
