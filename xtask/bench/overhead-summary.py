#!/usr/bin/env python3
"""Summarises an xtask/bench/overhead-nginx.sh output directory as markdown.

    python3 xtask/bench/overhead-summary.py OUT_DIR PAIRS CG_REPS

Per run: the bench's medians (fetches/s) of raw (a), generated (b), balance-api (c) and c/a,
b/a computed from those medians; then the median of the per-run ratios for each commit.
Callgrind: whole-process Ir of N fetches; per fetch = (Ir(5000) - Ir(1000)) / 4000, median of
the repetitions.
"""

import re
import statistics
import sys
from pathlib import Path

out, pairs, reps = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ROWS = {"sequential fetches/s": "sequential", "16 in flight, fetches/s": "16 in flight"}
SIDES = ["before", "after"]


def medians(path):
    """{row: (a, b, c)} from one bench output's table (the first number of each cell)."""
    found = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in ROWS:
            a, b, c = (float(re.match(r"[\d.]+", x).group()) for x in cells[1:4])
            found[ROWS[cells[0]]] = (a, b, c)
    return found


def other_lines(path):
    return [l for l in path.read_text().splitlines() if l.startswith(("batch", "peak RSS"))]


def foreign_by_run():
    """{(side, run): (mean, max) foreign cores} from foreign-cpu.tsv over each run's interval."""
    samples = []
    path = out / "foreign-cpu.tsv"
    if path.exists():
        for line in path.read_text().splitlines():
            t, _total, _own, foreign = line.split("\t")[:4]
            samples.append((float(t), float(foreign)))
    found = {}
    for line in (out / "runs" / "times.tsv").read_text().splitlines():
        side, run, t0, t1 = line.split("\t")
        inside = [f for t, f in samples if float(t0) < t <= float(t1) + 1]
        if inside:
            found[(side, int(run))] = (sum(inside) / len(inside), max(inside))
    return found


foreign = foreign_by_run()
fmt_foreign = lambda key: "%.2f (max %.2f)" % foreign[key] if key in foreign else "–"
commit = {s: (out / "bin" / f"{s}.commit").read_text().strip()[:7] for s in SIDES}
print(f"## Fetch rates against nginx (bench pinned to core 0, nginx to core 1)\n")
print("Order of runs: " + ", ".join(f"{s} {i}" for i in range(1, pairs + 1) for s in SIDES) + "\n")
ratios = {(s, r): {"c/a": [], "b/a": []} for s in SIDES for r in ROWS.values()}
for row in ROWS.values():
    print(f"### {row}\n")
    print("| run | commit | raw (a) /s | generated (b) /s | balance-api (c) /s | b/a | c/a | foreign CPU, cores |")
    print("|---|---|---|---|---|---|---|---|")
    for i in range(1, pairs + 1):
        for s in SIDES:
            a, b, c = medians(out / "runs" / f"{s}-{i}.txt")[row]
            ratios[(s, row)]["c/a"].append(c / a)
            ratios[(s, row)]["b/a"].append(b / a)
            print(f"| {i} | {s} {commit[s]} | {a:.0f} | {b:.0f} | {c:.0f} | {b / a:.3f} | {c / a:.3f} | {fmt_foreign((s, i))} |")
    print()

print("### Medians of the per-run ratios\n")
print("| commit | sequential c/a | 16 in flight c/a | sequential b/a | 16 in flight b/a | seq c/a min–max | 16 c/a min–max |")
print("|---|---|---|---|---|---|---|")
for s in SIDES:
    seq, par = ratios[(s, "sequential")], ratios[(s, "16 in flight")]
    print(
        f"| {s} {commit[s]} | {statistics.median(seq['c/a']):.3f} | {statistics.median(par['c/a']):.3f}"
        f" | {statistics.median(seq['b/a']):.3f} | {statistics.median(par['b/a']):.3f}"
        f" | {min(seq['c/a']):.3f}–{max(seq['c/a']):.3f} | {min(par['c/a']):.3f}–{max(par['c/a']):.3f} |"
    )
print()
print("Foreign CPU: cores busy with processes other than this benchmark's (xtask/bench/foreign_cpu.py), "
      "mean over the run (max of the 2-s samples); 0 = the two cores were ours alone.\n")
print("Goals: sequential c/a >= 0.95, 16 in flight c/a >= 0.90 (medians).\n")
for s in SIDES:
    seq = statistics.median(ratios[(s, "sequential")]["c/a"])
    par = statistics.median(ratios[(s, "16 in flight")]["c/a"])
    print(f"- {s} {commit[s]}: sequential {seq:.3f} {'MET' if seq >= 0.95 else 'NOT MET'}; "
          f"16 in flight {par:.3f} {'MET' if par >= 0.90 else 'NOT MET'}")
print()

print("### Batch and peak RSS lines of each run\n\n```")
for i in range(1, pairs + 1):
    for s in SIDES:
        for l in other_lines(out / "runs" / f"{s}-{i}.txt"):
            print(f"{s} {i}: {l}")
print("```\n")


def total_ir(path):
    for line in path.read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {path}")


names = ["raw (a)", "generated (b)", "balance-api (c)"]
print("## Callgrind, sequential, whole-process instructions per fetch\n")
print(f"Foreign CPU during the callgrind runs: {fmt_foreign(('callgrind', 0))} cores (instruction counts do not depend on it).\n")
print("(Ir(5000 fetches) - Ir(1000 fetches)) / 4000, per repetition; median.\n")
print("| commit | variant | per repetition | median | vs raw |")
print("|---|---|---|---|---|")
for s in SIDES:
    raw = None
    for v, name in enumerate(names):
        per = []
        for r in range(1, reps + 1):
            lo = total_ir(out / "cg" / f"{s}-v{v}-n1000-r{r}.out")
            hi = total_ir(out / "cg" / f"{s}-v{v}-n5000-r{r}.out")
            per.append((hi - lo) / 4000)
        med = statistics.median(per)
        raw = raw or med
        print(f"| {s} {commit[s]} | {name} | {', '.join(f'{x:,.0f}' for x in per)} | {med:,.0f} | {med / raw - 1:+.1%} |")
print()
