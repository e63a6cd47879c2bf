#!/usr/bin/env python3
"""Many main accounts in one process (issue 25): N [[account]] entries, each with credentials of
its own, against the loopback fake (xtask/bench/fake_twilio.py), with a release `balance`.

    cargo build --release -p balance-cli
    python3 xtask/bench/many_accounts.py target/release/balance [N] [REPS]

Measures, each REPS times (medians printed):
  - ready: `balance serve --config` from start until it says it listens (the file read, every
    account checked and its client built);
  - serve RSS: VmRSS of that exporter after its first round has been scraped;
  - one-shot: `balance --config` for all N, against `balance --accounts-file` for the same SIDs
    with one set of credentials (the ratio is the cost of credentials per account);
  - problems: `balance --config` of 200,000 unknown keys, until it has reported them all.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
FAKE_PORT, SERVE_PORT = 18093, 18094
FAKE = f"http://127.0.0.1:{FAKE_PORT}"


def sid(i):
    return f"AC{i:032x}"


def timed(cmd, env):
    start = time.monotonic()
    out = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.monotonic() - start, out


def main():
    work = tempfile.mkdtemp(prefix="many-accounts-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_") and "PROXY" not in k.upper()}
    config = os.path.join(work, "accounts.toml")
    with open(config, "w") as f:
        for i in range(N):
            env[f"T{i}"] = f"token-{i:026d}"
            f.write(f'[[account]]\nname = "a{i}"\naccount_sid = "{sid(i)}"\nauth_token_env = "T{i}"\n\n')
    sids = os.path.join(work, "sids.txt")
    with open(sids, "w") as f:
        f.writelines(sid(i) + "\n" for i in range(N))
    problems = os.path.join(work, "problems.toml")
    with open(problems, "w") as f:
        f.writelines(f"k{i} = 1\n" for i in range(200_000))

    fake = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_twilio.py"), "--port", str(FAKE_PORT), "--delay", "0"],
                            stdout=subprocess.PIPE, text=True)
    fake.stdout.readline()
    rows = {"ready_s": [], "rss_mib": [], "config_s": [], "file_s": [], "problems_s": []}
    try:
        for _ in range(REPS):
            serve = subprocess.Popen([BIN, "serve", "--config", config, "--base-url", FAKE, "--timeout", "120",
                                      "--listen", f"127.0.0.1:{SERVE_PORT}"], env=env, stderr=subprocess.PIPE, text=True)
            start = time.monotonic()
            for line in serve.stderr:
                if "listening on" in line:
                    break
            rows["ready_s"].append(time.monotonic() - start)
            request = urllib.request.Request(f"http://127.0.0.1:{SERVE_PORT}/metrics",
                                             headers={"X-Prometheus-Scrape-Timeout-Seconds": "300"})
            body = urllib.request.urlopen(request, timeout=300).read().decode()
            up = [l for l in body.splitlines() if l.startswith("twilio_balance_up{")]
            assert len(up) == N and all(l.endswith(" 1") for l in up), "a round of every account"
            with open(f"/proc/{serve.pid}/status") as status:
                rss = next(l for l in status if l.startswith("VmRSS:"))
            rows["rss_mib"].append(int(rss.split()[1]) / 1024)
            serve.terminate()
            serve.wait()

            took, out = timed([BIN, "--config", config, "--base-url", FAKE, "--timeout", "120"], env)
            assert out.returncode == 0, out.stderr[-500:]
            rows["config_s"].append(took)
            file_env = dict(env, TWILIO_ACCOUNT_SID=sid(0), TWILIO_AUTH_TOKEN="token-0")
            took, out = timed([BIN, "--accounts-file", sids, "--base-url", FAKE, "--timeout", "120"], file_env)
            assert out.returncode == 0, out.stderr[-500:]
            rows["file_s"].append(took)
            took, out = timed([BIN, "--config", problems], env)
            assert out.returncode == 1 and out.stderr.count(b"\n") >= 200_000, out.stderr[-300:]
            rows["problems_s"].append(took)
    finally:
        fake.terminate()
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"N = {N} accounts, {REPS} reps, medians (all runs: {rows})")
    print("| measurement | median | goal |")
    print("|---|---|---|")
    print(f"| serve: checked and listening | {med['ready_s']:.2f} s | <= 1 s |")
    print(f"| serve: RSS after the first round | {med['rss_mib']:.1f} MiB | <= 64 MiB |")
    print(f"| one-shot --config (own credentials each) | {med['config_s']:.2f} s | |")
    print(f"| one-shot --accounts-file (one credential) | {med['file_s']:.2f} s | |")
    print(f"| ratio config / accounts-file | {med['config_s'] / med['file_s']:.2f}x | <= 1.5x |")
    print(f"| 200,000 unknown keys reported | {med['problems_s']:.2f} s | <= 2 s |")


if __name__ == "__main__":
    main()
