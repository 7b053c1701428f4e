"""Similar-by-story neighbours of the 1,000 best-known anime, per model: how often a neighbour's
title starts with the anime's first title word (the encoder clustering on titles), the mean
genre overlap (Jaccard) with the neighbours, and the first neighbours of a few anime to read.
Entries of the anime's own franchise are left out, as `similar?by=story` leaves them.

    python3 bench/story/neighbours.py MODEL_DIR [MODEL_DIR ...]

Each MODEL_DIR is a bundle trained with story embeddings. Needs numpy.
"""

import sys
from pathlib import Path

import numpy as np

from ranking import Catalogue, story_vectors

K = 10
READ = (32281, 31043, 34798, 5114)  # Kimi no Na wa., ERASED, Yuru Camp, Fullmetal Alchemist: Brotherhood


def main():
    for model in map(Path, sys.argv[1:]):
        c = Catalogue(model)
        anime, group, members = c.anime, c.group, c.members
        first = [a["name"].split()[0].lower().strip(":,.!") if a["name"] else "" for a in anime]
        genres = [set(a["genres"]) for a in anime]
        vectors = story_vectors(model)

        def neighbours(i, k):
            s = vectors @ vectors[i]
            s[i] = -9
            s[(group >= 0) & (group == group[i])] = -9
            return np.argsort(-s)[:k]

        shared = overlap = 0.0
        best_known = np.argsort(-members)[:1000]
        for i in best_known:
            found = neighbours(i, K)
            shared += sum(first[j] == first[i] for j in found)
            overlap += sum(len(genres[i] & genres[j]) / max(1, len(genres[i] | genres[j])) for j in found)
        n = len(best_known) * K
        print(f"{model}: first title word shared {shared / n:.3f}, genre Jaccard {overlap / n:.3f}")
        for mal_id in READ:
            i = next(k for k, a in enumerate(anime) if a["mal_id"] == mal_id)
            names = "; ".join(anime[j]["name"] for j in neighbours(i, 5))
            print(f"  {anime[i]['name']} -> {names}")


if __name__ == "__main__":
    main()
