"""Scores reference recommenders on the new-fan protocol, on exactly the users and ratings that
`anirec split --protocol new-users` wrote (the users `anirec eval --protocol new-users` holds out
with the same seed), and prints a Markdown table.

    python new_users.py --dir DIR --catalog anime.csv

DIR holds train.csv (everyone else, whole), fold_in.csv (80% of each new user's ratings) and
test.csv (the other 20%). Each system is fitted on train.csv only; a new user is folded in from
their fold_in.csv rows (ALS: implicit's `recalculate_user`, one least-squares solve against the
item factors; EASE: the user's row times B); their fold-in anime and adult titles are left out of
the ranking, as anirec's server does. Relevant = test anime rated 8+; Recall@k is hits over
min(k, relevant) (Liang et al. 2018), as `anirec eval --protocol new-users` reports.
"""
import argparse
import math
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models import as_numpy, ease_weights, fit_als, print_table

CUTS = {"ndcg_at_10": ("ndcg", 10), "recall_at_20": ("recall", 20), "recall_at_50": ("recall", 50), "ndcg_at_100": ("ndcg", 100)}


def adult_ids(catalog):
    cat = pd.read_csv(catalog)
    genres = cat["Genres" if "Genres" in cat.columns else "Genders"].astype(str)
    rating = cat["Rating"].astype(str) if "Rating" in cat.columns else pd.Series("", index=cat.index)
    adult = rating.str.startswith("Rx") | genres.str.contains("Hentai")
    return set(cat.MAL_ID[adult])


def user_rows(frame, iidx):
    """Per user: (item indices, ratings) of the anime that occur in train."""
    rows = {}
    for user, part in frame.groupby("user_id"):
        known = part[part.anime_id.isin(iidx.keys())]
        rows[user] = (known.anime_id.map(iidx).to_numpy(), known.rating.to_numpy().astype(np.float32))
    return rows


def figures(scores, relevant):
    """NDCG@10, Recall@20, Recall@50, NDCG@100 of one user's scores (higher is better)."""
    order = np.argsort(-scores, kind="stable")[:100]
    hit = np.array([i in relevant for i in order])
    out = {}
    for key, (kind, k) in CUTS.items():
        hits = hit[:k]
        if kind == "recall":
            out[key] = hits.sum() / min(k, len(relevant))
        else:
            dcg = sum(1.0 / math.log2(r + 2) for r in np.flatnonzero(hits))
            idcg = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(relevant))))
            out[key] = dcg / idcg
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--lambda", dest="lam", type=float, default=500.0, help="EASE's regularisation")
    args = ap.parse_args()
    train = pd.read_csv(f"{args.dir}/train.csv")
    fold_in = pd.read_csv(f"{args.dir}/fold_in.csv")
    test = pd.read_csv(f"{args.dir}/test.csv")
    users = np.unique(train.user_id)
    items = np.unique(train.anime_id)
    uidx = {u: i for i, u in enumerate(users)}
    iidx = {a: i for i, a in enumerate(items)}
    X = sp.csr_matrix(
        (train.rating.to_numpy().astype(np.float32), (train.user_id.map(uidx), train.anime_id.map(iidx))),
        shape=(len(users), len(items)),
    )
    adult_set = adult_ids(args.catalog)
    adult = np.array([a in adult_set for a in items])
    listed = user_rows(fold_in, iidx)
    # Relevant held-out anime, as item indices; anime not in train count in the denominator only
    # (no peer can rank them), as for anirec's candidates they are reachable.
    relevant = {}
    for user, part in test[test.rating >= 8].groupby("user_id"):
        relevant[user] = {iidx.get(a, -1 - j) for j, a in enumerate(part.anime_id)}
    new_users = [u for u in relevant if u in listed]
    print(f"{len(new_users)} new users, {len(users)} train users, {len(items)} anime in train", flush=True)

    rows = []

    def score(name, fit, fold):
        t = time.time()
        state = fit()
        fit_secs = time.time() - t
        totals = dict.fromkeys(CUTS, 0.0)
        t = time.time()
        for u in new_users:
            idx, r = listed[u]
            s = np.asarray(fold(state, idx, r), dtype=np.float64).copy()
            s[idx] = -np.inf
            s[adult] = -np.inf
            for key, v in figures(s, relevant[u]).items():
                totals[key] += v
        fold_ms = (time.time() - t) / len(new_users) * 1e3
        m = {k: v / len(new_users) for k, v in totals.items()}
        rows.append((name, *(f"{m[k]:.4f}" for k in CUTS), f"{fit_secs:.1f}", f"{fold_ms:.2f}"))
        print(rows[-1], flush=True)

    counts = np.asarray((X > 0).sum(axis=0)).ravel().astype(np.float64)
    score("popularity", lambda: counts, lambda s, idx, r: s)

    score(f"EASE (lambda {args.lam:g}), x·B", lambda: ease_weights(X, args.lam), lambda W, idx, r: W[idx].sum(axis=0))

    def als_fold(model, idx, r):
        row = sp.csr_matrix((1.0 + r, (np.zeros(len(idx), int), idx)), shape=(1, len(items)))
        factor = np.asarray(model.recalculate_user(0, row)).ravel()
        return as_numpy(model.item_factors) @ factor

    score("ALS, implicit (64 factors, 15 iterations, confidence 1 + rating), recalculate_user", lambda: fit_als(X), als_fold)

    print_table(["system", "NDCG@10", "Recall@20", "Recall@50", "NDCG@100", "fit seconds", "fold-in + rank ms per user"], rows)


if __name__ == "__main__":
    main()
