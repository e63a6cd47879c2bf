#!/usr/bin/env python3
"""The first scrape of a freshly started `balance serve`, N fresh starts, for xtask/bench/serve.sh.

    python3 xtask/bench/cold_scrape.py BALANCE_BIN ACCOUNTS_FILE FAKE_URL PORT RUNS [extra serve args]

Each run starts `taskset -c 1 BALANCE_BIN serve --listen 127.0.0.1:PORT --accounts-file FILE
--base-url FAKE_URL [extra]` with TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN set, waits for its
"listening" line on stderr, sends GET /metrics at once and times the answer. Prints one JSON
line per run: spawn->answer and listening->answer seconds, the round duration the exporter
reports, whether a round was still in progress, how many accounts were up, and how many
requests the fake saw during the run.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

binary, accounts, fake, port, runs = sys.argv[1:6]
extra = sys.argv[6:]
env = dict(os.environ)
env["TWILIO_ACCOUNT_SID"] = "AC" + "f" * 32
env["TWILIO_AUTH_TOKEN"] = "bench-token"


def fake_count():
    with urllib.request.urlopen(f"{fake}/_count") as r:
        return int(r.read())


def metric(text, name):
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


for run in range(1, int(runs) + 1):
    before = fake_count()
    spawned = time.perf_counter()
    proc = subprocess.Popen(
        ["taskset", "-c", "1", binary, "serve", "--listen", f"127.0.0.1:{port}",
         "--accounts-file", accounts, "--base-url", fake, *extra],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    line = proc.stderr.readline()
    listening = time.perf_counter()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"unexpected stderr: {line!r}")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        body = r.read().decode()
    answered = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    up = len(re.findall(r"^twilio_balance_up\{.*\} 1$", body, re.M))
    print(json.dumps({
        "run": run,
        "spawn_to_answer_s": round(answered - spawned, 4),
        "listening_to_answer_s": round(answered - listening, 4),
        "round_duration_s": metric(body, "twilio_balance_round_duration_seconds"),
        "round_in_progress": metric(body, "twilio_balance_round_in_progress"),
        "accounts_up": up,
        "fake_requests": fake_count() - before,
    }), flush=True)
    time.sleep(0.5)
