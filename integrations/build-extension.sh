#!/usr/bin/env bash
# Build the mistype browser extension (Manifest V3) as an unpacked folder and a zip:
#   integrations/extension/* + the web-lint package (web-lint/pkg, built first) in its pkg/.
#
#   integrations/build-extension.sh     # -> $CARGO_TARGET_DIR/mistype-extension/ and mistype-extension.zip
#
# Load the folder with chrome://extensions > "Load unpacked", or deploy the zip (docs/extension.md).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
OUT="$TARGET_DIR/mistype-extension"
log() { printf '[build-extension] %s\n' "$*" >&2; }

[ -f web-lint/pkg/mistype_web_lint_bg.wasm ] || web-lint/build.sh
rm -rf "$OUT" "$OUT.zip"
mkdir -p "$OUT/pkg"
cp integrations/extension/*.json integrations/extension/*.js integrations/extension/*.html \
  integrations/extension/*.css "$OUT/"
cp web-lint/pkg/mistype_web_lint.js web-lint/pkg/mistype_web_lint_bg.wasm web-lint/pkg/compose.js \
  web-lint/pkg/compose.css "$OUT/pkg/"
# The licences the extension is distributed under travel with it.
cp LICENSE-MIT LICENSE-APACHE "$OUT/"
# The extension's version is the workspace's.
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
python3 - "$OUT/manifest.json" "$VERSION" <<'PY'
import json, sys
path, version = sys.argv[1], sys.argv[2]
m = json.load(open(path))
m["version"] = version.split("-")[0]
json.dump(m, open(path, "w"), indent=2)
PY
(cd "$OUT" && python3 -c 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", ".")' "$OUT")
log "built $OUT (unpacked) and $OUT.zip, extension id $(python3 - "$OUT/manifest.json" <<'PY'
import base64, hashlib, json, sys
key = json.load(open(sys.argv[1]))["key"]
h = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
print("".join(chr(ord("a") + int(c, 16)) for c in h))
PY
)"
