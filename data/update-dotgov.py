#!/usr/bin/env python3
"""Regenerate data/dotgov-short.txt from CISA's .gov registry export.

    python3 data/update-dotgov.py current-full.csv [YYYY-MM-DD]

`current-full.csv` is the registry's list of every registered .gov domain (federal, state,
local, tribal), published by CISA at https://github.com/cisagov/dotgov-data. The engine keeps
only the short names (labels of at most MAX_LABEL characters): that is where one slip lands on
another real name, and where the registry tells a typo (`dhe.gov`, unregistered) from an agency
(`cisa.gov`, registered). See data/README.md.
"""
import csv
import sys
from pathlib import Path

MAX_LABEL = 5


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: update-dotgov.py current-full.csv [snapshot-date]")
    src = Path(sys.argv[1])
    date = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    labels = set()
    with src.open(newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if not header or header[0].strip().lower() != "domain name":
            sys.exit(f"{src}: expected a header starting with 'Domain name', got {header!r}")
        for row in rows:
            if not row:
                continue
            name = row[0].strip().lower().rstrip(".")
            if not name.endswith(".gov") or name.count(".") != 1:
                sys.exit(f"{src}: '{row[0]}' is not a second-level .gov name")
            label = name[: -len(".gov")]
            if len(label) <= MAX_LABEL:
                labels.add(label)
    out = Path(__file__).resolve().parent.parent / "data" / "dotgov-short.txt"
    with out.open("w", encoding="utf-8") as f:
        f.write(f"# Registered .gov names with labels of at most {MAX_LABEL} characters,\n")
        f.write(f"# from CISA's registry export current-full.csv as of {date}\n")
        f.write("# (https://github.com/cisagov/dotgov-data). Regenerate with data/update-dotgov.py.\n")
        for label in sorted(labels):
            f.write(label + "\n")
    print(f"{out}: {len(labels)} labels")


if __name__ == "__main__":
    main()
