#!/usr/bin/env python3
"""Import cycles between modules: reads every `use`/path reference of `crate::a::b` and `super::x`
in src/, builds the graph at the given depth (top-level modules, or the files under one module),
and prints each cycle. Exit status 1 when there is one.

    python3 scripts/import-cycles.py                 # between top-level modules (config, policy, proxy, …)
    python3 scripts/import-cycles.py proxy           # between proxy's files and folders
    python3 scripts/import-cycles.py --files proxy   # between proxy's files (every module its own node)
"""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    return [p for p in rel if p not in ("lib", "main")]


def refs(path, mod):
    text = open(path).read()
    text = re.sub(r"//[^\n]*", "", text)  # comments (doc links are not imports)
    text = re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", text, flags=re.S)  # unit tests
    out = set()
    for m in re.finditer(r"\bcrate((?:::\w+)+)", text):
        out.add(tuple(m.group(1).strip(":").split("::")))
    for m in re.finditer(r"\b((?:super::)+)((?:\w+::)*\w+)", text):
        ups = m.group(1).count("super")
        base = mod[:-ups] if ups <= len(mod) else []
        out.add(tuple(base + m.group(2).split("::")))
    return out


MODULES = set()
for _d, _, _fs in os.walk(ROOT):
    for _f in _fs:
        if _f.endswith(".rs"):
            MODULES.add(tuple(module_of(os.path.join(_d, _f))))


def main():
    args = sys.argv[1:]
    files = "--files" in args
    args = [a for a in args if a != "--files"]
    scope = args[0].split("::") if args else []
    depth = 99 if files else len(scope) + 1
    edges = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            mod = module_of(path)
            if mod[: len(scope)] != scope or (len(mod) < depth and not files):
                continue
            src = tuple(mod[:depth])
            for r in refs(path, mod):
                r = list(r)
                if r[: len(scope)] != scope or (len(r) < depth and not files):
                    continue
                dst = tuple(r[:depth])
                if files:  # the longest prefix that is a module (the rest names an item)
                    while dst and dst not in MODULES:
                        dst = dst[:-1]
                if dst and dst != src and dst[: len(src)] != src:
                    edges.setdefault(src, set()).add(dst)
    cycles, seen = [], set()

    def walk(node, stack):
        for nxt in sorted(edges.get(node, ())):
            if nxt in stack:
                cyc = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cyc)
                if key not in seen:
                    seen.add(key)
                    cycles.append(cyc)
            elif len(stack) < 12:
                walk(nxt, stack + [nxt])

    for n in sorted(edges):
        walk(n, [n])
    name = "::".join(scope) or "crate"
    if not cycles:
        print(f"{name}: no import cycle among {len(edges)} modules")
        return 0
    for c in cycles:
        print(f"{name}: cycle: " + " -> ".join("::".join(x[len(scope):]) for x in c))
    return 1


if __name__ == "__main__":
    sys.exit(main())
