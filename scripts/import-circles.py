#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle.

    scripts/import-circles.py SRC_DIR...     # e.g. src cli/src filter/src
    scripts/import-circles.py --self-test    # the checker against small crates of its own

Each SRC_DIR is a crate's source root (it holds lib.rs or main.rs). Every file is a module
(`a/b.rs` and `a/b/mod.rs` are `a::b`); a module depends on another when its code names it:
`use crate::x::...`, `super::x`, `self::x`, a child module's name, and paths such as
`crate::x::f()` in expressions. A name re-exported by a `pub use` counts as a use of the module it
comes from (`crate::Error` is `error`, not the crate root). Comments, strings and `#[cfg(test)]`
items do not count: a test module may look anywhere. Inline modules count as part of their file.

A circle is a set of modules each reachable from the others; the report names each edge of one
circle with the file and line that makes it. Exit status 0: no circle; 1: a circle; 2: bad use.
"""

import os
import re
import sys
import tempfile

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
PATH_RE = re.compile(r"(?<![A-Za-z0-9_:])(\$?" + IDENT + r")((?:\s*::\s*" + IDENT + r")+)")


def strip(text):
    """The text with comments, string and character literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)

    def blank(s):
        return "".join(c if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif re.match(r'b?r#*"', text[i:i + 260]) and (i == 0 or not re.match(r"[A-Za-z0-9_]", text[i - 1])):
            m = re.match(r'b?r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(blank(text[i:j]))
            i = j
        elif c == '"' or (c == "b" and text.startswith('b"', i) and (i == 0 or not re.match(r"[A-Za-z0-9_]", text[i - 1]))):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i:j + 1]))
            i = j + 1
        elif c == "'":
            # A character literal ('a', '\n', '\'', '\u{41}'), else a lifetime or a label.
            m = re.match(r"'(?:\\(?:u\{[0-9A-Fa-f]+\}|x[0-9A-Fa-f]{2}|.)|[^\\'\n])'", text[i:])
            if m:
                out.append(blank(m.group(0)))
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code, i):
    """Where the item starting at `i` ends: after a `;` or the block that closes it."""
    depth, n = 0, len(code)
    while i < n:
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0 and c == "}":
                return i + 1
        elif c == ";" and depth == 0:
            return i + 1
        i += 1
    return n


def drop_test_items(code):
    """`code` without its `#[cfg(test)]` items; and the names of `#[cfg(test)] mod x;` files."""
    test_mods = set()
    attr = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
    while True:
        m = attr.search(code)
        if not m:
            return code, test_mods
        j = m.end()
        # Further attributes of the same item.
        while True:
            a = re.match(r"\s*#\s*\[", code[j:])
            if not a:
                break
            j = item_end(code, j + a.end() - 1)
        decl = re.match(r"\s*(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", code[j:])
        if decl:
            test_mods.add(decl.group(1))
        end = item_end(code, j)
        code = code[:m.start()] + "".join(ch if ch == "\n" else " " for ch in code[m.start():end]) + code[end:]


def inline_modules(code):
    """(start, end, name) of the inline `mod x { ... }` blocks."""
    spans = []
    for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", code):
        spans.append((m.start(), item_end(code, m.end() - 1), m.group(1)))
    return spans


def expand_use(tree):
    """`a::{b, c::{d, e as f}, self}` as (path, alias): ([a, b], None), ([a, c, d], None),
    ([a, c, e], "f"), ([a], None)."""
    tree = re.sub(r"\s+", " ", tree).strip()

    def split_top(s):
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        return [p.strip() for p in parts if p.strip()]

    def go(prefix, s):
        b = s.find("{")
        if b < 0:
            alias = None
            m = re.match(r"(.*?)\s+as\s+(" + IDENT + r")\s*$", s)
            if m:
                s, alias = m.group(1), m.group(2)
            segs = prefix + [x.strip() for x in s.split("::") if x.strip()]
            if segs and segs[-1] == "self":
                segs = segs[:-1]
            return [(segs, alias)]
        head = [x.strip() for x in s[:b].split("::") if x.strip()]
        out = []
        for part in split_top(s[b + 1:s.rfind("}")]):
            out.extend(go(prefix + head, part))
        return out

    return go([], tree)


