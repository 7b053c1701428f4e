"""Offline experiment on what story search embeds and how it ranks (issue 30, part 5): dense
vectors of different texts (the model's: titles, genres and synopsis; genres and synopsis
without titles; the synopsis cut into passages, the best passage counting), BM25 over the
synopsis and genres beside them, and two ways to fuse the two lists (reciprocal rank fusion, and
a weighted sum of the cosine and the query's normalised BM25), each with a popularity prior.
Every variant is scored as the server ranks (adult titles out, one anime per franchise, title
hits aside) on the tuning queries (queries.tsv) and on two held-out sets written before any
answer was seen (heldout.tsv, natural.tsv): hit@10 counting the expected anime only ("strict")
and counting the entry shown for its franchise ("series", since the search shows one entry per
franchise).

    python3 bench/story/fusion.py texts MODEL_DIR     # writes the texts to embed under /tmp/anirec-fusion
    cargo run --release -p anirec-encoder --example embed -- /tmp/anirec-fusion/queries.txt /tmp/anirec-fusion/queries.f32
    for t in notitle masked english passages; do cargo run --release -p anirec-encoder --example embed -- --catalogue /tmp/anirec-fusion/$t.txt /tmp/anirec-fusion/$t.f32; done
    python3 bench/story/fusion.py grid MODEL_DIR      # the table, as Markdown

MODEL_DIR is a bundle trained with story embeddings. Needs numpy and snowballstemmer (the
Snowball English stemmer that rust-stemmers implements).
"""

import csv
import math
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import snowballstemmer

from ranking import Catalogue, labelled, story_vectors

K = 10
DIM = 384
WORK = Path("/tmp/anirec-fusion")
HERE = Path(__file__).parent
SETS = {"tuning": "queries.tsv", "held out": "heldout.tsv", "natural": "natural.tsv"}
PASSAGE_WORDS = 40
STEM = snowballstemmer.stemmer("english")
STOPWORDS = set(
    re.findall(
        r'^    "([a-z]+)",$',
        (HERE.parent.parent / "crates/anirec-model/src/content/tokens.rs").read_text(),
        re.M,
    )
)
LEXICAL = (HERE.parent.parent / "crates/anirec-model/src/lexical.rs").read_text()
QUERY_STOPWORDS = set(
    re.findall(r'"([a-z]+)"', LEXICAL[LEXICAL.index("const QUERY_STOPWORDS") :].split("];")[0])
)


def words(text):
    """Lowercased, stemmed content words, as the content model's tokenizer makes them."""
    out = []
    for w in re.findall(r"\w+", text.lower()):
        if len(w) > 2 and not w.isdigit() and w not in STOPWORDS:
            out.append(STEM.stemWord(w))
    return out


def one_line(text):
    return " ".join((text or "").split())


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[\"'(A-Z0-9])", one_line(text)) if s]


def passages(text):
    """The synopsis in runs of whole sentences of about PASSAGE_WORDS words."""
    out, run = [], []
    for s in sentences(text):
        if run and len(" ".join(run + [s]).split()) > PASSAGE_WORDS:
            out.append(" ".join(run))
            run = []
        run.append(s)
    if run:
        out.append(" ".join(run))
    return out


def no_title_text(a, keep=lambda word: True):
    """`Genres: ... . SYNOPSIS` (the title where there is no synopsis), as
    `anirec_model::story_text` writes it when `keep` is its name filter."""
    genres = ", ".join(a["genres"])
    synopsis = " ".join(w for w in (a["synopsis"] or "").split() if keep(w))
    return f"Genres: {genres}. {synopsis or a['name']}"


def english_text(a, keep):
    """The English title (where there is one and a synopsis), then `no_title_text`."""
    text = no_title_text(a, keep)
    return f"{a['english_name']}. {text}" if a.get("english_name") and a["synopsis"] else text


def name_filter(anime):
    """Keeps a word unless it is a name as `anirec_model::story_text::Names` decides: its first
    run of letters is capitalised and the catalogue's synopses never write it in lower case."""
    lower = {w for a in anime for w in re.findall(r"[^\W\d_]+", a["synopsis"] or "") if w.islower()}

    def keep(word):
        runs = re.findall(r"[^\W\d_]+", word.split("'")[0])
        if not runs:
            return True
        core = runs[0]
        capitalised = core[0].isupper() and len(core) > 1 and core[1:].islower()
        return not (capitalised and core.lower() not in lower)

    return keep


