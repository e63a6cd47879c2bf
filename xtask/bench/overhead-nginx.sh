#!/usr/bin/env bash
# Per-fetch overhead of balance-api against raw reqwest+serde, two commits side by side, against
# loopback nginx (xtask/bench/nginx-balance.conf, one worker pinned to core 1) with the bench
# pinned to core 0. Runs balance-api/benches/overhead.rs (BENCH_BASE_URL aims its fetch rates at
# nginx) alternately from the two trees: before, after, before, after, ... PAIRS times; then
# callgrind instructions per fetch, sequential and 16 in flight, for raw (a), generated (b) and
# balance-api (c) with the bench's --fetches-child mode, at both commits.
#
#   xtask/bench/overhead-nginx.sh BEFORE_TREE AFTER_TREE OUT_DIR [PAIRS]
#
# e.g. (the old commit in a worktree with its own target dir, its overhead.rs given the same
# BENCH_BASE_URL / --fetches-child change as this tree's):
#   git worktree add --detach /tmp/wt-before 0b6e58b
#   cp balance-api/benches/overhead.rs /tmp/wt-before/balance-api/benches/overhead.rs
#   BEFORE_TARGET=/tmp/wt-before/target xtask/bench/overhead-nginx.sh /tmp/wt-before "$PWD" /tmp/overhead-nginx 6
#
# Environment: BEFORE_TARGET / AFTER_TARGET (CARGO_TARGET_DIR of each tree; default TREE/target),
# CG_REPS (callgrind repetitions, default 3), MAX_LOAD (wait, up to 10 minutes, until the
# 1-minute load average is below it before timing; default 1.5), PORT (nginx; default 18089,
# must match the conf). Needs nginx, valgrind, taskset, python3.
set -euo pipefail

BEFORE=$(realpath "$1"); AFTER=$(realpath "$2"); OUT=$3; PAIRS=${4:-5}
BEFORE_TARGET=${BEFORE_TARGET:-$BEFORE/target}
AFTER_TARGET=${AFTER_TARGET:-$AFTER/target}
CG_REPS=${CG_REPS:-3}
MAX_LOAD=${MAX_LOAD:-1.5}
PORT=${PORT:-18089}
HERE=$(dirname "$(realpath "$0")")
URL=http://127.0.0.1:$PORT
mkdir -p "$OUT/bin" "$OUT/runs" "$OUT/cg"; : > "$OUT/runs/times.tsv"

load() { cut -d' ' -f1-3 /proc/loadavg; }

