#!/usr/bin/env bash
# Peer comparison with the official Twilio SDKs (issue 13, item 1), in one run:
# twilio-python, twilio-node, raw reqwest and balance-api, one reused client each, sequential
# fetches of the Balance endpoint against the same loopback server (balance-api/benches/peer.rs `serve`),
# interleaved for REPS rounds; every client process pinned to core 0 and measured by
# `/usr/bin/time -v`, the server pinned to core 1. Prints a Markdown table of fetches/s and peak
# RSS (median, min–max) and the balance-api/SDK ratios against the goal (≥ 10× fetches/s,
# ≤ 1/5 peak RSS).
#
# It INSTALLS THE SDKs ITSELF (pip install twilio into a venv, npm install twilio) into a scratch
# directory: a fresh `mktemp -d` (deleted afterwards) unless SDK_DIR names one to create/reuse
# (kept). Needs: cargo, python3 (with venv), node + npm, taskset, /usr/bin/time, ≥ 2 cores and
# access to PyPI/npm for the install. Not part of `cargo test` or CI.
#
# Usage: xtask/bench/sdks/run.sh
# Environment (defaults): REPS=5, N_PY=3000, N_NODE=6000, N_RUST=50000 (timed fetches per run;
# 200 warm-up fetches precede each), SDK_DIR (scratch), TWILIO_PY_SPEC=twilio,
# TWILIO_NODE_SPEC=twilio (e.g. twilio==9.13.0 / twilio@6.2.0 to pin), CARGO_TARGET_DIR.
set -euo pipefail

REPS=${REPS:-5}
N_PY=${N_PY:-3000}
N_NODE=${N_NODE:-6000}
N_RUST=${N_RUST:-50000}
TWILIO_PY_SPEC=${TWILIO_PY_SPEC:-twilio}
TWILIO_NODE_SPEC=${TWILIO_NODE_SPEC:-twilio}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
COMMAND="REPS=$REPS N_PY=$N_PY N_NODE=$N_NODE N_RUST=$N_RUST TWILIO_PY_SPEC=$TWILIO_PY_SPEC TWILIO_NODE_SPEC=$TWILIO_NODE_SPEC${SDK_DIR:+ SDK_DIR=$SDK_DIR}${CARGO_TARGET_DIR:+ CARGO_TARGET_DIR=$CARGO_TARGET_DIR} xtask/bench/sdks/run.sh"

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

for tool in cargo python3 node npm taskset; do
    command -v "$tool" >/dev/null || die "needs $tool"
done
[ -x /usr/bin/time ] || die "needs GNU time at /usr/bin/time"
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (client on core 0, server on core 1)"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "${SCRATCH_OWNED:-}" ]; then rm -rf "$SDK_DIR"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD_START=$(cat /proc/loadavg)

# 1. The Rust side, release (bench) profile.
say "== building benches/peer.rs (cargo bench -p balance-api --bench peer --no-run)"
PEER=$(cd "$ROOT" && cargo bench -p balance-api --bench peer --no-run --message-format=json \
    | python3 -c '
import json, sys
exe = None
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "peer" and m.get("executable"):
        exe = m["executable"]
print(exe or "")
') || die "cargo bench --no-run failed (is the library mid-edit? retry later)"
[ -n "$PEER" ] && [ -x "$PEER" ] || die "could not build or locate the peer bench binary"
say "peer binary: $PEER"

# 2. The SDKs, installed into a scratch directory.
if [ -z "${SDK_DIR:-}" ]; then
    SDK_DIR=$(mktemp -d)
    SCRATCH_OWNED=1
fi
mkdir -p "$SDK_DIR/node"
say "== installing the official SDKs into the scratch directory $SDK_DIR"
if [ ! -x "$SDK_DIR/venv/bin/python" ]; then
    python3 -m venv "$SDK_DIR/venv"
fi
say "pip install $TWILIO_PY_SPEC  (into $SDK_DIR/venv)"
"$SDK_DIR/venv/bin/pip" install --quiet --disable-pip-version-check "$TWILIO_PY_SPEC" >&2
say "npm install $TWILIO_NODE_SPEC  (into $SDK_DIR/node)"
(cd "$SDK_DIR/node" && { [ -f package.json ] || npm init -y >/dev/null; } \
    && npm install --silent --no-audit --no-fund "$TWILIO_NODE_SPEC" >&2)
PY="$SDK_DIR/venv/bin/python"
PY_VERSION=$("$PY" -c 'import twilio; print(twilio.__version__)')
NODE_VERSION=$(cd "$SDK_DIR/node" && node -p 'require("twilio/package.json").version')
say "twilio-python $PY_VERSION ($("$PY" --version 2>&1)), twilio-node $NODE_VERSION (node $(node --version))"

# 3. The loopback server, on core 1.
taskset -c 1 "$PEER" serve 127.0.0.1:0 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do
    grep -q '^listening ' "$WORK/server.out" 2>/dev/null && break
    sleep 0.05
done
ADDR=$(awk '/^listening /{print $2; exit}' "$WORK/server.out")
[ -n "$ADDR" ] || die "server did not start: $(cat "$WORK/server.err")"
URL="http://$ADDR"
say "server: $URL (pid $SERVER_PID, core 1)"

conns() { grep -c '^conn ' "$WORK/server.err" || true; }

# One measured run: client label, then the command. Appends label, fetches/s, max RSS KiB and
# the connections the server accepted during the run to $WORK/results.tsv.
measure() {
    local label=$1; shift
    local before after rate rss
    before=$(conns)
    if ! taskset -c 0 /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.json" 2>"$WORK/err.txt"; then
        cat "$WORK/err.txt" >&2
        die "$label failed"
    fi
    after=$(conns)
    rate=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["per_sec"])' "$WORK/out.json")
    rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$WORK/time.txt")
    printf '%s\t%s\t%s\t%s\n' "$label" "$rate" "$rss" "$((after - before))" >>"$WORK/results.tsv"
    say "  $label: $rate fetches/s, peak RSS $rss KiB, connections $((after - before))"
}