def write_texts(anime, queries):
    WORK.mkdir(exist_ok=True)
    (WORK / "queries.txt").write_text("\n".join(queries) + "\n", encoding="utf-8")
    (WORK / "notitle.txt").write_text(
        "\n".join(no_title_text(a) for a in anime) + "\n", encoding="utf-8"
    )
    keep = name_filter(anime)
    (WORK / "masked.txt").write_text(
        "\n".join(no_title_text(a, keep) for a in anime) + "\n", encoding="utf-8"
    )
    (WORK / "english.txt").write_text(
        "\n".join(english_text(a, keep) for a in anime) + "\n", encoding="utf-8"
    )
    owners, texts = [], []
    for i, a in enumerate(anime):
        for p in passages(a["synopsis"]) or [no_title_text(a)]:
            owners.append(i)
            texts.append(p)
    (WORK / "passages.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    np.array(owners, dtype=np.int32).tofile(WORK / "passages.owners")
    print(f"{len(queries)} queries, {len(anime)} anime, {len(texts)} passages under {WORK}")


def rows(name, n):
    data = np.fromfile(WORK / name, dtype="<f4")
    if data.size != n * DIM:
        sys.exit(f"{WORK / name} holds {data.size // DIM} rows, not {n}: embed it first")
    return data.reshape(n, DIM)


class Bm25:
    def __init__(self, docs, k1, b):
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in docs]
        self.len = np.array([len(d) for d in docs], dtype=np.float32)
        self.avg = float(self.len.mean())
        df = Counter(t for d in self.tf for t in d)
        n = len(docs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.postings = {}
        for i, d in enumerate(self.tf):
            for t, c in d.items():
                self.postings.setdefault(t, []).append((i, c))

    def scores(self, query):
        """BM25 of every anime for `query`, as `anirec_model::lexical` scores it (the words of
        asking for a show left out)."""
        out = np.zeros(len(self.tf), dtype=np.float32)
        asked = " ".join(w for w in re.findall(r"\w+", query) if w.lower() not in QUERY_STOPWORDS)
        for t in set(words(asked)):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i, c in self.postings[t]:
                norm = self.k1 * (1 - self.b + self.b * self.len[i] / self.avg)
                out[i] += idf * c * (self.k1 + 1) / (c + norm)
        return out


def ranks(score):
    """Rank of each anime in `score`, 0 = best."""
    order = np.argsort(-score, kind="stable")
    r = np.empty_like(order)
    r[order] = np.arange(len(order))
    return r


def shown(score, allowed, group, members, known_within=0):
    """The first K anime, one per franchise: its best match, or with `known_within`, the entry
    with the most members among the franchise's entries in the first `known_within`."""
    score = np.where(allowed, score, -np.inf)
    order = np.argsort(-score, kind="stable")[:2000]
    best_known = {}
    for j in order[:known_within]:
        g = group[j]
        if g >= 0 and (g not in best_known or members[j] > members[best_known[g]]):
            best_known[g] = j
    found, seen = [], set()
    for j in order:
        if group[j] >= 0:
            if group[j] in seen:
                continue
            seen.add(group[j])
            j = best_known.get(group[j], j)
        found.append(j)
        if len(found) == K:
            break
    return found


def main():
    step, model = sys.argv[1], Path(sys.argv[2])
    c = Catalogue(model)
    anime = c.anime
    sets = {name: labelled(f) for name, f in SETS.items()}
    queries = [q for rows_ in sets.values() for q, _ in rows_]
    if step == "texts":
        write_texts(anime, queries)
        return
    ids, members, popularity, allowed, group = c.ids, c.members, c.popularity, c.allowed, c.group
    by_id = {m: i for i, m in enumerate(ids)}

    qv = rows("queries.f32", len(queries))
    model_v = story_vectors(model)
    notitle = rows("notitle.f32", len(anime))
    masked = rows("masked.f32", len(anime))
    english = rows("english.f32", len(anime))
    owners = np.fromfile(WORK / "passages.owners", dtype=np.int32)
    passage_v = rows("passages.f32", len(owners))

    def passage_best(q):
        s = passage_v @ q
        out = np.full(len(anime), -1.0, dtype=np.float32)
        np.maximum.at(out, owners, s)
        return out

    dense = {
        "titles+genres+synopsis": lambda q: model_v @ q,
        "genres+synopsis": lambda q: notitle @ q,
        "genres+synopsis, names out": lambda q: masked @ q,
        "English title+genres+synopsis, names out": lambda q: english @ q,
        "passages": passage_best,
        "genres+synopsis, passages (mean)": lambda q: 0.5 * (notitle @ q + passage_best(q)),
    }
    docs = [words(" ".join(a["genres"]) + " " + (a["synopsis"] or "")) for a in anime]
    lexical = {f"bm25 k1={k1} b={b}": Bm25(docs, k1, b) for k1, b in ((1.2, 0.75), (1.2, 0.5))}

    # Per query: every dense and lexical score, computed once.
    cached = []
    for i, q in enumerate(queries):
        cached.append(
            {
                **{name: f(qv[i]) for name, f in dense.items()},
                **{name: m.scores(q) for name, m in lexical.items()},
            }
        )
    expected = [w for rows_ in sets.values() for _, w in rows_]
    set_of = [name for name, rows_ in sets.items() for _ in rows_]

    def evaluate(make_score, known_within=0):
        totals = {name: np.zeros(2) for name in sets}
        for i in range(len(queries)):
            found = shown(make_score(cached[i]), allowed, group, members, known_within)
            wanted = [by_id[m] for m in expected[i] if m in by_id]
            strict = any(ids[j] in expected[i] for j in found)
            groups = {group[w] for w in wanted if group[w] >= 0}
            series = strict or any(group[j] in groups for j in found)
            totals[set_of[i]] += (strict, series)
        return {name: t / len(sets[name]) for name, t in totals.items()}

    def row(label, make_score, known_within=0):
        r = evaluate(make_score, known_within)
        cells = " | ".join(f"{r[n][0]:.3f} / {r[n][1]:.3f}" for n in sets)
        print(f"| {label} | {cells} |", flush=True)

    print("| variant (hit@10 strict / series) | " + " | ".join(sets) + " |")
    print("| --- | " + " | ".join("---" for _ in sets) + " |")
    for name in dense:
        for p in (0.0, 0.1, 0.2, 0.3):
            row(f"{name}, prior {p}", lambda c, name=name, p=p: c[name] + p * popularity)
    for name in lexical:
        for p in (0.0, 1.0, 2.0, 4.0):
            row(f"{name}, prior {p}", lambda c, name=name, p=p: c[name] + p * popularity)
    lex = "bm25 k1=1.2 b=0.75"
    for name in dense:
        for k in (10, 60):
            for p in (0.0, 0.005, 0.01, 0.02):
                row(
                    f"RRF k={k} {name} + {lex}, prior {p}",
                    lambda c, name=name, k=k, p=p: 1 / (k + ranks(c[name]))
                    + 1 / (k + ranks(c[lex]))
                    + p * popularity,
                )
        for alpha in (0.1, 0.2, 0.3):
            for p in (0.1, 0.2, 0.3):
                row(
                    f"{name} + {alpha} × normalised {lex}, prior {p}",
                    lambda c, name=name, a=alpha, p=p: c[name]
                    + a * c[lex] / max(c[lex].max(), 1e-6)
                    + p * popularity,
                )
    # The entry shown for a franchise: the best known among its close matches.
    mean = "genres+synopsis, passages (mean)"
    shortlist = {
        "titles+genres+synopsis, prior 0.3": lambda c: c["titles+genres+synopsis"]
        + 0.3 * popularity,
        "genres+synopsis, prior 0.3": lambda c: c["genres+synopsis"] + 0.3 * popularity,
        f"{lex}, prior 4.0": lambda c: c[lex] + 4.0 * popularity,
        f"RRF k=60 passages + {lex}, prior 0.02": lambda c: 1 / (60 + ranks(c["passages"]))
        + 1 / (60 + ranks(c[lex]))
        + 0.02 * popularity,
        f"RRF k=60 {mean} + {lex}, prior 0.02": lambda c: 1 / (60 + ranks(c[mean]))
        + 1 / (60 + ranks(c[lex]))
        + 0.02 * popularity,
        f"{mean} + 0.2 × normalised {lex}, prior 0.3": lambda c: c[mean]
        + 0.2 * c[lex] / max(c[lex].max(), 1e-6)
        + 0.3 * popularity,
        f"genres+synopsis + 0.3 × normalised {lex}, prior 0.3": lambda c: c["genres+synopsis"]
        + 0.3 * c[lex] / max(c[lex].max(), 1e-6)
        + 0.3 * popularity,
        f"genres+synopsis, names out + 0.3 × normalised {lex}, prior 0.3": lambda c: c[
            "genres+synopsis, names out"
        ]
        + 0.3 * c[lex] / max(c[lex].max(), 1e-6)
        + 0.3 * popularity,
        f"English title+genres+synopsis, names out + 0.3 × normalised {lex}, prior 0.3": lambda c: c[
            "English title+genres+synopsis, names out"
        ]
        + 0.3 * c[lex] / max(c[lex].max(), 1e-6)
        + 0.3 * popularity,
    }
    for label, f in shortlist.items():
        for within in (10, 30, 100):
            row(f"{label}, best-known entry of the first {within}", f, within)


if __name__ == "__main__":
    main()