# Build each tree's bench binary and copy it out, so a rebuild in the tree during the runs
# cannot change what is measured.
for side in before after; do
  if [ $side = before ]; then tree=$BEFORE; target=$BEFORE_TARGET; else tree=$AFTER; target=$AFTER_TARGET; fi
  git -C "$tree" rev-parse HEAD > "$OUT/bin/$side.commit"
  git -C "$tree" status --porcelain > "$OUT/bin/$side.status"
  exe=$(cd "$tree" && CARGO_TARGET_DIR=$target cargo bench -p balance-api --bench overhead --no-run \
          --message-format=json 2>/dev/null \
        | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable") and m["target"]["name"]=="overhead": print(m["executable"])' | tail -1)
  cp "$exe" "$OUT/bin/overhead-$side"
  echo "$side: $(cat "$OUT/bin/$side.commit") $exe" | tee -a "$OUT/bin/built.txt"
done

# nginx: a plain process (daemon off), one worker, pinned to core 1.
NGX=$OUT/nginx; mkdir -p "$NGX"
taskset -c 1 nginx -p "$NGX/" -c "$HERE/nginx-balance.conf" &
NGINX_PID=$!
trap 'kill -QUIT $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "$URL/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Balance.json" >/dev/null && break; sleep 0.1; done
curl -si "$URL/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Balance.json" > "$OUT/nginx-response.txt"
for p in $NGINX_PID $(pgrep -P $NGINX_PID); do taskset -cp "$p"; done | tee "$OUT/nginx-pinning.txt"

# Foreign CPU (everything but this benchmark's processes) every 2 s, for the summary.
python3 "$HERE/foreign_cpu.py" "$OUT/foreign-cpu.tsv" overhead-before,overhead-after,nginx,callgrind-amd64,valgrind 2 &
MONITOR_PID=$!
trap 'kill $MONITOR_PID 2>/dev/null; kill -QUIT $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null || true' EXIT

# Wait (up to 10 minutes) for a quiet machine.
for _ in $(seq 60); do
  python3 -c "import sys; sys.exit(0 if float(open('/proc/loadavg').read().split()[0]) < $MAX_LOAD else 1)" && break
  echo "load $(load), waiting" >&2; sleep 10
done

echo "# overhead-nginx: $(date -u +%FT%TZ), $(nproc) cores, PAIRS=$PAIRS" > "$OUT/log.txt"
for i in $(seq "$PAIRS"); do
  for side in before after; do
    start="$(load)"; t0=$(date +%s.%N)
    BENCH_BASE_URL=$URL taskset -c 0 "$OUT/bin/overhead-$side" --bench > "$OUT/runs/$side-$i.txt" 2>&1
    t1=$(date +%s.%N); printf '%s\t%s\t%s\t%s\n' "$side" "$i" "$t0" "$t1" >> "$OUT/runs/times.tsv"
    echo "$side run $i: load before $start, after $(load)" | tee -a "$OUT/log.txt"
  done
done

# Callgrind: whole-process instructions, marginal per fetch = (Ir(5000) - Ir(1000)) / 4000,
# sequential (cg/SIDE-vV-nN-rR.out, the names overhead-summary.py reads) and 16 in flight
# (cg/SIDE-vV-i16-nN-rR.out).
echo "# callgrind: $(date -u +%FT%TZ) load $(load)" >> "$OUT/log.txt"
printf 'callgrind\t0\t%s\t' "$(date +%s.%N)" >> "$OUT/runs/times.tsv"
for rep in $(seq "$CG_REPS"); do
  for side in before after; do
    for v in 0 1 2; do
      for in_flight in 1 16; do
        mode=""; [ "$in_flight" = 1 ] || mode="-i$in_flight"
        for n in 1000 5000; do
          f="$OUT/cg/$side-v$v$mode-n$n-r$rep"
          taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$f.out" \
            "$OUT/bin/overhead-$side" --fetches-child $v "$URL" $n "$in_flight" 2> "$f.log"
        done
      done
    done
  done
done
echo "# done: $(date -u +%FT%TZ) load $(load)" >> "$OUT/log.txt"
printf '%s\n' "$(date +%s.%N)" >> "$OUT/runs/times.tsv"

python3 "$HERE/overhead-summary.py" "$OUT" "$PAIRS" "$CG_REPS" | tee "$OUT/summary.md"

# Both modes side by side: median per fetch of each variant over the repetitions, and the
# ratios of those medians.
python3 - "$OUT" "$CG_REPS" <<'EOF' | tee -a "$OUT/summary.md"
import statistics, sys
from pathlib import Path

out, reps = Path(sys.argv[1]), int(sys.argv[2])


def total_ir(path):
    for line in path.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {path}")


print("## Callgrind, instructions per fetch, sequential and 16 in flight\n")
print("(Ir(5000 fetches) - Ir(1000 fetches)) / 4000, median of the repetitions; a raw reqwest+serde, "
      "b generated, c balance-api.\n")
for mode, tag in [("sequential", ""), ("16 in flight", "-i16")]:
    print(f"### {mode}\n")
    print("| commit | a Ir/fetch | b Ir/fetch | c Ir/fetch | b/a | c/a |")
    print("|---|---|---|---|---|---|")
    for side in ["before", "after"]:
        commit = (out / "bin" / f"{side}.commit").read_text().strip()[:7]
        med = []
        for v in range(3):
            per = [(total_ir(out / "cg" / f"{side}-v{v}{tag}-n5000-r{r}.out")
                    - total_ir(out / "cg" / f"{side}-v{v}{tag}-n1000-r{r}.out")) / 4000
                   for r in range(1, reps + 1)]
            med.append(statistics.median(per))
        a, b, c = med
        print(f"| {side} {commit} | {a:,.0f} | {b:,.0f} | {c:,.0f} | {b / a:.3f} | {c / a:.3f} |")
    print()
EOF
