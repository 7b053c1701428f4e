#!/usr/bin/env python3
"""Hostile uploads against a running anirec server on loopback: N concurrent POSTs of a
MyAnimeList export to /api/v1/recommendations while /healthz is polled every 10 ms. Prints how
long the uploads took and how long the health checks waited (the most, and the 99th percentile).

    bench/hostile.py URL EXPORT.xml [N]
"""

import sys
import threading
import time
import urllib.request


def main():
    url, path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    host = url.split("//", 1)[1].split(":", 1)[0]
    assert host in ("127.0.0.1", "localhost", "[::1]"), "loopback servers only"
    body = open(path, "rb").read()
    results = []

    def upload():
        started = time.perf_counter()
        req = urllib.request.Request(url + "/api/v1/recommendations", data=body, method="POST")
        req.add_header("Content-Type", "application/xml")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status = r.status
                r.read()
        except urllib.error.HTTPError as e:
            status = e.code
        results.append((status, time.perf_counter() - started))

    threads = [threading.Thread(target=upload) for _ in range(n)]
    for t in threads:
        t.start()
    polls = []
    while any(t.is_alive() for t in threads):
        started = time.perf_counter()
        with urllib.request.urlopen(url + "/healthz", timeout=120) as r:
            r.read()
        polls.append(time.perf_counter() - started)
        time.sleep(0.01)
    for t in threads:
        t.join()
    polls.sort()
    p99 = polls[min(len(polls) - 1, int(len(polls) * 0.99))]
    print(f"{n} uploads of {len(body):,} bytes: statuses {sorted(s for s, _ in results)}, "
          f"{min(d for _, d in results):.2f}-{max(d for _, d in results):.2f} s each")
    print(f"{len(polls)} health checks meanwhile: slowest {polls[-1] * 1e3:.1f} ms, "
          f"p99 {p99 * 1e3:.1f} ms, median {polls[len(polls) // 2] * 1e3:.1f} ms")


main()
