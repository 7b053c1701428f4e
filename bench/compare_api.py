#!/usr/bin/env python3
"""Sends the same requests to two running anirec servers serving the same bundle and compares
the answers byte for byte: known users' recommendations (with filters and reasons), anime
records, similar anime and users, title searches, and fold-ins of real rating lists (for those,
the `items` are compared byte for byte after re-serialising, and the `subject` is printed when
it differs, since a newer server may say more about the list).

    bench/compare_api.py OLD_URL NEW_URL RATINGS.csv [N]

Loopback servers only. Prints one line per kind of request and exits 1 on any difference."""

import csv
import json
import random
import sys
import urllib.parse
import urllib.request
from collections import defaultdict


def fetch(base, path, body=None):
    req = urllib.request.Request(base + path, data=body, method="POST" if body else "GET")
    if body:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    old, new, ratings = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    for url in (old, new):
        host = url.split("//", 1)[1].split(":", 1)[0]
        assert host in ("127.0.0.1", "localhost", "[::1]"), "loopback servers only"
    lists = defaultdict(list)
    with open(ratings, newline="") as f:
        for row in csv.DictReader(f):
            lists[int(row["user_id"])].append((int(row["anime_id"]), int(row["rating"])))
    rnd = random.Random(7)
    users = rnd.sample(sorted(lists), min(n, len(lists)))
    anime = sorted({a for u in users for a, _ in lists[u]})
    anime = rnd.sample(anime, min(n, len(anime)))
    queries = ["k=5", "k=20&explain=true", "genre=Action&type=TV", "year_min=2000&year_max=2010",
               "min_members=100000&explain=true", "include_adult=true", "k=0", "genre=Nope"]
    requests = {
        "user recommendations": [f"/api/v1/users/{u}/recommendations?{rnd.choice(queries)}"
                                 for u in users],
        "similar users": [f"/api/v1/users/{u}/similar?k=5" for u in users[: n // 4]],
        "anime records": [f"/api/v1/anime/{a}" for a in anime],
        "similar anime": [f"/api/v1/anime/{a}/similar?by={rnd.choice(['content', 'collab', 'hybrid'])}"
                          for a in anime],
        "title search": [f"/api/v1/anime?q={urllib.parse.quote(q)}" for q in
                         ["naruto", "steins gate", "cowboy bebop", "shingeki", "kimi no na wa",
                          "totoro", "fullmetal", "one piece", "evangelion", "monogatari"]],
        "pages": [f"/recommendations?user={u}" for u in users[:10]] + [f"/anime/{a}" for a in anime[:10]],
    }
    different = 0
    for kind, paths in requests.items():
        same = sum(fetch(old, p) == fetch(new, p) for p in paths)
        print(f"{kind:22} {same}/{len(paths)} identical")
        different += len(paths) - same
    same = 0
    for u in users:
        body = json.dumps({"ratings": [{"anime_id": a, "rating": r} for a, r in lists[u]]}).encode()
        (s1, b1), (s2, b2) = fetch(old, "/api/v1/recommendations?explain=true", body), fetch(
            new, "/api/v1/recommendations?explain=true", body)
        j1, j2 = json.loads(b1), json.loads(b2)
        if s1 == s2 and json.dumps(j1["items"]) == json.dumps(j2["items"]):
            same += 1
        if j1.get("subject") != j2.get("subject") and u == users[0]:
            print(f"  subject, old: {j1.get('subject')}\n  subject, new: {j2.get('subject')}")
    print(f"{'fold-in items':22} {same}/{len(users)} identical")
    different += len(users) - same
    sys.exit(1 if different else 0)


main()
