#!/usr/bin/env python3
"""Startup time and peak memory of a stdio MCP server, as a client sees them.

Each repetition spawns the server, writes `initialize` at once and times spawn -> the first
stdout line that answers it. It then sends `notifications/initialized`, `tools/list` and,
with --call, one `tools/call`, waits for each answer, reads the process's peak RSS (VmHWM in
/proc/PID/status, summed over its descendants if it has any) before closing stdin, closes
stdin and waits for the exit. Every stdout line is checked: it must be a JSON-RPC 2.0
response to one of our ids, or a request/notification whose method a server may send.

Python 3 standard library only; Linux (reads /proc). Not part of CI.

Usage:
  xtask/bench/mcp-startup.py [--reps N] [--label L] [--env K=V]...
      [--call TOOL [--args JSON]] [--protocol-version V] [--timeout S]
      [--transcript FILE] [--tools-json FILE] -- COMMAND [ARG]...
"""

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time

# Methods a server may send to a client (2025-06-18 / 2025-11-25). Anything else is flagged.
SERVER_NOTIFICATIONS = {
    "notifications/cancelled",
    "notifications/progress",
    "notifications/message",
    "notifications/resources/updated",
    "notifications/resources/list_changed",
    "notifications/tools/list_changed",
    "notifications/prompts/list_changed",
    "notifications/elicitation/complete",
    "notifications/tasks/status",
}
SERVER_REQUESTS = {
    "ping",
    "sampling/createMessage",
    "roots/list",
    "elicitation/create",
    "tasks/get",
    "tasks/result",
    "tasks/list",
    "tasks/cancel",
}


def parse_args(argv):
    if "--" not in argv and ("-h" in argv or "--help" in argv):
        argv = argv + ["--", "true"]
    if "--" not in argv:
        sys.exit("usage: mcp-startup.py [options] -- COMMAND [ARG]...  (see --help)")
    split = argv.index("--")
    opts, command = argv[:split], argv[split + 1 :]
    if not command:
        sys.exit("mcp-startup.py: no command after --")
    p = argparse.ArgumentParser(
        prog="mcp-startup.py",
        description="Time-to-initialize and peak RSS of a stdio MCP server.",
    )
    p.add_argument("--reps", type=int, default=10, help="repetitions (default 10)")
    p.add_argument("--label", default=None, help="name for the report (default: the command)")
    p.add_argument("--env", action="append", default=[], metavar="K=V",
                   help="extra environment variable for the server (repeatable)")
    p.add_argument("--call", metavar="TOOL", help="also send tools/call for TOOL")
    p.add_argument("--args", default="{}", metavar="JSON", help="arguments for --call (a JSON object)")
    p.add_argument("--protocol-version", default="2025-06-18")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer and for exit")
    p.add_argument("--transcript", metavar="FILE", help="write the first repetition's stdin/stdout lines here")
    p.add_argument("--tools-json", metavar="FILE", help="write the first repetition's tools/list result here")
    if "-h" in opts or "--help" in opts:
        p.print_help()
        sys.exit(0)
    ns = p.parse_args(opts)
    ns.command = command
    try:
        ns.call_args = json.loads(ns.args)
    except json.JSONDecodeError as e:
        sys.exit(f"mcp-startup.py: --args is not JSON: {e}")
    if not isinstance(ns.call_args, dict):
        sys.exit("mcp-startup.py: --args must be a JSON object")
    if ns.reps < 1:
        sys.exit("mcp-startup.py: --reps must be at least 1")
    return ns


