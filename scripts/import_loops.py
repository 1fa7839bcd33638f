#!/usr/bin/env python3
"""The import graph between the top-level modules of teleport/src, and its loops.

Reads every `crate::<module>` path in code (comments and doc links left out) and prints,
for each module, the modules it imports, then each loop (strongly connected set) found.
With two module names, also prints the files behind the imports from the first to the
second:

    scripts/import_loops.py                 # the graph and its loops
    scripts/import_loops.py session peer    # which files of session/ import peer
"""
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(__file__), "..", "teleport", "src")


def modules():
    names = set()
    for entry in os.listdir(ROOT):
        if entry.endswith(".rs"):
            names.add(entry[:-3])
        elif os.path.isdir(os.path.join(ROOT, entry)):
            names.add(entry)
    return names - {"lib", "private"}


def code_of(path):
    # Comments and doc comments out: a doc link is not an import.
    return "\n".join(line.split("//", 1)[0] for line in open(path, encoding="utf-8"))


def graph(names):
    edges = defaultdict(lambda: defaultdict(set))
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, ROOT)
            top = rel.split(os.sep)[0].removesuffix(".rs")
            if top not in names:
                continue
            for used in re.findall(r"crate::([a-z_]+)", code_of(path)):
                if used in names and used != top:
                    edges[top][used].add(rel)
    return edges


def loops(edges, names):
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(names):
        if v not in index:
            visit(v)
    return found


def main():
    names = modules()
    edges = graph(names)
    for top in sorted(edges):
        print(f"{top} -> {', '.join(sorted(edges[top]))}")
    for part in loops(edges, names):
        print("loop:", " <-> ".join(part))
    if len(sys.argv) == 3:
        for rel in sorted(edges[sys.argv[1]][sys.argv[2]]):
            print("  ", rel)


main()
