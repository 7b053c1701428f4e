#!/usr/bin/env python3
"""Polls URL/healthz every 20 ms for SECONDS and prints the latency percentiles (ms): what a
liveness probe sees while the server is under load. Loopback servers only.

    python3 bench/health_poll.py URL SECONDS
"""
import sys
import time
import urllib.request

base, seconds = sys.argv[1], float(sys.argv[2])
assert base.split("//", 1)[1].split(":", 1)[0] in ("127.0.0.1", "localhost", "[::1]")
times, failures = [], 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    start = time.monotonic()
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            r.read()
    except Exception:
        failures += 1
    times.append((time.monotonic() - start) * 1000)
    time.sleep(0.02)
times.sort()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"/healthz: {len(times)} polls, p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {times[-1]:.1f} ms, {failures} failed")
