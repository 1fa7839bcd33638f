#!/usr/bin/env python3
"""Instructions per call by layer, from two callgrind runs of each process (scripts/callgrind.sh).

    scripts/callgrind_breakdown.py TITLE CALLS SERVER_N SERVER_2N CLIENT_N CLIENT_2N TSV
    scripts/callgrind_breakdown.py --compare OURS.tsv BASE.tsv
    scripts/callgrind_breakdown.py --misses CALLS RUN_N RUN_2N

--misses reads `callgrind_annotate --show=DLmr,DLmw` output of two runs of a process and
lists the functions whose memory accesses miss the simulated last level most per call.

TSV receives every function's instructions per call (side, layer, function); --compare
ranks the functions of both sides by what OURS spends on them beyond BASE, by layer too.

Each file is `callgrind_annotate` output of a run; the second of each pair made CALLS more
calls than the first. Every function's own instructions (callgrind's exclusive cost, the
code inlined into it included) go to one layer, chosen by its name with the patterns of
profile_breakdown.py (memcpy and memset get their own line, as they have no caller here);
the difference between the runs, divided by CALLS, is the layer's cost per call.
"""

import re
import sys

from profile_breakdown import LAYERS, LEAF_LAYERS, OTHER

MEMCPY = "memcpy / memmove / memset"
# Before the tokio and harness layers: what perf's stacks gave to a caller layer.
EXTRA = [
    ("body codec glue (teleport::codec: buffers, wrappers)", r"teleport::codec::"),
    ("teleport, elsewhere (socket, peer, context, plugins)", r"teleport::"),
]
LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$")


def functions(path):
    """Exclusive instructions by function name."""
    costs = {}
    started = False
    for line in open(path, encoding="utf-8", errors="replace"):
        if "file:function" in line:
            started = True
            continue
        m = LINE.match(line) if started else None
        if not m:
            continue
        name = m.group(2).split(":", 1)[-1] if ":" in m.group(2) else m.group(2)
        # The object file is named on some lines of a function and not on others, and the
        # call count (with --inclusive) differs between the runs.
        name = re.sub(r"\s*\[[^\]]*\]$", "", name.strip())
        name = re.sub(r"\s*\([\d,]+x\)$", "", name)
        name = re.sub(r"::h[0-9a-f]{16}", "", name)
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def layer_of(name, leaf, layers):
    if re.search(r"mem(cpy|move|set)", name):
        return MEMCPY
    for label, rx in leaf + layers:
        if rx.search(name):
            return label
    return OTHER


def read_tsv(path):
    costs = {}
    for line in open(path, encoding="utf-8"):
        side, layer, ir, name = line.rstrip("\n").split("\t", 3)
        costs[(side, layer, name)] = float(ir)
    return costs


def compare(ours_path, base_path):
    ours, base = read_tsv(ours_path), read_tsv(base_path)
    delta = {key: ours.get(key, 0.0) - base.get(key, 0.0) for key in set(ours) | set(base)}
    total = sum(ours.values()) - sum(base.values())
    print(f"# {ours_path} beyond {base_path}: {total:,.0f} instructions per call, both sides\n")
    layers = {}
    for (side, layer, _), ir in delta.items():
        layers[(layer, side)] = layers.get((layer, side), 0.0) + ir
    print("## by layer (server + client)\n")
    merged = {}
    for (layer, side), ir in layers.items():
        merged.setdefault(layer, {})[side] = ir
    for layer, sides in sorted(merged.items(), key=lambda kv: -sum(kv[1].values())):
        both = sum(sides.values())
        print(f"{both:9,.0f}  {100 * both / total:5.1f} %  {layer}"
              f"  (server {sides.get('server', 0):,.0f}, client {sides.get('client', 0):,.0f})")
    print("\n## functions, largest difference first\n")
    for (side, layer, name), ir in sorted(delta.items(), key=lambda kv: -kv[1])[:45]:
        print(f"{ir:9,.0f}  {side:6}  {name[:140]}")


MISSES = re.compile(r"^\s*((?:[\d,]+ \(\s*[\d.]+%\)|\.)\s+)((?:[\d,]+ \(\s*[\d.]+%\)|\.)\s+)(\S.*)$")


def misses(path):
    """Last-level read and write misses by function name."""
    costs = {}
    started = False
    for line in open(path, encoding="utf-8", errors="replace"):
        if "file:function" in line:
            started = True
            continue
        m = MISSES.match(line) if started else None
        if not m:
            continue
        count = sum(int(c.split()[0].replace(",", "")) for c in m.groups()[:2] if c.strip() != ".")
        name = m.group(3).split(":", 1)[-1]
        name = re.sub(r"\s*\[[^\]]*\]$", "", name.strip())
        name = re.sub(r"::h[0-9a-f]{16}", "", name)
        costs[name] = costs.get(name, 0) + count
    return costs


def main():
    if sys.argv[1] == "--misses":
        calls = float(sys.argv[2])
        a, b = misses(sys.argv[3]), misses(sys.argv[4])
        per_fn = {name: (b.get(name, 0) - a.get(name, 0)) / calls for name in set(a) | set(b)}
        for name, n in sorted(per_fn.items(), key=lambda kv: -kv[1])[:15]:
            print(f"{n:7.2f}  {name[:140]}")
        return
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
        return
    title, calls = sys.argv[1], float(sys.argv[2])
    tsv = open(sys.argv[7], "w", encoding="utf-8")
    leaf = [(label, re.compile(p)) for label, p in LEAF_LAYERS]
    layers = [(label, re.compile(p)) for label, p in LAYERS[:-2] + EXTRA + LAYERS[-2:]]
    print(f"# callgrind, {title}: instructions per call (user space), the difference of two runs")
    print(f"# {int(calls)} calls apart; each function's own instructions, by layer\n")
    grand = 0.0
    for side, (first, second) in (("server", sys.argv[3:5]), ("client", sys.argv[5:7])):
        a, b = functions(first), functions(second)
        per_fn = {name: (b.get(name, 0) - a.get(name, 0)) / calls for name in set(a) | set(b)}
        spent = {}
        for name, ir in per_fn.items():
            label = layer_of(name, leaf, layers)
            spent[label] = spent.get(label, 0.0) + ir
            tsv.write(f"{side}\t{label}\t{ir:.1f}\t{name}\n")
        total = sum(spent.values())
        grand += total
        print(f"== {side}: {total:,.0f} instructions per call")
        for label, ir in sorted(spent.items(), key=lambda kv: -kv[1]):
            print(f"{ir:10,.0f}  {100 * ir / total:5.1f} %  {label}")
        print(f"\n   top functions ({side}):")
        for name, ir in sorted(per_fn.items(), key=lambda kv: -kv[1])[:25]:
            print(f"{ir:10,.0f}  {name[:150]}")
        print()
    print(f"== both processes: {grand:,.0f} instructions per call")


if __name__ == "__main__":
    main()
