"""Story search's hit@10 on the labelled query sets, through a running server's
GET /api/v1/search (signed out, default filters): a query hits when one of its expected anime
is among the first ten ("strict"), or when an entry of an expected anime's franchise is
("series": the search shows one entry per franchise). Prints each set's figures and its misses
with what came first.

    python3 bench/story/hits.py http://127.0.0.1:8080 MODEL_DIR [SET.tsv ...]

MODEL_DIR is the served bundle (its catalogue.json gives titles and franchises). The sets
default to natural.tsv, heldout.tsv and queries.tsv. Standard library only.
"""

import csv
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

K = 10
HERE = Path(__file__).parent


def labelled(name):
    rows = list(csv.reader((HERE / name).open(encoding="utf-8"), delimiter="\t"))[1:]
    return [(q, {int(i) for i in ids.split(",")}) for q, ids in rows]


def search(url, query):
    with urllib.request.urlopen(f"{url}/api/v1/search?k={K}&q={urllib.parse.quote(query)}") as r:
        return [item["anime_id"] for item in json.load(r)["items"]]


def main():
    url, model = sys.argv[1].rstrip("/"), Path(sys.argv[2])
    names = sys.argv[3:] or ["natural.tsv", "heldout.tsv", "queries.tsv"]
    catalogue = json.loads((model / "catalogue.json").read_text(encoding="utf-8"))
    anime = catalogue["anime"]
    title = {a["mal_id"]: a["name"] for a in anime}
    group = {}
    for g in catalogue["franchises"]["groups"]:
        for ix in g["entries"]:
            group[anime[ix]["mal_id"]] = g["id"]
    for name in names:
        rows = labelled(name)
        strict = series = 0
        misses = []
        for query, wanted in rows:
            found = search(url, query)
            groups = {group[w] for w in wanted if w in group}
            s = bool(wanted & set(found))
            f = s or any(group.get(m) in groups for m in found)
            strict += s
            series += f
            if not s:
                shown = "; ".join(title.get(m, str(m)) for m in found[:3])
                kind = "series hit" if f else "miss"
                misses.append(f"  {kind}: {query} (wanted {sorted(wanted)}) -> {shown}")
        n = len(rows)
        print(f"{name}: hit@{K} strict {strict}/{n} = {strict / n:.3f}, series {series}/{n} = {series / n:.3f}")
        print("\n".join(misses))


if __name__ == "__main__":
    main()
