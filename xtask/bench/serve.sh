#!/usr/bin/env bash
# `balance serve` as a Prometheus exporter, beside Debian's prometheus-node-exporter and
# prometheus-blackbox-exporter (their own /metrics) measured the same way in the same run:
#   - cached scrapes/s and latency (wrk --latency, 1 and 16 connections, 10 s), REPS interleaved
#     repetitions; every exporter pinned to core 1, wrk to core 0;
#   - RSS (VmRSS, VmHWM from /proc/PID/status) 2 s after start, after 10,000 sequential
#     scrapes (curl, one connection), and after all the wrk runs;
#   - the first scrape of 100 accounts against a fake Twilio answering each request after 50 ms
#     (xtask/bench/fake_twilio.py, core 0), default --concurrency 8, RUNS fresh starts
#     (xtask/bench/cold_scrape.py), beside the fake's own floor with a Python client
#     (xtask/bench/fake_floor.py).
# balance serve runs twice: --demo (one account, the spec's example on an in-process loopback
# server) and 100 accounts (--accounts-file) against the fake; both with --cache 3600 so every
# measured scrape is a cache hit (the default is 60 s, shorter than the run and its wait for a quiet machine).
#
#   cargo build --release -p balance-cli
#   xtask/bench/serve.sh target/release/balance /tmp/serve-bench [REPS] [RUNS]
#
# Needs wrk, curl, python3, taskset, prometheus-node-exporter, prometheus-blackbox-exporter.
set -euo pipefail

OUT=$2; REPS=${3:-5}; RUNS=${4:-7}
MAX_LOAD=${MAX_LOAD:-1.5}
HERE=$(dirname "$(realpath "$0")")
mkdir -p "$OUT/wrk"; : > "$OUT/wrk-times.tsv"; : > "$OUT/body-sizes.tsv"; : > "$OUT/curl-10k-rate.tsv"
# A copy, so a rebuild during the run cannot change what is measured. When the binary sits in a
# git tree's target/, the tree's HEAD and the binary's build time are noted: build it right
# before this script (`cargo build --release -p balance-cli`) so they agree.
cp "$1" "$OUT/balance"; BIN=$(realpath "$OUT/balance")
echo "tree HEAD $(git -C "$(dirname "$(realpath "$1")")" rev-parse --short HEAD 2>/dev/null || echo unknown), binary built $(date -u -r "$1" +%FT%TZ)" > "$OUT/balance.commit"
FAKE_PORT=18090; FAKE=http://127.0.0.1:$FAKE_PORT
load() { cut -d' ' -f1-3 /proc/loadavg; }

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# 100 account SIDs, and the fake Twilio (50 ms per answer) on core 0.
python3 -c 'for i in range(100): print(f"AC{i:032x}")' > "$OUT/accounts-100.txt"
taskset -c 0 python3 "$HERE/fake_twilio.py" --port $FAKE_PORT --delay 0.05 > "$OUT/fake.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -sf "$FAKE/_count" >/dev/null && break; sleep 0.1; done

export TWILIO_ACCOUNT_SID=AC$(printf 'f%.0s' $(seq 32)) TWILIO_AUTH_TOKEN=bench-token
declare -A URL PID
rss() { # NAME LABEL
  printf '%s\t%s\t%s\n' "$1" "$2" "$(grep -E '^Vm(RSS|HWM)' /proc/${PID[$1]}/status | tr -s ' \t' ' ' | tr '\n' ' ')" >> "$OUT/rss.tsv"
}
NAMES=(balance-demo balance-100 node-exporter blackbox-exporter)
: > "$OUT/rss.tsv"
# RSS "after start" is read before any scrape, so start each, wait 2 s (balance serve's first
# round, which it starts at once, is over by then) and read it before the readiness probe.
idle_start() { # NAME PORT COMMAND...
  local name=$1 port=$2; shift 2
  taskset -c 1 "$@" > "$OUT/$name.log" 2>&1 &
  PID[$name]=$!; PIDS+=($!); URL[$name]=http://127.0.0.1:$port/metrics
  sleep 2; rss "$name" idle
  for _ in $(seq 100); do curl -sf -o /dev/null "${URL[$name]}" && break; sleep 0.1; done
}
idle_start balance-demo 19877 "$BIN" serve --listen 127.0.0.1:19877 --demo --cache 3600
idle_start balance-100 19878 "$BIN" serve --listen 127.0.0.1:19878 --accounts-file "$OUT/accounts-100.txt" \
  --base-url "$FAKE" --cache 3600
