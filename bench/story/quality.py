"""Story search quality on labelled queries (queries.tsv, or the file given third, such as
heldout.tsv): anirec's story search (the running server's GET /api/v1/search) against TF-IDF
over the same texts (title, English title, genres, synopsis), on the same queries:
precision@10, recall@10 and hit@10 per query and on average.

    python3 bench/story/quality.py http://127.0.0.1:8080 ../shared/data/mal2020 [QUERIES.tsv]

Needs scikit-learn (pip install scikit-learn) for the TF-IDF side. Adult titles are left out of
both, as the search does by default.
"""

import csv
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer

K = 10


def queries(name):
    path = Path(__file__).with_name(name)
    rows = list(csv.reader(path.open(encoding="utf-8"), delimiter="\t"))[1:]
    return [(q, {int(i) for i in ids.split(",")}) for q, ids in rows]


def catalogue(data):
    anime = {}
    for r in csv.DictReader((data / "anime.csv").open(encoding="utf-8")):
        genres = r.get("Genres") or r.get("Genders", "")
        adult = "Hentai" in genres or r.get("Rating", "").startswith("Rx")
        english = r["English name"] if r["English name"] not in ("", "Unknown", r["Name"]) else ""
        anime[int(r["MAL_ID"])] = {"name": r["Name"], "english": english, "genres": genres,
                                   "adult": adult, "synopsis": ""}
    for r in csv.DictReader((data / "anime_with_synopsis.csv").open(encoding="utf-8")):
        a = anime.get(int(r["MAL_ID"]))
        if a is not None:
            a["synopsis"] = r["sypnopsis"]
    return anime


def text(a):
    title = a["name"] + (f" ({a['english']})" if a["english"] else "")
    return f"{title}. Genres: {a['genres']}. {a['synopsis']}"


def story_search(url, query):
    with urllib.request.urlopen(f"{url}/api/v1/search?k={K}&q={urllib.parse.quote(query)}") as r:
        return [item["anime_id"] for item in json.load(r)["items"]]


def scores(found, wanted):
    hits = len(set(found[:K]) & wanted)
    return hits / K, hits / min(len(wanted), K), 1.0 if hits else 0.0


def main():
    url, data = sys.argv[1].rstrip("/"), Path(sys.argv[2])
    anime = catalogue(data)
    ids = [i for i, a in anime.items() if not a["adult"]]
    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    matrix = tfidf.fit_transform([text(anime[i]) for i in ids])
    totals = {"story": [0.0, 0.0, 0.0], "tfidf": [0.0, 0.0, 0.0]}
    print(f"| query | relevant | story P@{K} | story hit | TF-IDF P@{K} | TF-IDF hit |")
    print("| --- | --- | --- | --- | --- | --- |")
    labelled = queries(sys.argv[3] if len(sys.argv) > 3 else "queries.tsv")
    for query, wanted in labelled:
        sims = (matrix @ tfidf.transform([query]).T).toarray().ravel()
        by_tfidf = [ids[j] for j in sims.argsort()[::-1][:K]]
        by_story = story_search(url, query)
        s, t = scores(by_story, wanted), scores(by_tfidf, wanted)
        for name, v in (("story", s), ("tfidf", t)):
            totals[name] = [a + b for a, b in zip(totals[name], v)]
        print(f"| {query} | {len(wanted)} | {s[0]:.1f} | {s[2]:.0f} | {t[0]:.1f} | {t[2]:.0f} |")
    n = len(labelled)
    for name, (p, r, h) in totals.items():
        print(f"{name}: precision@{K} {p / n:.3f}, recall@{K} {r / n:.3f}, hit@{K} {h / n:.3f} over {n} queries")


if __name__ == "__main__":
    main()
