#!/usr/bin/env python3
"""Render filter/envoy.yaml for a run: substitute ports, the wasm path and the plugin
configuration, or drop the filter (the no-filter baseline of the load comparison), or put
other filters in its place (an anchor that holds the body without Wasm), or drop Envoy's
allow_on_headers_stop_iteration (the set-ups without it: host-tests/clients); and read the
shipped plugin configuration.

The same substitutions as host-tests/tests/support_envoy (render): each substituted line must
occur exactly once in the shipped file, so a drift fails loudly instead of running something
else than what is shipped.

  python3 demo/render_envoy.py [--listen-port N] [--admin-port N] [--upstream-port N]
      [--wasm PATH] [--config JSON | --config-file FILE]
      [--without-filter | --in-place-of-filter FILE] [--without-knob]
      [--template filter/envoy.yaml] > envoy.yaml
"""

import argparse
import json
import sys
from pathlib import Path


def replace_unique(lines, needle, replacement):
    hits = [i for i, line in enumerate(lines) if needle in line]
    if len(hits) != 1:
        sys.exit("render_envoy: expected exactly one line containing %r, found %d" % (needle, len(hits)))
    lines[hits[0]] = lines[hits[0]].replace(needle, replacement, 1)


KNOB = "allow_on_headers_stop_iteration: true"


def config_block(lines):
    """The lines of the plugin configuration's `value: |` block scalar: (its `value: |` line, the
    first line after the block)."""
    starts = [i for i, line in enumerate(lines) if line.strip() == "value: |"]
    if len(starts) != 1:
        sys.exit("render_envoy: expected one `value: |` plugin configuration block")
    start = starts[0]
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        end += 1
    return start, end


def plugin_config(template):
    """The plugin configuration of `template` (its `value: |` block), parsed."""
    lines = template.splitlines()
    start, end = config_block(lines)
    return json.loads("\n".join(lines[start + 1:end]))


def render(template, listen_port=None, admin_port=None, upstream_port=None, wasm=None,
           config=None, without_filter=False, in_place_of_filter=None, without_knob=False):
    lines = template.splitlines()
    if without_knob:
        # As most Envoy examples load a Wasm filter, and as Istio's WasmPlugin must.
        knobs = [i for i, line in enumerate(lines) if line.strip() == KNOB]
        if len(knobs) != 1:
            sys.exit("render_envoy: expected exactly one line `%s`, found %d" % (KNOB, len(knobs)))
        del lines[knobs[0]]
    if listen_port is not None:
        replace_unique(lines, "port_value: 8080}", "port_value: %d}" % listen_port)
    if admin_port is not None:
        replace_unique(lines, "port_value: 9901}", "port_value: %d}" % admin_port)
    if upstream_port is not None:
        replace_unique(lines, "port_value: 8081}", "port_value: %d}" % upstream_port)
    if wasm is not None:
        replace_unique(lines, "filename: target/wasm32-wasip1/wasm/mistype_filter.wasm", "filename: %s" % wasm)
    if config is not None:
        start, end = config_block(lines)
        indent = len(lines[start]) - len(lines[start].lstrip())
        pad = " " * (indent + 2)
        block = [pad + line for line in config.splitlines()] or [""]
        lines[start + 1:end] = block
    if without_filter or in_place_of_filter is not None:
        try:
            begin = [line.strip() for line in lines].index("# BEGIN mistype-filter")
            end = [line.strip() for line in lines].index("# END mistype-filter")
        except ValueError:
            sys.exit("render_envoy: the BEGIN/END mistype-filter markers are missing")
        if without_filter:
            del lines[begin:end + 1]
        else:
            # The given filters, at the filter's own indentation.
            pad = lines[begin][:len(lines[begin]) - len(lines[begin].lstrip())]
            lines[begin + 1:end] = [pad + line for line in in_place_of_filter.splitlines()]
    return "\n".join(lines) + "\n"


def main():
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", default=str(here.parent / "filter" / "envoy.yaml"))
    ap.add_argument("--listen-port", type=int)
    ap.add_argument("--admin-port", type=int)
    ap.add_argument("--upstream-port", type=int)
    ap.add_argument("--wasm")
    ap.add_argument("--config", help="the plugin configuration JSON")
    ap.add_argument("--config-file", help="a file holding the plugin configuration JSON")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--without-filter", action="store_true")
    which.add_argument("--in-place-of-filter", metavar="FILE",
                       help="YAML list items (HTTP filters) that replace the filter's block")
    ap.add_argument("--without-knob", action="store_true",
                    help="drop the Wasm filter's allow_on_headers_stop_iteration: true")
    args = ap.parse_args()
    config = args.config
    if args.config_file:
        config = Path(args.config_file).read_text()
    sys.stdout.write(render(Path(args.template).read_text(), args.listen_port, args.admin_port,
                            args.upstream_port, args.wasm, config, args.without_filter,
                            Path(args.in_place_of_filter).read_text() if args.in_place_of_filter else None,
                            args.without_knob))


if __name__ == "__main__":
    main()
