#!/usr/bin/env python3
"""Share of the top-10 recommendations in franchises the user already rated, for the first 400
users of a ratings file, through the API of a server on a model trained on it (loopback only).

    python3 bench/franchise_share.py http://127.0.0.1:8080 ../shared/data/mal2020/rating_complete.csv
"""
import csv, json, sys, urllib.request
base, ratings = sys.argv[1], sys.argv[2]
rated = {}
for row in csv.DictReader(open(ratings)):
    rated.setdefault(int(row["user_id"]), set()).add(int(row["anime_id"]))
users = sorted(rated)[:400]
franchise = {}
def franchise_of(a):
    if a not in franchise:
        d = json.load(urllib.request.urlopen(f"{base}/api/v1/anime/{a}"))
        f = d.get("franchise")
        franchise[a] = f["id"] if f else None
    return franchise[a]
for group in ["none", "series"]:
    slots = started = heavy = 0
    for u in users:
        items = json.load(urllib.request.urlopen(f"{base}/api/v1/users/{u}/recommendations?k=10&synopsis=none&group={group}"))["items"]
        mine = {franchise_of(a) for a in rated[u]} - {None}
        n = sum(1 for i in items if i["series"] and i["series"]["id"] in mine)
        slots += len(items); started += n; heavy += n >= 5
    print(f"group={group}: {started}/{slots} = {started/slots:.3f} of top-10 slots in franchises the user rated; {heavy} of {len(users)} lists with 5+")
