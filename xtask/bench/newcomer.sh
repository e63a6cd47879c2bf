#!/usr/bin/env bash
# The newcomer's wait, cold (issue 13, item 4): three builds from an EMPTY target directory, with
# the crates already in ~/.cargo/registry (run `cargo fetch` once beforehand), each timed once:
#
#   a. the README's first command, `cargo run -p balance-cli --timings -- --demo`, with no
#      TWILIO_* variables: wall time from start until its first stdout line, and to its exit;
#   b. `cargo test --workspace --timings` until it exits (build + every test);
#   c. `cargo build --timings` of a new project whose only dependency is balance-api (default
#      features), with this repository's Cargo.lock copied in so that versions match.
#
# For each it keeps cargo's --timings HTML report and prints the slowest crates from it (a crate's
# units summed: build-script compile + build-script run + library), plus the slowest units.
# Takes several minutes on 2 cores; not part of CI. Run it with nothing else using the CPU: before
# each build it waits (up to QUIET_WAIT seconds) for the 1-minute load average to fall below
# QUIET_LOAD, and prints the load it started at.
#
# Usage: xtask/bench/newcomer.sh [a|b|c]...     (default: a b c)
# Environment (defaults): OUT=/tmp/newcomer (reports and logs), COLD_RUN=/tmp/cold-run,
# COLD_TEST=/tmp/cold-test, NEWPROJ=/tmp/newproj (all three are DELETED and recreated),
# QUIET_LOAD=0.5, QUIET_WAIT=300.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-/tmp/newcomer}
COLD_RUN=${COLD_RUN:-/tmp/cold-run}
COLD_TEST=${COLD_TEST:-/tmp/cold-test}
NEWPROJ=${NEWPROJ:-/tmp/newproj}
QUIET_LOAD=${QUIET_LOAD:-0.5}
QUIET_WAIT=${QUIET_WAIT:-300}
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(a b c)

# A newcomer has no Twilio settings.
for v in $(compgen -e | grep '^TWILIO_' || true); do unset "$v"; done
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR RUSTC_WRAPPER
mkdir -p "$OUT"

say() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", e - s }'; }

