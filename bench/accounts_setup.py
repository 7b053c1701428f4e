#!/usr/bin/env python3
"""Accounts for the accounts benchmark: N fans, each signed up on a running anirec server with a
real rating list (one user of RATINGS.csv, imported as a MyAnimeList export), and an API token.
Writes OUT/tokens.txt (one token per line), OUT/credentials.txt (username password) and
OUT/anime.txt (anime ids the catalogue knows, for list writes). Loopback servers only.

    python3 bench/accounts_setup.py URL RATINGS.csv OUT [N]
"""
import csv
import json
import os
import random
import sys
import urllib.request

base, ratings, out = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 100
host = base.split("//", 1)[1].split(":", 1)[0]
assert host in ("127.0.0.1", "localhost", "[::1]"), "loopback servers only"


def call(method, path, body=None, token=None, kind="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", kind)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


by_user = {}
with open(ratings, newline="") as f:
    reader = csv.reader(f)
    next(reader)
    for row in reader:
        u = row[0]
        if u not in by_user:
            if len(by_user) >= 20 * n:
                break
            by_user[u] = []
        by_user[u].append((int(row[1]), int(row[2])))
rng = random.Random(11)
users = rng.sample(sorted(by_user), n)
os.makedirs(out, exist_ok=True)
tokens, credentials, anime = [], [], set()
for i, u in enumerate(users):
    name, password = f"bench_fan_{i}", f"bench password {i}"
    call("POST", "/api/v1/accounts", {"username": name, "password": password})
    token = call("POST", "/api/v1/tokens", {"username": name, "password": password})["token"]
    entries = "".join(
        f"<anime><series_animedb_id>{a}</series_animedb_id><my_watched_episodes>1</my_watched_episodes>"
        f"<my_score>{r}</my_score><my_status>Completed</my_status></anime>"
        for a, r in by_user[u]
    )
    xml = f"<myanimelist><myinfo><user_export_type>1</user_export_type></myinfo>{entries}</myanimelist>"
    done = call("POST", "/api/v1/me/list/import", xml.encode(), token, "application/xml")
    anime.update(a for a, _ in by_user[u])
    tokens.append(token)
    credentials.append(f"{name}\t{password}")
for file, lines in [("tokens.txt", tokens), ("credentials.txt", credentials), ("anime.txt", sorted(map(str, anime)))]:
    with open(os.path.join(out, file), "w") as f:
        f.writelines(line + "\n" for line in lines)
mean = sum(len(by_user[u]) for u in users) / n
print(f"{n} accounts, {mean:.0f} list entries each on average", file=sys.stderr)
