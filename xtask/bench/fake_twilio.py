#!/usr/bin/env python3
"""A loopback fake of Twilio's balance endpoint for xtask/bench/serve.sh.

    python3 xtask/bench/fake_twilio.py --port 18090 --delay 0.05

GET /2010-04-01/Accounts/{SID}/Balance.json answers 200 with that SID's balance after
--delay seconds (a thread per connection, HTTP/1.1 keep-alive, so N requests in flight wait
N delays in parallel). Anything else is a 404. GET /_count answers the number of balance
requests served so far (the harness checks one cold scrape costs one request per account).
Prints "fake twilio: listening on http://127.0.0.1:PORT" on stdout once it accepts.
"""

import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Balance\.json$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body leave in one write (the handler flushes after each request), and no Nagle:
    # unbuffered, they go as two writes and the client's delayed ACK can hold the body ~40 ms.
    wbufsize = 65536
    disable_nagle_algorithm = True
    delay = 0.05
    count = 0
    lock = threading.Lock()

    def _send(self, status, body, kind="application/json", extra=()):
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_count":
            self._send(200, f"{Handler.count}\n".encode(), "text/plain")
            return
        match = PATH.match(path)
        if not match:
            self._send(404, b'{"code":20404,"message":"not found","status":404}')
            return
        time.sleep(Handler.delay)
        with Handler.lock:
            Handler.count += 1
            n = Handler.count
        sid = match.group(1)
        body = json.dumps(
            {"account_sid": sid, "balance": "12.34", "currency": "USD"},
            separators=(",", ":"),
        ).encode()
        self._send(200, body, extra=[("twilio-request-id", f"RQ{n:032x}")])

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds before each answer")
    args = parser.parse_args()
    Handler.delay = args.delay
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"fake twilio: listening on http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
