#!/usr/bin/env python3
"""Measure balance-mcp's stdio response sizes against a fake Twilio.

Usage: python3 xtask/bench/mcp-sizes.py BIN [N ...]      (default Ns: 2 100 10000)

For each N: writes a TOML config of N accounts (every 7th below its minimum), runs
`BIN --config FILE --base-url http://127.0.0.1:PORT` over stdio, sends initialize,
notifications/initialized, tools/list, and tools/call get_balances {} twice, and reports
the byte size of each response line, the fake Twilio's request count after each call
(cumulative for that N), and each call's wall time. Stdlib only.

Optional: MCP_SIZES_EXTRA_ARGS="--timeout 10m" appends flags to the server's command line.
"""
import json
import os
import queue
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TIMEOUT = 300.0  # seconds per response
TOKEN = "tok-0123456789abcdef0123456789ab"
REQUEST_ID = "RQ0123456789abcdef0123456789abcdef"
PATH_RE = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Balance\.json$")


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.served = 0  # Balance.json answered with 200
        self.other = 0  # anything else (answered 404)

    def snapshot(self):
        with self.lock:
            return self.served, self.other


COUNTER = Counter()


class FakeTwilio(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so 20k requests don't exhaust ports

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        m = PATH_RE.match(path)
        if m:
            body = json.dumps(
                {"account_sid": m.group(1), "balance": "1.00", "currency": "USD"}
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("twilio-request-id", REQUEST_ID)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with COUNTER.lock:
                COUNTER.served += 1
        else:
            body = b'{"code": 20404, "message": "not found", "status": 404}'
            self.send_response(404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with COUNTER.lock:
                COUNTER.other += 1

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def write_config(n, directory):
    path = os.path.join(directory, f"accounts-{n}.toml")
    with open(path, "w") as f:
        for i in range(n):
            minimum = "2.00" if i % 7 == 0 else "0.50"
            f.write(
                "[[account]]\n"
                f'name = "acct-{i:05d}"\n'
                f'account_sid = "AC{i:032x}"\n'
                'auth_token_env = "TOK"\n'
                f'min = "{minimum}"\n\n'
            )
    return path


class Session:
    def __init__(self, argv, env):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        for raw in self.proc.stdout:
            self.lines.put(raw)
        self.lines.put(None)

    def _read_stderr(self):
        for raw in self.proc.stderr:
            self.stderr.append(raw.decode(errors="replace"))

    def send(self, message):
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, rid, method, params):
        """Sends a request; returns (raw response line without its newline, parsed)."""
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{method}: no response within {TIMEOUT:.0f} s")
            try:
                raw = self.lines.get(timeout=left)
            except queue.Empty:
                raise TimeoutError(f"{method}: no response within {TIMEOUT:.0f} s")
            if raw is None:
                raise RuntimeError(
                    f"{method}: server closed stdout; stderr:\n" + "".join(self.stderr[-20:])
                )
            line = raw.rstrip(b"\r\n")
            try:
                msg = json.loads(line)
            except ValueError:
                print(f"  (non-JSON stdout line, {len(line)} bytes)", file=sys.stderr)
                continue
            if msg.get("id") == rid and "method" not in msg:
                return line, msg
            if "method" in msg and "id" in msg:  # a request from the server
                reply = {"jsonrpc": "2.0", "id": msg["id"]}
                if msg["method"] == "ping":
                    reply["result"] = {}
                else:
                    reply["error"] = {"code": -32601, "message": "not supported"}
                self.send(reply)
            # notifications and stray responses are skipped

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def describe_call(msg):
    """Short notes on a tools/call response: error flag, next_cursor, entry count."""
    notes = []
    if "error" in msg:
        notes.append(f"JSON-RPC error {msg['error'].get('code')}")
        return notes
    result = msg.get("result", {})
    if result.get("isError"):
        notes.append("isError")
    sc = result.get("structuredContent")
    if isinstance(sc, dict):
        if "next_cursor" in sc:
            notes.append(f"next_cursor present ({sc['next_cursor']!r:.40})")
        for key, value in sc.items():
            if isinstance(value, list):
                errors = sum(1 for v in value if isinstance(v, dict) and v.get("error"))
                notes.append(f"{key}: {len(value)} entries, {errors} with an error")
    return notes


def measure(binary, n, port, directory):
    config = write_config(n, directory)
    env = dict(os.environ, TOK=TOKEN)
    argv = [binary, "--config", config, "--base-url", f"http://127.0.0.1:{port}"]
    argv += shlex.split(os.environ.get("MCP_SIZES_EXTRA_ARGS", ""))
    row = {"n": n, "problems": []}
    before = COUNTER.snapshot()
    session = Session(argv, env)
    try:
        line, _ = session.request(
            1,
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "sizes", "version": "0"},
            },
        )
        row["init"] = len(line)
        session.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        line, _ = session.request(2, "tools/list", {})
        row["list"] = len(line)
        for k, rid in enumerate((3, 4), start=1):
            start = time.monotonic()
            line, msg = session.request(
                rid, "tools/call", {"name": "get_balances", "arguments": {}}
            )
            row[f"call{k}_s"] = time.monotonic() - start
            row[f"call{k}"] = len(line)
            served, other = COUNTER.snapshot()
            row[f"req{k}"] = served - before[0]
            row[f"other{k}"] = other - before[1]
            row[f"notes{k}"] = describe_call(msg)
    except Exception as e:  # report what was measured so far
        row["problems"].append(str(e))
    finally:
        session.close()
        os.unlink(config)
    return row


def cell(row, key, fmt="{}"):
    return fmt.format(row[key]) if key in row else "—"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    ns = [int(a) for a in sys.argv[2:]] or [2, 100, 10000]

    server = Server(("127.0.0.1", 0), FakeTwilio)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    rows = []
    with tempfile.TemporaryDirectory(prefix="mcp_sizes-") as directory:
        for n in ns:
            print(f"measuring N={n} ...", file=sys.stderr, flush=True)
            rows.append(measure(binary, n, port, directory))
    server.shutdown()

    extra = os.environ.get("MCP_SIZES_EXTRA_ARGS", "")
    print(f"binary: `{binary}`" + (f" (extra args: `{extra}`)" if extra else "") + "\n")
    print(
        "| N | initialize (B) | tools/list (B) | get_balances #1 (B) | get_balances #2 (B) "
        "| Twilio requests after #1 | after #2 | #1 time (s) | #2 time (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['n']} | {cell(r, 'init')} | {cell(r, 'list')} | {cell(r, 'call1')} "
            f"| {cell(r, 'call2')} | {cell(r, 'req1')} | {cell(r, 'req2')} "
            f"| {cell(r, 'call1_s', '{:.2f}')} | {cell(r, 'call2_s', '{:.2f}')} |"
        )
    print()
    for r in rows:
        for k in (1, 2):
            notes = list(r.get(f"notes{k}", []))
            if r.get(f"other{k}"):
                notes.append(f"{r[f'other{k}']} non-Balance requests (404)")
            if notes:
                print(f"- N={r['n']} get_balances #{k}: " + "; ".join(notes))
        for p in r["problems"]:
            print(f"- N={r['n']} PROBLEM: {p}")


if __name__ == "__main__":
    main()
