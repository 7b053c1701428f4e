"""The story-search peer: BM25 (k1 1.2, b 0.75) over each anime's synopsis and genres with the
popularity prior story search uses (0.3 × log members scaled to 0-1, beside the BM25 score
divided by the query's best), ranked as the server ranks (adult titles out, one anime per
franchise, shown by its best-known entry among the first 100). Scores hit@10 on every labelled
query set of bench/story, to compare with `bench/story/hits.py` against the served search.

    python3 bench/peers/story.py MODEL_DIR

MODEL_DIR is any bundle of the same catalogue (its catalogue.json). Needs numpy and
snowballstemmer (bench/story/fusion.py's BM25 and tokens).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "story"))
from fusion import Bm25, shown, words  # noqa: E402
from ranking import Catalogue, labelled  # noqa: E402

SETS = ("natural.tsv", "natural2.tsv", "heldout.tsv", "queries.tsv")


def main():
    c = Catalogue(sys.argv[1])
    bm25 = Bm25([words(" ".join(a["genres"]) + " " + (a["synopsis"] or "")) for a in c.anime], 1.2, 0.75)
    for name in SETS:
        rows = labelled(name)
        hits = 0
        for query, wanted in rows:
            s = bm25.scores(query)
            score = s / max(s.max(), 1e-6) + 0.3 * c.popularity
            found = shown(score, c.allowed, c.group, c.members, known_within=100)
            hits += any(c.ids[j] in wanted for j in found)
        print(f"BM25 peer, {name}: hit@10 {hits}/{len(rows)} = {hits / len(rows):.3f}")


if __name__ == "__main__":
    main()
