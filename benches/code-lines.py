#!/usr/bin/env python3
"""The compiled Wasm code one operation runs, from two callgrind profiles of the same driver.

    code-lines.py FEWER MORE N [MAP]

FEWER and MORE are callgrind outputs (`--dump-instr=yes --compress-pos=no
--compress-strings=no`) of runs that differ by N operations. The module's code is what wasmtime
compiled at run time, which callgrind finds in no object file (`ob=???`). Prints the
instructions of that code per operation and the distinct 64-byte lines of it that the N
operations ran: the code an operation brings into the instruction cache (benches/instructions.sh;
docs/performance.md says why that count matters in Envoy).

With MAP, the perf map that wasmtime wrote for the MORE run (`MISTYPE_WASMTIME_PERFMAP=1`:
/tmp/perf-PID.map), also a table of the module's functions that the operations ran, by
instructions: per operation, and the distinct lines of each.

The two runs must load the module at the same addresses (wasmtime's on-disk cache of the
compiled module, filled by an earlier run): an address whose count falls from FEWER to MORE
means they did not, and that is an error.
"""

import sys

JIT = "???"
LINE = 64


def costs(path):
    """Instructions per (module code?, address) in one callgrind output."""
    out = {}
    obj = None
    after_calls = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                obj = line[3:].strip()
            elif line.startswith("calls="):
                # The next cost line is the call's inclusive cost, not this address's own.
                after_calls = True
            elif line.startswith("0x"):
                if after_calls:
                    after_calls = False
                    continue
                fields = line.split()
                if len(fields) < 2:
                    continue
                key = (obj == JIT, int(fields[0], 16))
                out[key] = out.get(key, 0) + int(fields[-1])
    return out


def main(argv):
    if len(argv) not in (4, 5):
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    fewer, more, n = costs(argv[1]), costs(argv[2]), int(argv[3])
    if n <= 0:
        print(f"code-lines.py: N must be positive, not {argv[3]}", file=sys.stderr)
        return 2
    moved = [a for (jit, a), c in fewer.items() if jit and more.get((jit, a), 0) < c]
    if moved:
        print(
            f"code-lines.py: {len(moved)} addresses of the module's code ran less often in "
            f"{argv[2]} than in {argv[1]}: the runs loaded the module at different addresses "
            "(or FEWER and MORE are swapped)",
            file=sys.stderr,
        )
        return 1
    instructions = 0
    lines = set()
    for (jit, address), c in more.items():
        ran = c - fewer.get((jit, address), 0)
        if jit and ran > 0:
            instructions += ran
            lines.add(address // LINE)
    if not lines:
        print(f"code-lines.py: no module code ran between {argv[1]} and {argv[2]}", file=sys.stderr)
        return 1
    print(f"{instructions // n} instructions in {len(lines)} lines "
          f"({len(lines) * LINE // 1024} KiB)")
    if len(argv) == 5:
        ran = {a: c - fewer.get((True, a), 0) for (jit, a), c in more.items() if jit}
        print_functions(argv[4], {a: c for a, c in ran.items() if c > 0}, n)
    return 0


def read_map(path):
    """The perf map's functions: sorted (start, end, name)."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.rstrip("\n").split(" ", 2)
            if len(fields) == 3:
                start, size = int(fields[0], 16), int(fields[1], 16)
                out.append((start, start + size, fields[2]))
    out.sort()
    return out


def print_functions(map_path, ran, n):
    """Each function's instructions per operation and distinct lines, most instructions first."""
    import bisect

    functions = read_map(map_path)
    starts = [f[0] for f in functions]
    by_name = {}
    for address, c in ran.items():
        i = bisect.bisect_right(starts, address) - 1
        name = "(not in the map)"
        if i >= 0 and address < functions[i][1]:
            name = functions[i][2]
        entry = by_name.setdefault(name, [0, set()])
        entry[0] += c
        entry[1].add(address // LINE)
    print(f"{'instructions':>12} {'lines':>6}  function")
    for name, (c, lines) in sorted(by_name.items(), key=lambda e: -e[1][0]):
        print(f"{c // n:>12} {len(lines):>6}  {name}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
