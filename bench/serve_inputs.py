#!/usr/bin/env python3
"""Load-test inputs from a ratings file: USERS_OUT gets up to N user ids (one per line) and
BODIES_OUT up to N fold-in bodies, each one user's scored ratings as a JSON line.

    python3 bench/serve_inputs.py RATINGS.csv USERS_OUT BODIES_OUT [N]
"""
import csv
import json
import random
import sys

path, users_out, bodies_out = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 500
by_user = {}
with open(path, newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    for row in reader:
        u = row[0]
        if u not in by_user:
            if len(by_user) >= 20 * n:
                break
            by_user[u] = []
        by_user[u].append((int(row[1]), int(row[2])))
rng = random.Random(7)
users = rng.sample(sorted(by_user), min(n, len(by_user)))
with open(users_out, "w") as f:
    f.writelines(u + "\n" for u in users)
with open(bodies_out, "w") as f:
    for u in users:
        ratings = [{"anime_id": a, "rating": r} for a, r in by_user[u] if r > 0]
        f.write(json.dumps({"ratings": ratings}, separators=(",", ":")) + "\n")
mean = sum(len(by_user[u]) for u in users) / max(1, len(users))
print(f"{len(users)} users, {mean:.0f} ratings each on average", file=sys.stderr)