wait_quiet() {
    local waited=0
    while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v q="$QUIET_LOAD" 'BEGIN { exit !(l >= q) }'; do
        [ "$waited" -ge "$QUIET_WAIT" ] && { say "load still $(cut -d' ' -f1-3 /proc/loadavg) after ${waited}s; going on"; break; }
        sleep 10; waited=$((waited + 10))
    done
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# The slowest crates and units of a --timings report.
slowest() {
    python3 - "$1" <<'EOF'
import collections, json, re, sys
html = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\s*const ", html, re.S).group(1))
total = re.search(r"<td>Total time:</td><td>([^<]*)</td>", html)
count = re.search(r"<td>Total units:</td><td>([^<]*)</td>", html)
crates = collections.defaultdict(float)
for u in units:
    crates[f"{u['name']} {u['version']}"] += u["duration"]
print(f"  cargo --timings: total {total.group(1) if total else '?'}, {count.group(1) if count else '?'} units")
print("  slowest crates (units summed, s):")
for name, d in sorted(crates.items(), key=lambda kv: -kv[1])[:8]:
    print(f"    {d:6.1f}  {name}")
print("  slowest units (s):")
for u in sorted(units, key=lambda u: -u["duration"])[:8]:
    print(f"    {u['duration']:6.1f}  {u['name']} {u['version']} {u['target'].strip()} {u['mode']}")
EOF
}

keep_report() { # target dir, name
    local report
    report=$(ls -t "$1"/cargo-timings/cargo-timing-*.html 2>/dev/null | head -1)
    [ -n "$report" ] || { say "no --timings report in $1/cargo-timings"; return 1; }
    cp "$report" "$OUT/$2-timings.html"
    echo "  report: $OUT/$2-timings.html (also $report)"
    slowest "$report"
}

step_a() {
    echo "== a. cargo run -p balance-cli --timings -- --demo  (CARGO_TARGET_DIR=$COLD_RUN, empty)"
    rm -rf "$COLD_RUN"
    wait_quiet
    local start end rc
    start=$(now)
    set +e
    (cd "$ROOT" && CARGO_TARGET_DIR="$COLD_RUN" cargo run -p balance-cli --timings -- --demo \
        2>"$OUT/run.stderr") \
        | python3 -u -c '
import sys, time
start, mark = float(sys.argv[1]), sys.argv[2]
first = True
for line in sys.stdin:
    if first:
        open(mark, "w").write(f"{time.time() - start:.1f}\n")
        first = False
    sys.stdout.write(line)
' "$start" "$OUT/run.first" >"$OUT/run.stdout"
    rc=${PIPESTATUS[0]}
    set -e
    end=$(now)
    echo "  exit status $rc"
    echo "  first stdout line after $(cat "$OUT/run.first" 2>/dev/null || echo 'n/a (none)') s: $(head -1 "$OUT/run.stdout")"
    echo "  whole command: $(elapsed "$start" "$end") s"
    echo "  crates compiled: $(grep -c '^ *Compiling ' "$OUT/run.stderr" || true)"
    keep_report "$COLD_RUN" run
}

step_b() {
    echo "== b. cargo test --workspace --timings  (CARGO_TARGET_DIR=$COLD_TEST, empty)"
    rm -rf "$COLD_TEST"
    wait_quiet
    local start end rc
    start=$(now)
    set +e
    (cd "$ROOT" && CARGO_TARGET_DIR="$COLD_TEST" cargo test --workspace --timings \
        >"$OUT/test.stdout" 2>"$OUT/test.stderr")
    rc=$?
    set -e
    end=$(now)
    echo "  exit status $rc"
    echo "  whole command: $(elapsed "$start" "$end") s"
    echo "  crates compiled: $(grep -c '^ *Compiling ' "$OUT/test.stderr" || true)"
    python3 - "$OUT/test.stdout" <<'EOF'
import re, sys
passed = failed = ignored = 0
for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", open(sys.argv[1]).read()):
    passed += int(m.group(1)); failed += int(m.group(2)); ignored += int(m.group(3))
print(f"  tests: {passed} passed, {failed} failed, {ignored} ignored")
EOF
    grep -h 'SKIPPED' "$OUT/test.stdout" "$OUT/test.stderr" | head -3 | sed 's/^/  /' || true
    keep_report "$COLD_TEST" test
}

step_c() {
    echo "== c. cargo build --timings of a new project depending on balance-api only  ($NEWPROJ, empty target)"
    rm -rf "$NEWPROJ"
    cargo new --quiet --vcs none --name newproj "$NEWPROJ"
    cat >>"$NEWPROJ/Cargo.toml" <<EOF
balance-api = { path = "$ROOT/balance-api" }
EOF
    cat >"$NEWPROJ/src/main.rs" <<'EOF'
fn main() {
    match balance_api::Client::from_env() {
        Ok(client) => println!("client ready: {client:?}"),
        Err(e) => eprintln!("{e}"),
    }
}
EOF
    cp "$ROOT/Cargo.lock" "$NEWPROJ/Cargo.lock"
    wait_quiet
    local start end rc
    start=$(now)
    set +e
    (cd "$NEWPROJ" && cargo build --timings >"$OUT/newproj.stdout" 2>"$OUT/newproj.stderr")
    rc=$?
    set -e
    end=$(now)
    echo "  exit status $rc"
    echo "  whole command: $(elapsed "$start" "$end") s"
    echo "  crates compiled: $(grep -c '^ *Compiling ' "$OUT/newproj.stderr" || true)"
    keep_report "$NEWPROJ/target" newproj
}

echo "# newcomer.sh, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) cores, $(cargo --version)"
echo "# source: $ROOT, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "${COMMIT:-unknown (not a git checkout; set COMMIT)}")"
for s in "${STEPS[@]}"; do
    case $s in
        a) step_a ;;
        b) step_b ;;
        c) step_c ;;
        *) say "unknown step $s (a, b or c)"; exit 2 ;;
    esac
done