class Crate:
    def __init__(self, root_dir):
        self.dir = root_dir
        self.root_file = None
        for name in ("lib.rs", "main.rs"):
            if os.path.isfile(os.path.join(root_dir, name)):
                self.root_file = name
                break
        if self.root_file is None:
            raise SystemExit(f"import-circles: '{root_dir}' holds no lib.rs or main.rs")
        self.files = {}  # module path (tuple) -> (relative file, stripped code)
        test_only = set()
        for base, dirs, names in os.walk(root_dir):
            dirs.sort()
            for name in sorted(names):
                if not name.endswith(".rs"):
                    continue
                rel = os.path.relpath(os.path.join(base, name), root_dir)
                parts = rel[:-3].split(os.sep)
                if parts[-1] == "mod":
                    parts = parts[:-1]
                if rel == self.root_file:
                    parts = []
                elif len(parts) == 1 and parts[0] in ("lib", "main"):
                    # A crate with both: the other root is its own crate; skip it.
                    continue
                with open(os.path.join(root_dir, rel), encoding="utf-8") as f:
                    code, tests = drop_test_items(strip(f.read()))
                self.files[tuple(parts)] = (rel, code)
                test_only.update(tuple(parts) + (t,) for t in tests)
        for t in test_only:
            self.files.pop(t, None)
        self.reexports = {m: self.find_reexports(m) for m in self.files}

    def is_module(self, path):
        return tuple(path) in self.files

    def absolute(self, here, segs):
        """The absolute path of `segs` named in module `here`, or None (another crate, a type)."""
        first = segs[0]
        if first in ("crate", "$crate"):
            return list(segs[1:])
        if first == "super":
            base = list(here)
            while segs and segs[0] == "super":
                if not base:
                    return None
                base, segs = base[:-1], segs[1:]
            return base + list(segs)
        if first == "self":
            return list(here) + list(segs[1:])
        if self.is_module(tuple(here) + (first,)):
            return list(here) + list(segs)
        return None

    def module_of(self, path, seen=()):
        """The module an absolute path's item lives in, through re-exports."""
        k = len(path)
        while k > 0 and not self.is_module(path[:k]):
            k -= 1
        mod = tuple(path[:k])
        if k < len(path) and (mod, path[k]) not in seen:
            src = self.reexports.get(mod, {}).get(path[k])
            if src is not None:
                return self.module_of(src, seen + ((mod, path[k]),))
        return mod

    def find_reexports(self, mod):
        """Names a module re-exports (`pub use x::Y as Z;`) -> the absolute path they come from."""
        rel, code = self.files[mod]
        out = {}
        for m in re.finditer(r"\bpub\s*(?:\([^)]*\))?\s*use\s+([^;]*);", code):
            for segs, alias in expand_use(m.group(1)):
                if not segs or segs[-1] == "*":
                    continue
                name = alias or segs[-1]
                path = self.absolute(list(mod), segs)
                if path is not None:
                    out[name] = path
        return out

    def edges(self):
        """(from module, to module, file, line, text) for every use of another module."""
        for mod, (rel, code) in sorted(self.files.items()):
            inline = inline_modules(code)

            def scope(pos):
                inner = [name for (s, e, name) in inline if s <= pos < e]
                return list(mod) + inner

            def line_of(pos):
                return code.count("\n", 0, pos) + 1

            found = []
            for m in re.finditer(r"\buse\s+([^;]*);", code):
                for segs, _ in expand_use(m.group(1)):
                    segs = [s for s in segs if s != "*"]
                    found.append((m.start(), segs, "use " + "::".join(segs)))
            use_spans = [(m.start(), m.end()) for m in re.finditer(r"\buse\s+[^;]*;", code)]
            for m in PATH_RE.finditer(code):
                if any(s <= m.start() < e for s, e in use_spans):
                    continue
                segs = [m.group(1)] + [x.strip() for x in m.group(2).split("::") if x.strip()]
                found.append((m.start(), segs, "::".join(segs)))
            for pos, segs, text in found:
                if not segs:
                    continue
                path = self.absolute(scope(pos), segs)
                if path is None:
                    continue
                target = self.module_of(path)
                if target != mod:
                    yield mod, target, rel, line_of(pos), text