# 4. Interleaved rounds.
: >"$WORK/results.tsv"
for rep in $(seq "$REPS"); do
    say "== round $rep/$REPS"
    measure "twilio-python $PY_VERSION" env -u TWILIO_EDGE -u TWILIO_REGION "$PY" "$HERE/client.py" "$URL" "$N_PY"
    measure "twilio-node $NODE_VERSION" env -u TWILIO_EDGE -u TWILIO_REGION SDK_NODE_DIR="$SDK_DIR/node" node "$HERE/client.mjs" "$URL" "$N_NODE"
    measure "raw reqwest" "$PEER" fetch raw "$URL" "$N_RUST"
    measure "balance-api" "$PEER" fetch balance-api "$URL" "$N_RUST"
done
LOAD_END=$(cat /proc/loadavg)

# 5. Report.
CPU=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
echo "## Peer comparison: balance-api vs the official Twilio SDKs"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) cores, ${CPU:-unknown CPU}, Linux $(uname -r)"
echo "- load average at start: $LOAD_START; at end: $LOAD_END"
echo "- command: \`$COMMAND\`"
echo "- SDKs (installed by the script into a scratch directory): twilio-python $PY_VERSION on $("$PY" --version 2>&1), twilio-node $NODE_VERSION on node $(node --version)"
echo "- method: one reused client per process, 200 warm-up fetches then sequential timed fetches (python $N_PY, node $N_NODE, Rust $N_RUST per run) of GET /2010-04-01/Accounts/{Sid}/Balance.json with basic auth, JSON decoded; same loopback HTTP/1.1 keep-alive server; client pinned to core 0 (\`taskset -c 0 /usr/bin/time -v\`), server to core 1; $REPS interleaved rounds (python, node, raw, balance-api); peak RSS = \"Maximum resident set size\" of the client process"
echo
python3 - "$WORK/results.tsv" "$PY_VERSION" "$NODE_VERSION" <<'EOF'
import statistics, sys
path, py_v, node_v = sys.argv[1:4]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
order, data = [], {}
for label, rate, rss, conns in rows:
    if label not in data:
        order.append(label)
        data[label] = {"rate": [], "rss": [], "conns": []}
    data[label]["rate"].append(float(rate))
    data[label]["rss"].append(int(rss) / 1024)
    data[label]["conns"].append(int(conns))

def stat(xs, fmt):
    return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"

print("| client | fetches/s median (min–max) | peak RSS MiB median (min–max) | connections per run |")
print("|---|---|---|---|")
for label in order:
    d = data[label]
    c = sorted(set(d["conns"]))
    print(f"| {label} | {stat(d['rate'], lambda v: f'{v:,.0f}')} | {stat(d['rss'], lambda v: f'{v:.1f}')} | {', '.join(map(str, c))} |")
print()
ba = data["balance-api"]
for sdk in (f"twilio-python {py_v}", f"twilio-node {node_v}"):
    s = data[sdk]
    # Per-round ratios too: the runs of one round are adjacent in time.
    r_rate = [a / b for a, b in zip(ba["rate"], s["rate"])]
    r_rss = [a / b for a, b in zip(ba["rss"], s["rss"])]
    rate = statistics.median(ba["rate"]) / statistics.median(s["rate"])
    rss = statistics.median(ba["rss"]) / statistics.median(s["rss"])
    name = sdk.split()[0]
    print(f"- balance-api / {name} fetches/s: {rate:.1f}× (per round {min(r_rate):.1f}–{max(r_rate):.1f}×); goal ≥ 10×: {'met' if rate >= 10 else 'NOT met'}")
    print(f"- balance-api / {name} peak RSS: {rss:.2f} (1/{1/rss:.1f}; per round {min(r_rss):.2f}–{max(r_rss):.2f}); goal ≤ 1/5 (0.20): {'met' if rss <= 0.2 else 'NOT met'}")
raw = data["raw reqwest"]
print(f"- balance-api / raw reqwest: fetches/s {statistics.median(ba['rate']) / statistics.median(raw['rate']):.2f}, peak RSS {statistics.median(ba['rss']) / statistics.median(raw['rss']):.2f}")
EOF
