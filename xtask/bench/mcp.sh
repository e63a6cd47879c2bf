#!/usr/bin/env bash
# MCP server startup and memory (issue 12's figures, in issue 13's table): balance-mcp --demo next
# to Twilio's own MCP server, @twilio-alpha/mcp 0.7.0 (Node), measured by mcp-startup.py in one
# session, INTERLEAVED: each round runs the harness once (--reps 1) on ours and, every other
# round, once on Twilio's, so drift on the machine hits both alike. Per repetition:
#   - time from spawn to the stdout line answering `initialize`;
#   - peak RSS (VmHWM) read after the last answer: for ours after tools/list + tools/call
#     get_balance {}; for Twilio's after tools/list only (its tools need real credentials, so
#     they are not called; with fake ones it answers initialize and tools/list offline).
# Prints medians with min–max and the goals for balance-mcp (≤ 20 ms, ≤ 12 MiB).
# Also writes a raw transcript of ours (initialize -> tools/list -> tools/call get_balance).
#
# Needs: cargo, python3, node (+ npm if /tmp/twilio-mcp lacks the package: it then runs
# `npm install @twilio-alpha/mcp@0.7.0` there). Not part of CI.
#
# Usage: xtask/bench/mcp.sh
# Environment (defaults): ROUNDS=20 (ours: ROUNDS reps; Twilio's: ROUNDS/2),
# TWILIO_MCP_DIR=/tmp/twilio-mcp, TRANSCRIPT=/tmp/mcp-transcript.txt, CARGO_TARGET_DIR.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-20}
TWILIO_MCP_DIR=${TWILIO_MCP_DIR:-/tmp/twilio-mcp}
TRANSCRIPT=${TRANSCRIPT:-/tmp/mcp-transcript.txt}
HARNESS="$HERE/mcp-startup.py"
FAKE="AC00000000000000000000000000000000/SK00000000000000000000000000000000:fakesecret"

say() { printf '%s\n' "$*" >&2; }

say "== cargo build --release -p balance-cli --bin balance-mcp"
(cd "$ROOT" && cargo build --release -p balance-cli --bin balance-mcp >&2)
OURS="${CARGO_TARGET_DIR:-$ROOT/target}/release/balance-mcp"
[ -x "$OURS" ] || { say "no $OURS"; exit 1; }

THEIRS="$TWILIO_MCP_DIR/node_modules/@twilio-alpha/mcp/build/index.js"
if [ ! -f "$THEIRS" ]; then
    say "== npm install @twilio-alpha/mcp@0.7.0 into $TWILIO_MCP_DIR"
    mkdir -p "$TWILIO_MCP_DIR"
    (cd "$TWILIO_MCP_DIR" && npm install --silent --no-audit --no-fund @twilio-alpha/mcp@0.7.0 >&2)
fi
THEIRS_VERSION=$(node -p "require('$TWILIO_MCP_DIR/node_modules/@twilio-alpha/mcp/package.json').version")

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LOAD_START=$(cat /proc/loadavg)

# A server's environment without Twilio settings, for both.
for v in $(compgen -e | grep '^TWILIO_' || true); do unset "$v"; done

for i in $(seq "$ROUNDS"); do
    extra=()
    [ "$i" -eq 1 ] && extra=(--transcript "$TRANSCRIPT")
    python3 "$HARNESS" --reps 1 --label balance-mcp --call get_balance --args '{}' "${extra[@]}" \
        -- "$OURS" --demo | tail -1 >>"$WORK/ours.jsonl" || true
    if [ $((i % 2)) -eq 1 ]; then
        python3 "$HARNESS" --reps 1 --label "@twilio-alpha/mcp $THEIRS_VERSION" \
            -- node "$THEIRS" "$FAKE" | tail -1 >>"$WORK/theirs.jsonl" || true
    fi
done
LOAD_END=$(cat /proc/loadavg)

echo "## MCP server startup and memory"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(nproc) cores; node $(node --version); python $(python3 -c 'import platform; print(platform.python_version())')"
echo "- load average at start: $LOAD_START; at end: $LOAD_END"
echo "- command: \`ROUNDS=$ROUNDS xtask/bench/mcp.sh\` (interleaved: ours every round, Twilio's every other)"
echo "- transcript of ours: $TRANSCRIPT"
echo
python3 - "$WORK/ours.jsonl" "$WORK/theirs.jsonl" <<'EOF'
import json, statistics, sys

def load(path):
    return [json.loads(l) for l in open(path) if l.strip()]

def stat(xs, unit):
    return f"{statistics.median(xs):.1f} {unit} ({min(xs):.1f}–{max(xs):.1f})"

rows, notes = {}, []
print("| server | reps ok | to initialize answer, median (min–max) | peak RSS, median (min–max) | tools | exit | stdout all JSON-RPC | errors |")
print("|---|---|---|---|---|---|---|---|")
for path in sys.argv[1:3]:
    runs = load(path)
    label = runs[0]["label"]
    init = [r["init_ms_median"] for r in runs if r["init_ms_median"] is not None]
    rss = [r["peak_rss_mib_max"] for r in runs if r["peak_rss_mib_max"] is not None]
    tools = sorted({r["tools"] for r in runs if isinstance(r["tools"], int)})
    exits = sorted({e for r in runs for e in r["exit_codes"]})
    errors = sorted({e for r in runs for e in r["errors"]})
    clean = all(r["stdout_all_jsonrpc"] for r in runs)
    calls = [r["call_ms_median"] for r in runs if r["call_ms_median"] is not None]
    call_err = sorted({str(r["call_is_error"]) for r in runs if r["call_is_error"] is not None})
    kinds = sorted({k for r in runs for k in r["non_jsonrpc_kinds"]})
    rows[label] = (init, rss)
    print(f"| {label} | {len(init)}/{len(runs)} | {stat(init, 'ms')} | {stat(rss, 'MiB')} | {', '.join(map(str, tools))} | {', '.join(exits)} | {'yes' if clean else 'NO: ' + '; '.join(kinds)} | {'; '.join(errors) or 'none'} |")
    notes.append(f"- {label}: to the initialize answer, every rep in ms, sorted: {', '.join(f'{x:.1f}' for x in sorted(init))}")
    if calls:
        notes.append(f"- {label}: tools/call get_balance answered in {statistics.median(calls):.1f} ms median; isError: {', '.join(call_err)}")
    examples = [r["non_jsonrpc_example"] for r in runs if r["non_jsonrpc_example"]]
    if examples:
        notes.append(f"- {label}: a stdout line that is not a JSON-RPC message a server may send: `{examples[0]}`")
print()
print("\n".join(notes))
ours_init, ours_rss = rows["balance-mcp"]
(theirs_label, (t_init, t_rss)), = [(k, v) for k, v in rows.items() if k != "balance-mcp"]
mi, mr = statistics.median(ours_init), statistics.median(ours_rss)
print()
print(f"- balance-mcp to initialize answer: {mi:.1f} ms median (max {max(ours_init):.1f}); goal ≤ 20 ms: {'met' if mi <= 20 else 'NOT met'}")
print(f"- balance-mcp peak RSS: {mr:.1f} MiB median (max {max(ours_rss):.1f}); goal ≤ 12 MiB: {'met' if mr <= 12 else 'NOT met'}")
print(f"- {theirs_label} / balance-mcp: startup {statistics.median(t_init) / mi:.0f}×, peak RSS {statistics.median(t_rss) / mr:.1f}×")
EOF