idle_start node-exporter 19100 prometheus-node-exporter --web.listen-address=127.0.0.1:19100
idle_start blackbox-exporter 19115 prometheus-blackbox-exporter --web.listen-address=127.0.0.1:19115 \
  --config.file=/etc/prometheus/blackbox.yml
for n in "${NAMES[@]}"; do
  curl -s "${URL[$n]}" > "$OUT/$n.metrics.txt"
  printf '%s\t%s\t%s\n' "$n" "$(wc -c < "$OUT/$n.metrics.txt")" "$(grep -vc '^#' "$OUT/$n.metrics.txt")" >> "$OUT/body-sizes.tsv"
  taskset -cp "${PID[$n]}" >> "$OUT/pinning.txt"
done

# Foreign CPU (everything but this benchmark's processes) every 2 s, for the summary. The fake
# Twilio and cold_scrape.py are python3, so any other python3 counts as ours too.
python3 "$HERE/foreign_cpu.py" "$OUT/foreign-cpu.tsv" balance,prometheus-node,prometheus-blac,wrk,curl,python3 2 &
PIDS+=($!)

# Wait (up to 10 minutes) for a quiet machine before any timing.
for _ in $(seq 60); do
  python3 -c "import sys; sys.exit(0 if float(open('/proc/loadavg').read().split()[0]) < $MAX_LOAD else 1)" && break
  echo "load $(load), waiting" >&2; sleep 10
done
echo "# serve.sh $(date -u +%FT%TZ) $(nproc) cores; $("$BIN" --version 2>&1 | head -1) at $(cat "$OUT/balance.commit"); REPS=$REPS RUNS=$RUNS" > "$OUT/log.txt"
echo "start load $(load)" >> "$OUT/log.txt"

# 10,000 sequential scrapes on one connection (curl URL globbing reuses it), then RSS.
for n in "${NAMES[@]}"; do
  t0=$(date +%s.%N)
  taskset -c 0 curl -sf "${URL[$n]}?scrape=[1-10000]" > /dev/null
  t1=$(date +%s.%N)
  rss "$n" after-10k
  printf '%s\t%s\n' "$n" "$(python3 -c "print(f'{10000/($t1-$t0):.0f}')")" >> "$OUT/curl-10k-rate.tsv"
  echo "10k scrapes $n done, load $(load)" >> "$OUT/log.txt"
done

# wrk, interleaved: every exporter at 1 then 16 connections, REPS times.
for rep in $(seq "$REPS"); do
  for n in "${NAMES[@]}"; do
    for c in 1 16; do
      echo "rep $rep $n c$c load $(load)" >> "$OUT/log.txt"
      t0=$(date +%s.%N)
      taskset -c 0 wrk -t1 -c$c -d${WRK_SECS:-10}s --latency "${URL[$n]}" > "$OUT/wrk/$n-c$c-r$rep.txt"
      printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$c" "$rep" "$t0" "$(date +%s.%N)" >> "$OUT/wrk-times.tsv"
    done
  done
done
for n in "${NAMES[@]}"; do rss "$n" after-wrk; done
echo "wrk done load $(load)" >> "$OUT/log.txt"

# Cold scrape: stop the steady-state exporters, then RUNS fresh starts of 100 accounts.
cleanup; PIDS=()
python3 "$HERE/foreign_cpu.py" "$OUT/foreign-cpu.tsv" balance,prometheus-node,prometheus-blac,wrk,curl,python3 2 &
PIDS+=($!)
taskset -c 0 python3 "$HERE/fake_twilio.py" --port $FAKE_PORT --delay 0.05 > "$OUT/fake.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -sf "$FAKE/_count" >/dev/null && break; sleep 0.1; done
echo "cold start load $(load)" >> "$OUT/log.txt"; COLD_T0=$(date +%s.%N)
# The fake's own floor: 100 requests, 8 in flight on keep-alive connections, a Python client.
taskset -c 0 python3 "$HERE/fake_floor.py" $FAKE_PORT "$RUNS" > "$OUT/fake-floor.txt"
taskset -c 0 python3 "$HERE/cold_scrape.py" "$BIN" "$OUT/accounts-100.txt" "$FAKE" 19879 "$RUNS" > "$OUT/cold.jsonl"
echo "cold done load $(load) $(date -u +%FT%TZ)" >> "$OUT/log.txt"
printf 'cold\t0\t0\t%s\t%s\n' "$COLD_T0" "$(date +%s.%N)" >> "$OUT/wrk-times.tsv"

python3 "$HERE/serve-summary.py" "$OUT" | tee "$OUT/summary.md"
