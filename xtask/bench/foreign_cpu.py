#!/usr/bin/env python3
"""How busy the machine is with other work while a benchmark runs.

    python3 xtask/bench/foreign_cpu.py OUT.tsv NAME[,NAME...] [INTERVAL_S]

Every INTERVAL_S (default 1) it appends a line: Unix time, CPU in use by everything (cores,
from /proc/stat), CPU in use by the benchmark's own processes (those whose comm is one of the
NAMEs, or a child of one: cores, from /proc/PID/stat), their difference (the foreign load), and
the three busiest foreign processes. The load average counts the benchmark's own runnable
threads; this does not. Runs until killed. The summary scripts average the foreign column over
each timed run.

An upper bound: CPU of the benchmark's own short-lived children that exit within a sample (the
overhead bench's --rss-child runs, for one) is in the /proc/stat total but in no live process,
so it counts as foreign; samples with a large foreign figure and no foreign process named are
that.
"""

import os
import sys
import time

out, names = sys.argv[1], set(sys.argv[2].split(","))
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
HZ = os.sysconf("SC_CLK_TCK")


def busy():
    parts = open("/proc/stat").readline().split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / HZ


def procs():
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            text = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 2 :].split()
        ppid, utime, stime = int(rest[1]), int(rest[11]), int(rest[12])
        found[int(pid)] = (comm, ppid, (utime + stime) / HZ)
    return found


def ours(found):
    mine = {pid for pid, (comm, _, _) in found.items() if comm in names}
    grew = True
    while grew:
        more = {pid for pid, (_, ppid, _) in found.items() if ppid in mine} - mine
        grew = bool(more)
        mine |= more
    return mine


prev_busy, prev = busy(), procs()
with open(out, "a") as f:
    while True:
        time.sleep(interval)
        now_busy, now = busy(), procs()
        mine = ours(now)
        delta = {pid: now[pid][2] - prev[pid][2] for pid in now if pid in prev}
        own = sum(d for pid, d in delta.items() if pid in mine) / interval
        total = (now_busy - prev_busy) / interval
        foreign = max(0.0, total - own)
        top = sorted(((d, now[pid][0]) for pid, d in delta.items() if pid not in mine and d > 0), reverse=True)[:3]
        tops = " ".join(f"{comm}:{d / interval:.2f}" for d, comm in top)
        f.write(f"{time.time():.1f}\t{total:.2f}\t{own:.2f}\t{foreign:.2f}\t{tops}\n")
        f.flush()
        prev_busy, prev = now_busy, now
