#!/usr/bin/env python3
"""Print the top-level module graph of a Rust crate and any cycles in it.

A top-level module A depends on B when a non-test line under src/A names
`crate::B` (or `super::B` from a direct child). Test modules (`#[cfg(test)]`
onward to the end of the file) are skipped: tests may reach anywhere.
Usage: scripts/module_cycles.py [src]   exit 1 when there is a cycle.
"""
import os, re, sys

src = sys.argv[1] if len(sys.argv) > 1 else "src"
tops = {}
for entry in os.listdir(src):
    name = entry[:-3] if entry.endswith(".rs") else entry
    if name in ("main", "lib"):
        continue
    tops[name] = os.path.join(src, entry)

def files(path):
    if os.path.isdir(path):
        for root, _, fs in os.walk(path):
            for f in fs:
                if f.endswith(".rs") and f != "tests.rs":
                    yield os.path.join(root, f)
    else:
        yield path

use = re.compile(r"crate::(\w+)")
edges = {m: {} for m in tops}
for mod, path in tops.items():
    for f in files(path):
        text = open(f).read()
        cut = text.find("#[cfg(test)]")
        if cut >= 0:
            text = text[:cut]
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip().startswith("//"):
                continue
            for dep in use.findall(line):
                if dep in tops and dep != mod:
                    edges[mod].setdefault(dep, f"{f}:{i}")

# Tarjan's strongly connected components.
index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        comps.append(comp)
sys.setrecursionlimit(10000)
for v in sorted(edges):
    if v not in index:
        strong(v)
cycles = [sorted(c) for c in comps if len(c) > 1]
for mod in sorted(edges):
    print(f"{mod} -> {', '.join(sorted(edges[mod])) or '-'}")
for c in cycles:
    print(f"\ncycle: {{{', '.join(c)}}}")
    for a in c:
        for b in c:
            if b in edges[a]:
                print(f"  {a} -> {b}  ({edges[a][b]})")
sys.exit(1 if cycles else 0)
