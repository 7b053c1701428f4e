"""Offline experiment on story search's ranking weights: the popularity prior's weight, and a
"hubness" penalty (each anime's mean cosine with its K nearest stories, taken off its score, as
cross-domain similarity local scaling does for stories close to everything). Scores every anime
for each labelled query as the server does (cosine + weight × popularity, adult titles out, one
anime per franchise; title hits and personalisation aside) over a grid of both weights, on the
tuning queries (queries.tsv) and the held-out ones (heldout.tsv, written before any result was
seen): a weight is chosen on the first and checked on the second.

    python3 bench/story/ranking.py MODEL_DIR      # writes the queries to /tmp/anirec-hub-queries.txt
    cargo run --release -p anirec-encoder --example embed -- /tmp/anirec-hub-queries.txt /tmp/anirec-hub-queries.f32
    python3 bench/story/ranking.py MODEL_DIR      # the grid, as a Markdown table

MODEL_DIR is a bundle trained with story embeddings (model.safetensors, catalogue.json). Needs
numpy.
"""

import csv
import json
import struct
import sys
from pathlib import Path

import numpy as np

K = 10
POPULARITY = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8)
PENALTY = (0.0, 0.25, 0.5)
HERE = Path(__file__).parent
TEXTS = Path("/tmp/anirec-hub-queries.txt")
VECTORS = Path("/tmp/anirec-hub-queries.f32")


def labelled(name):
    rows = list(csv.reader((HERE / name).open(encoding="utf-8"), delimiter="\t"))[1:]
    return [(q, {int(i) for i in ids.split(",")}) for q, ids in rows]


def story_vectors(model):
    with (model / "model.safetensors").open("rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        info = header["story.vectors"]
        start, end = info["data_offsets"]
        f.seek(8 + size + start)
        data = np.frombuffer(f.read(end - start), dtype="<f2")
    return data.reshape(info["shape"]).astype(np.float32)


class Catalogue:
    """A bundle's catalogue as story search ranks it: MyAnimeList ids, members, the popularity
    prior's 0-1 scale (log members over the most), which anime are not adult, and each anime's
    franchise (-1 for none)."""

    def __init__(self, model):
        catalogue = json.loads((Path(model) / "catalogue.json").read_text(encoding="utf-8"))
        self.anime = catalogue["anime"]
        self.ids = np.array([a["mal_id"] for a in self.anime])
        self.members = np.array([a["members"] or 0 for a in self.anime], dtype=np.float32)
        self.popularity = np.log1p(self.members) / max(np.log1p(self.members.max()), 1.0)
        self.allowed = np.array([not a["adult"] for a in self.anime])
        self.group = np.full(len(self.anime), -1)
        for g in catalogue["franchises"]["groups"]:
            self.group[g["entries"]] = g["id"]


def hubness(vectors, neighbours):
    """Mean cosine of each row with its `neighbours` nearest other rows."""
    out = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), 2048):
        sims = vectors[start:start + 2048] @ vectors.T
        for i in range(sims.shape[0]):
            sims[i, start + i] = -1.0
        top = np.partition(sims, -neighbours, axis=1)[:, -neighbours:]
        out[start:start + 2048] = top.mean(axis=1)
    return out


def main():
    model = Path(sys.argv[1])
    sets = {"tuning": labelled("queries.tsv"), "held out": labelled("heldout.tsv")}
    texts = [q for rows in sets.values() for q, _ in rows]
    TEXTS.write_text("\n".join(texts) + "\n", encoding="utf-8")
    if not VECTORS.exists() or VECTORS.stat().st_size != len(texts) * 384 * 4:
        sys.exit(f"embed {TEXTS} into {VECTORS} first (see the docstring)")
    queries = np.fromfile(VECTORS, dtype="<f4").reshape(len(texts), 384)
    c = Catalogue(model)
    ids, popularity, allowed, group = c.ids, c.popularity, c.allowed, c.group
    vectors = story_vectors(model)
    hubs = {n: hubness(vectors, n) for n in (10, 50)}
    print("| popularity | penalty | neighbours | set | P@10 | R@10 | hit@10 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    grid = [(p, w, n) for p in POPULARITY for n in hubs for w in PENALTY if w or n == 10]
    for popular, weight, neighbours in grid:
            prior, hub = popular * popularity, hubs[neighbours]
            row = 0
            for name, rows in sets.items():
                totals = np.zeros(3)
                for _, wanted in rows:
                    score = vectors @ queries[row] + prior - weight * hub
                    row += 1
                    score[~allowed] = -np.inf
                    found, seen = [], set()
                    for j in np.argsort(-score):
                        if group[j] >= 0 and group[j] in seen:
                            continue
                        seen.add(group[j])
                        found.append(ids[j])
                        if len(found) == K:
                            break
                    hits = len(set(found) & wanted)
                    totals += (hits / K, hits / min(len(wanted), K), float(hits > 0))
                p, r, h = totals / len(rows)
                print(f"| {popular} | {weight} | {neighbours} | {name} | {p:.3f} | {r:.3f} | {h:.3f} |")


if __name__ == "__main__":
    main()