def circles(crate):
    """The strongly connected sets of modules with more than one member, each with one circle
    through them as a list of edges."""
    graph, why = {}, {}
    for a, b, rel, line, text in crate.edges():
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
        why.setdefault((a, b), (rel, line, text))
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    result = []
    for comp in out:
        members = set(comp)
        # The shortest way back to the first member, by breadth-first search inside the set.
        start = comp[0]
        prev, queue = {start: None}, [start]
        cycle = None
        while queue and cycle is None:
            v = queue.pop(0)
            for w in sorted(graph[v]):
                if w not in members:
                    continue
                if w == start:
                    cycle = [v]
                    break
                if w not in prev:
                    prev[w] = v
                    queue.append(w)
        path = []
        v = cycle[0]
        while v is not None:
            path.append(v)
            v = prev[v]
        path.reverse()
        path.append(start)
        result.append((comp, [(a, b, why[(a, b)]) for a, b in zip(path, path[1:])]))
    return result


def name(mod):
    return "::".join(mod) or "(crate root)"


def check(dirs):
    bad = 0
    for d in dirs:
        crate = Crate(d)
        found = circles(crate)
        if not found:
            print(f"import-circles: {d}: {len(crate.files)} modules, no circle")
        for comp, edges in found:
            bad += 1
            print(f"import-circles: {d}: a circle among {', '.join(name(m) for m in comp)}:")
            for a, b, (rel, line, text) in edges:
                print(f"  {name(a)} -> {name(b)}   ({os.path.join(d, rel)}:{line}: {text})")
    return 1 if bad else 0


def self_test():
    """The checker on small crates written here: each must give the circles it names."""
    cases = [
        # A circle through a use and a path in an expression.
        ({"lib.rs": "mod a;\nmod b;\n", "a.rs": "use crate::b::X;\npub struct Y;\n",
          "b.rs": "pub struct X;\nfn f() { let _ = crate::a::Y; }\n"}, [["a", "b"]]),
        # Nested modules, super:: and a group; a circle between siblings of a directory module.
        ({"main.rs": "mod input;\nfn main() {}\n", "input/mod.rs": "pub mod one;\npub mod two;\n",
          "input/one.rs": "use super::{two::T};\npub struct O;\n",
          "input/two.rs": "pub struct T;\nuse super::one::O;\n"}, [["input::one", "input::two"]]),
        # A child using its parent's own item while the parent uses the child: a circle.
        ({"main.rs": "mod cmd;\npub fn fail() {}\nfn main() { cmd::run(); }\n",
          "cmd.rs": "pub fn run() { crate::fail() }\n"}, [["", "cmd"]]),
        # Not circles: a re-export at the root, tests, comments and strings, another crate.
        ({"lib.rs": "mod a;\nmod b;\npub use b::X;\n",
          "a.rs": "use crate::X; // crate::b\nconst S: &str = \"crate::b::X\";\n"
                  "#[cfg(test)]\nmod tests { use crate::b::*; use super::*; }\n",
          "b.rs": "pub struct X;\nuse serde::Serialize;\nfn f() { let _ = crate::a::S; }\n"
                  "#[cfg(test)]\nfn g() { let _ = crate::a::S; }\n"}, [["a", "b"]]),
        ({"lib.rs": "mod a;\nmod b;\npub use b::X;\n",
          "a.rs": "use crate::X; // crate::b\nconst S: &str = \"crate::b::X\";\nconst C: char = '\"';\n"
                  "#[cfg(test)]\nmod tests { use super::*; }\n",
          "b.rs": "pub struct X;\nuse serde::Serialize;\n#[cfg(test)]\nfn g() { let _ = crate::a::S; }\n"}, []),
    ]
    ok = True
    for i, (files, want) in enumerate(cases):
        with tempfile.TemporaryDirectory() as tmp:
            for rel, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
                with open(os.path.join(tmp, rel), "w", encoding="utf-8") as f:
                    f.write(text)
            got = [[name(m) if m else "" for m in comp] for comp, _ in circles(Crate(tmp))]
            got = [[("" if m == "(crate root)" else m) for m in comp] for comp in got]
            if got != want:
                print(f"import-circles: self-test case {i}: found {got}, expected {want}")
                ok = False
    print("import-circles: self-test " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if not argv or any(a.startswith("-") for a in argv):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    return check(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
