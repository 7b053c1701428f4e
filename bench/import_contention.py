#!/usr/bin/env python3
"""How long another fan's list write waits while a long MyAnimeList import runs: fan A imports an
export of N anime (the first N ids of the catalogue) while fan B saves one entry after another;
prints the import's time and B's write latencies during it (median, p99, max).

    bench/import_contention.py URL ANIME.csv [N]

URL: a running `anirec serve` with accounts, on loopback only. N defaults to 17,000."""

import csv
import json
import statistics
import sys
import threading
import time
import urllib.request


def call(base, method, path, body=None, token=None, content_type="application/json"):
    req = urllib.request.Request(base + path, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.read()


def token(base, name):
    creds = json.dumps({"username": name, "password": "a long enough password"}).encode()
    call(base, "POST", "/api/v1/accounts", creds)
    return json.loads(call(base, "POST", "/api/v1/tokens", creds)[1])["token"]


def export(ids):
    rows = "".join(
        f"<anime><series_animedb_id>{a}</series_animedb_id><my_watched_episodes>1"
        f"</my_watched_episodes><my_score>{a % 10 + 1}</my_score><my_status>Completed"
        f"</my_status></anime>"
        for a in ids
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><myanimelist><myinfo><user_export_type>1"
        f"</user_export_type></myinfo>{rows}</myanimelist>"
    ).encode()


def main():
    base, anime_csv = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 17_000
    assert base.startswith(("http://127.", "http://localhost", "http://[::1]")), "loopback only"
    with open(anime_csv, newline="", encoding="utf-8") as f:
        ids = [int(row["MAL_ID"]) for row in csv.DictReader(f)][:n]
    stamp = int(time.time())
    importer, writer = token(base, f"importer{stamp}"), token(base, f"writer{stamp}")
    body = export(ids)
    done = threading.Event()
    took = {}

    def run_import():
        t = time.perf_counter()
        status, answer = call(base, "POST", "/api/v1/me/list/import", body, importer,
                              "application/xml")
        took["import"] = time.perf_counter() - t
        took["answer"] = (status, json.loads(answer))
        done.set()

    thread = threading.Thread(target=run_import)
    thread.start()
    waits = []
    episode = 0
    while not done.is_set():
        episode += 1
        entry = json.dumps({"score": 7, "status": "watching", "episodes": episode % 2}).encode()
        t = time.perf_counter()
        call(base, "PUT", f"/api/v1/me/list/{ids[0]}", entry, writer)
        waits.append(time.perf_counter() - t)
    thread.join()
    status, answer = took["answer"]
    waits_ms = sorted(w * 1000 for w in waits)
    p99 = waits_ms[min(len(waits_ms) - 1, int(len(waits_ms) * 0.99))]
    print(f"import of {n} entries: {took['import']:.2f} s, status {status}, added "
          f"{answer.get('added')}")
    print(f"another fan's writes meanwhile: {len(waits_ms)}, median "
          f"{statistics.median(waits_ms):.1f} ms, p99 {p99:.1f} ms, max {waits_ms[-1]:.1f} ms")


if __name__ == "__main__":
    main()
