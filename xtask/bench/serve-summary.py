#!/usr/bin/env python3
"""Summarises an xtask/bench/serve.sh output directory as markdown: python3 serve-summary.py OUT."""

import json
import re
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
NAMES = ["balance-demo", "balance-100", "node-exporter", "blackbox-exporter"]
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(path):
    text = path.read_text()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    pct = {p: float(v) * UNIT[u] for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)$", text, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", text)
    return rate, pct, errors.group(0) if errors else ""


samples = []
if (out / "foreign-cpu.tsv").exists():
    for line in (out / "foreign-cpu.tsv").read_text().splitlines():
        t, _total, _own, f = line.split("\t")[:4]
        samples.append((float(t), float(f)))
times = {}
for line in (out / "wrk-times.tsv").read_text().splitlines():
    n, c, r, t0, t1 = line.split("\t")
    inside = [f for t, f in samples if float(t0) < t <= float(t1) + 1]
    if inside:
        times[(n, int(c), int(r))] = sum(inside) / len(inside)

sizes = {}
for line in (out / "body-sizes.tsv").read_text().splitlines():
    n, b, samples = line.split("\t")
    sizes[n] = (int(b), int(samples))

reps = sorted({int(p.stem.rsplit("-r", 1)[1]) for p in (out / "wrk").glob("*.txt")})
print("## Cached scrapes (wrk -t1 -d10s --latency; exporter on core 1, wrk on core 0)\n")
print(f"Medians of {len(reps)} interleaved repetitions (min–max in brackets). Foreign CPU: cores busy with "
      "processes other than this benchmark's (xtask/bench/foreign_cpu.py), mean over that exporter's runs.\n")
print("| exporter | body bytes / samples | c=1 scrapes/s | c=1 p50 ms | c=1 p99 ms | c=16 scrapes/s | c=16 p50 ms | c=16 p99 ms | foreign CPU, cores |")
print("|---|---|---|---|---|---|---|---|---|")
raw_rows = []
for n in NAMES:
    cells = []
    for c in (1, 16):
        runs = [wrk(out / "wrk" / f"{n}-c{c}-r{r}.txt") for r in reps]
        rates = [r[0] for r in runs]
        p50 = [r[1]["50"] for r in runs]
        p99 = [r[1]["99"] for r in runs]
        cells += [
            f"{statistics.median(rates):,.0f} ({min(rates):,.0f}–{max(rates):,.0f})",
            f"{statistics.median(p50):.3f}",
            f"{statistics.median(p99):.3f} ({min(p99):.3f}–{max(p99):.3f})",
        ]
        errs = [r[2] for r in runs if r[2]]
        fc = [times.get((n, c, r)) for r in reps]
        raw_rows.append(f"{n} c={c}: rates {', '.join(f'{x:.0f}' for x in rates)}; "
                        f"p99 ms {', '.join(f'{x:.3f}' for x in p99)}; foreign cores "
                        + ", ".join("–" if x is None else f"{x:.2f}" for x in fc) + (f"; {errs}" if errs else ""))
    b, s = sizes[n]
    fc = [v for (m, _, _), v in times.items() if m == n]
    fcs = f"{statistics.mean(fc):.2f} (max {max(fc):.2f})" if fc else "–"
    print(f"| {n} | {b} / {s} | " + " | ".join(cells) + f" | {fcs} |")
print("\nPer repetition:\n\n```\n" + "\n".join(raw_rows) + "\n```\n")

rates10k = dict(l.split("\t") for l in (out / "curl-10k-rate.tsv").read_text().splitlines())
rss = {}
for line in (out / "rss.tsv").read_text().splitlines():
    n, label, text = line.split("\t")
    vals = dict(re.findall(r"(Vm\w+): (\d+) kB", text))
    rss[(n, label)] = (int(vals["VmRSS"]) / 1024, int(vals["VmHWM"]) / 1024)
print("## Memory (MiB; VmRSS / VmHWM from /proc/PID/status)\n")
print("| exporter | idle, 2 s after start | after 10,000 sequential scrapes | after all wrk runs too | curl 10k scrapes/s |")
print("|---|---|---|---|---|")
for n in NAMES:
    f = lambda label: "%.1f / %.1f" % rss[(n, label)] if (n, label) in rss else "–"
    print(f"| {n} | {f('idle')} | {f('after-10k')} | {f('after-wrk')} | {rates10k.get(n, '–')} |")
print()

cold = [json.loads(l) for l in (out / "cold.jsonl").read_text().splitlines()]
if cold:
    print("## Cold scrape: 100 accounts, fake Twilio 50 ms per answer, --concurrency 8\n")
    print(f"{len(cold)} fresh starts. balance serve starts its first round as it starts listening;"
          " the first scrape, sent as soon as the 'listening' line appears, joins that round.\n")
    print("| run | spawn → answer s | listening → answer s | reported round duration s | in progress | up | fake requests |")
    print("|---|---|---|---|---|---|---|")
    for c in cold:
        print(f"| {c['run']} | {c['spawn_to_answer_s']:.3f} | {c['listening_to_answer_s']:.3f} | {c['round_duration_s']} "
              f"| {c['round_in_progress']} | {c['accounts_up']} | {c['fake_requests']} |")
    med = lambda k: statistics.median(c[k] for c in cold)
    print(f"\nMedians: spawn → answer {med('spawn_to_answer_s'):.3f} s, listening → answer "
          f"{med('listening_to_answer_s'):.3f} s, round {med('round_duration_s'):.3f} s. Floor: 100/8 × 50 ms = 0.625 s "
          f"(with whole requests, 13 waves × 50 ms = 0.650 s). Ratio of spawn → answer to 0.650 s: "
          f"{med('spawn_to_answer_s') / 0.650:.2f}.\n")

floor_file = out / "fake-floor.txt"
if floor_file.exists():
    floors = [float(x) for x in floor_file.read_text().split()]
    print(f"The fake's own floor (fake_floor.py: the same 100 requests, 8 in flight, Python client): "
          f"{', '.join(f'{x:.3f}' for x in floors)} s; median {statistics.median(floors):.3f} s. "
          f"Cold scrape spawn → answer / fake floor: "
          f"{statistics.median(c['spawn_to_answer_s'] for c in cold) / statistics.median(floors):.3f}.\n")

if ("cold", 0, 0) in times:
    print(f"Foreign CPU during the cold starts: {times[('cold', 0, 0)]:.2f} cores on average.\n")

log = (out / "log.txt").read_text()
print("## Load during the run\n\n```\n" + log + "```")