def children_of(pid):
    """Descendant PIDs of pid, from /proc/*/stat."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def classify(msg, our_ids):
    """None if msg is a JSON-RPC message a server may send us, else why not."""
    if not isinstance(msg, dict):
        return "not a JSON object"
    if msg.get("jsonrpc") != "2.0":
        return 'no "jsonrpc": "2.0"'
    if "method" in msg:
        method = msg["method"]
        if not isinstance(method, str):
            return "method is not a string"
        if "id" in msg:
            if method not in SERVER_REQUESTS:
                return f"request with method {method!r}, which servers do not send"
        elif method not in SERVER_NOTIFICATIONS:
            return f"notification with unknown method {method!r}"
        return None
    if "id" in msg and (("result" in msg) != ("error" in msg)):
        if not isinstance(msg["id"], (str, int)) or msg["id"] not in our_ids:
            return f"response to id {msg['id']!r}, which we never sent"
        return None
    return "neither a request, a notification nor a response"


def run_once(ns, env, record):
    transcript = []
    lines = queue.Queue()

    t0 = time.perf_counter()
    proc = subprocess.Popen(ns.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)

    def pump_stdout():
        for raw in iter(proc.stdout.readline, b""):
            lines.put((time.perf_counter(), raw))
        lines.put((time.perf_counter(), None))

    stderr_chunks = []

    def pump_stderr():
        for chunk in iter(lambda: proc.stderr.read(65536), b""):
            stderr_chunks.append(chunk)

    threading.Thread(target=pump_stdout, daemon=True).start()
    threading.Thread(target=pump_stderr, daemon=True).start()

    our_ids = set()
    bad = []
    answers = {}
    eof = False

    def send(obj):
        text = json.dumps(obj, separators=(",", ":"))
        if record:
            transcript.append(">> " + text)
        if "id" in obj and "method" in obj:
            our_ids.add(obj["id"])
        try:
            proc.stdin.write(text.encode() + b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def wait_for(req_id, timeout=None):
        """Read stdout until the answer to req_id; returns (time, message) or (None, None)."""
        nonlocal eof
        deadline = time.perf_counter() + (ns.timeout if timeout is None else timeout)
        while not eof:
            try:
                t, raw = lines.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                return None, None
            if raw is None:
                eof = True
                break
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if record:
                transcript.append("<< " + text)
            try:
                msg = json.loads(text)
            except json.JSONDecodeError:
                bad.append(("not JSON", text))
                continue
            why = classify(msg, our_ids)
            if why:
                bad.append((why, text))
            if isinstance(msg, dict) and "method" in msg and "id" in msg:
                # Answer server requests as a client would: ping gets {}, the rest -32601.
                if msg["method"] == "ping":
                    reply = {"jsonrpc": "2.0", "id": msg["id"], "result": {}}
                else:
                    reply = {"jsonrpc": "2.0", "id": msg["id"],
                             "error": {"code": -32601, "message": "Method not found"}}
                send(reply)
                continue
            if isinstance(msg, dict) and "id" in msg and "method" not in msg:
                answers[msg["id"]] = msg
                if msg["id"] == req_id:
                    return t, msg
        return None, None

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": ns.protocol_version,
        "capabilities": {},
        "clientInfo": {"name": "mcp-startup", "version": "1.0"},
    }})
    t_init, init = wait_for(1)
    result = {"init_ms": None, "list_ms": None, "call_ms": None, "tools": None,
              "protocol_version": None, "server_info": None, "call_is_error": None,
              "error": None}
    if init is None:
        result["error"] = "no answer to initialize"
    elif "error" in init:
        result["error"] = f"initialize failed: {init['error']}"
    else:
        result["init_ms"] = (t_init - t0) * 1000
        result["protocol_version"] = init["result"].get("protocolVersion")
        result["server_info"] = init["result"].get("serverInfo")
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        t_sent = time.perf_counter()
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        t_list, listed = wait_for(2)
        if listed is None:
            result["error"] = "no answer to tools/list"
        elif "error" in listed:
            result["error"] = f"tools/list failed: {listed['error']}"
        else:
            result["list_ms"] = (t_list - t_sent) * 1000
            result["tools"] = listed["result"].get("tools", [])
        if ns.call and result["error"] is None:
            t_sent = time.perf_counter()
            send({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                  "params": {"name": ns.call, "arguments": ns.call_args}})
            t_call, called = wait_for(3)
            if called is None:
                result["error"] = "no answer to tools/call"
            else:
                result["call_ms"] = (t_call - t_sent) * 1000
                if "error" in called:
                    result["call_is_error"] = f"JSON-RPC error {called['error'].get('code')}"
                else:
                    result["call_is_error"] = bool(called["result"].get("isError", False))

    # Peak RSS, read while the process is still alive (before stdin closes).
    pids = [proc.pid] + children_of(proc.pid)
    hwms = [h for h in (vm_hwm_kib(p) for p in pids) if h is not None]
    result["peak_rss_mib"] = sum(hwms) / 1024 if hwms else None
    result["processes"] = len(hwms)

    try:
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        result["exit"] = proc.wait(timeout=ns.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        result["exit"] = "timeout (killed)"
    # Whatever the server wrote after our last answer counts too.
    if not eof:
        wait_for(None, timeout=2)
    result["bad_lines"] = bad
    result["stderr_bytes"] = sum(len(c) for c in stderr_chunks)
    result["stderr_head"] = b"".join(stderr_chunks)[:300].decode("utf-8", "replace")
    result["transcript"] = transcript
    return result


def main():
    ns = parse_args(sys.argv[1:])
    env = dict(os.environ)
    for kv in ns.env:
        if "=" not in kv:
            sys.exit(f"mcp-startup.py: --env wants K=V, got {kv!r}")
        k, v = kv.split("=", 1)
        env[k] = v
    label = ns.label or " ".join(ns.command)

    runs = [run_once(ns, env, record=(i == 0)) for i in range(ns.reps)]

    first = runs[0]
    if ns.transcript:
        with open(ns.transcript, "w") as f:
            f.write("\n".join(first["transcript"]) + "\n")
    if ns.tools_json and first["tools"] is not None:
        with open(ns.tools_json, "w") as f:
            json.dump(first["tools"], f, indent=2)

    times = [r["init_ms"] for r in runs if r["init_ms"] is not None]
    rss = [r["peak_rss_mib"] for r in runs if r["peak_rss_mib"] is not None]
    lists = [r["list_ms"] for r in runs if r["list_ms"] is not None]
    calls = [r["call_ms"] for r in runs if r["call_ms"] is not None]
    exits = sorted({str(r["exit"]) for r in runs})
    errors = sorted({r["error"] for r in runs if r["error"]})
    bad = [b for r in runs for b in r["bad_lines"]]
    bad_kinds = sorted({why for why, _ in bad})
    tool_counts = sorted({len(r["tools"]) for r in runs if r["tools"] is not None})

    def med(xs):
        return round(statistics.median(xs), 1) if xs else None

    report = {
        "label": label,
        "command": ns.command,
        "reps": ns.reps,
        "ok_reps": len(times),
        "protocol_version_sent": ns.protocol_version,
        "protocol_version_answered": first["protocol_version"],
        "server_info": first["server_info"],
        "init_ms_median": med(times),
        "init_ms_min": round(min(times), 1) if times else None,
        "init_ms_max": round(max(times), 1) if times else None,
        "tools_list_ms_median": med(lists),
        "call_ms_median": med(calls),
        "call_is_error": first["call_is_error"],
        "peak_rss_mib_max": round(max(rss), 1) if rss else None,
        "processes": first["processes"],
        "tools": tool_counts[0] if len(tool_counts) == 1 else tool_counts,
        "exit_codes": exits,
        "stdout_all_jsonrpc": not bad,
        "non_jsonrpc_lines": len(bad),
        "non_jsonrpc_kinds": bad_kinds,
        "non_jsonrpc_example": bad[0][1][:300] if bad else None,
        "stderr_bytes_first_rep": first["stderr_bytes"],
        "errors": errors,
    }

    def fmt(x, unit=""):
        return "n/a" if x is None else f"{x}{unit}"

    summary = (
        f"{label}: init {fmt(report['init_ms_median'], ' ms')} median"
        f" ({fmt(report['init_ms_min'])}-{fmt(report['init_ms_max'], ' ms')}, {len(times)}/{ns.reps} reps),"
        f" peak RSS {fmt(report['peak_rss_mib_max'], ' MiB')},"
        f" {fmt(report['tools'])} tools, exit {','.join(exits)},"
        f" stdout {'all JSON-RPC' if not bad else f'{len(bad)} non-JSON-RPC line(s): ' + '; '.join(bad_kinds)}"
    )
    if errors:
        summary += f"; errors: {'; '.join(errors)}"
    print(summary)
    print(json.dumps(report))
    return 0 if times and not errors else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into `head -1`
        sys.exit(0)
