#!/usr/bin/env python3
"""The fake Twilio's own floor for xtask/bench/serve.sh's cold scrape: 100 balance requests,
8 in flight on 8 keep-alive connections (Python threads, http.client), timed; RUNS times.

    python3 xtask/bench/fake_floor.py PORT RUNS
"""

import http.client
import sys
import threading
import time

N, C = 100, 8
port, runs = int(sys.argv[1]), int(sys.argv[2])


def once():
    pending = iter([f"AC{i:032x}" for i in range(N)])
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while True:
            with lock:
                sid = next(pending, None)
            if sid is None:
                conn.close()
                return
            conn.request("GET", f"/2010-04-01/Accounts/{sid}/Balance.json")
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(C)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


for _ in range(runs):
    print(f"{once():.4f}", flush=True)
