"""Scores reference recommenders on the exact train.csv / test.csv that `anirec split` wrote,
with the protocol of EVALUATION.md, and prints a Markdown table.

    python run.py --train DIR/train.csv --test DIR/test.csv --catalog anime.csv

Ranking: relevant = test anime rated 8+; candidates = anime in train the user has not rated in
train; full ranking; P@10, R@10, NDCG@10, AP@10 (normalised by min(relevant, 10)), coverage.
Rating: RMSE / MAE over test pairs whose user and anime occur in train, predictions clipped to
[1, 10].
"""
import argparse
import math
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models import as_numpy, ease_weights, fit_als, print_table

K = 10


def load(train_path, test_path):
    train = pd.read_csv(train_path)
    test = pd.read_csv(test_path)
    users = np.unique(train.user_id)
    items = np.unique(train.anime_id)
    uidx = {u: i for i, u in enumerate(users)}
    iidx = {a: i for i, a in enumerate(items)}
    rows = train.user_id.map(uidx).to_numpy()
    cols = train.anime_id.map(iidx).to_numpy()
    r = train.rating.to_numpy().astype(np.float32)
    X = sp.csr_matrix((r, (rows, cols)), shape=(len(users), len(items)))
    return train, test, users, items, uidx, iidx, X


def ranking_metrics(score_fn, test, X, uidx, iidx, n_items):
    rel = test[test.rating >= 8]
    by_user = rel.groupby("user_id").anime_id.apply(list)
    ndcg = prec = rec = ap = 0.0
    n = 0
    seen_items = set()
    for user, anime in by_user.items():
        if user not in uidx:
            continue
        u = uidx[user]
        relevant = {iidx[a] for a in anime if a in iidx}
        n_rel = len(anime)
        scores = np.asarray(score_fn(u), dtype=np.float64).copy()
        scores[X.indices[X.indptr[u]:X.indptr[u + 1]]] = -np.inf
        top = np.argpartition(-scores, K)[:K]
        top = top[np.argsort(-scores[top], kind="stable")]
        seen_items.update(top.tolist())
        hits, dcg, apsum = 0, 0.0, 0.0
        for rank, item in enumerate(top):
            if item in relevant:
                hits += 1
                dcg += 1.0 / math.log2(rank + 2)
                apsum += hits / (rank + 1)
        ideal = min(n_rel, K)
        idcg = sum(1.0 / math.log2(r + 2) for r in range(ideal))
        ndcg += dcg / idcg
        prec += hits / K
        rec += hits / n_rel
        ap += apsum / ideal
        n += 1
    return dict(ndcg=ndcg / n, p=prec / n, r=rec / n, map=ap / n, coverage=len(seen_items) / n_items, users=n)


def rating_metrics(predict, test, uidx, iidx):
    known = test[test.user_id.isin(uidx.keys()) & test.anime_id.isin(iidx.keys())]
    preds = np.clip(np.array([predict(u, a) for u, a in zip(known.user_id, known.anime_id)]), 1, 10)
    err = preds - known.rating.to_numpy()
    return dict(rmse=float(np.sqrt(np.mean(err ** 2))), mae=float(np.mean(np.abs(err))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--skip", default="", help="comma-separated system names to skip")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    train, test, users, items, uidx, iidx, X = load(args.train, args.test)
    n_items = len(items)
    rows = []

    def ranked(name, fit, score):
        if name in skip:
            return
        t = time.time()
        state = fit()
        secs = time.time() - t
        m = ranking_metrics(lambda u: score(state, u), test, X, uidx, iidx, n_items)
        rows.append((name, "-", "-", f"{m['ndcg']:.3f}", f"{m['p']:.3f}", f"{m['coverage']:.3f}", f"{secs:.1f}"))
        print(rows[-1], flush=True)

    def rated(name, algo_fn):
        if name in skip:
            return
        from surprise import Dataset, Reader

        reader = Reader(rating_scale=(1, 10))
        data = Dataset.load_from_df(train[["user_id", "anime_id", "rating"]], reader).build_full_trainset()
        algo = algo_fn()
        t = time.time()
        algo.fit(data)
        secs = time.time() - t
        m = rating_metrics(lambda u, a: algo.predict(u, a).est, test, uidx, iidx)
        rows.append((name, f"{m['rmse']:.3f}", f"{m['mae']:.3f}", "-", "-", "-", f"{secs:.1f}"))
        print(rows[-1], flush=True)

    counts = np.asarray((X > 0).sum(axis=0)).ravel().astype(np.float64)
    ranked("popularity", lambda: counts, lambda s, u: s)

    binary = (X > 0).astype(np.float64)
    for lam in (250, 500):
        ranked(f"EASE (lambda {lam})", lambda lam=lam: ease_weights(X, lam), lambda W, u: binary[u].toarray().ravel() @ W)

    import implicit

    def factors(model, u):
        return as_numpy(model.item_factors) @ as_numpy(model.user_factors)[u]

    ranked("ALS, implicit (64 factors, 15 iterations, confidence 1 + rating)", lambda: fit_als(X), factors)

    def bpr_fit():
        model = implicit.bpr.BayesianPersonalizedRanking(factors=64, random_state=42)
        model.fit((X > 0).astype(np.float32), show_progress=False)
        return model

    ranked("BPR (64 factors)", bpr_fit, factors)

    from lightfm import LightFM

    def lightfm_fit(features):
        def fit():
            model = LightFM(loss="warp", no_components=64, random_state=42)
            kwargs = {}
            if features is not None:
                kwargs["item_features"] = features
            model.fit((X > 0).astype(np.float32).tocoo(), epochs=20, num_threads=2, **kwargs)
            return (model, features)
        return fit

    def lightfm_score(state, u):
        model, features = state
        kwargs = {"item_features": features} if features is not None else {}
        return model.predict(u, np.arange(n_items), num_threads=2, **kwargs)

    ranked("LightFM WARP, collaborative only", lightfm_fit(None), lightfm_score)

    cat = pd.read_csv(args.catalog)
    genre_col = "Genres" if "Genres" in cat.columns else "Genders"
    cat = cat.set_index("MAL_ID")
    vocab = {}
    fr, fc = [], []
    for i, a in enumerate(items):
        fr.append(i)
        fc.append(vocab.setdefault(f"item:{a}", len(vocab)))
        if a in cat.index:
            row = cat.loc[a]
            tokens = [f"genre:{g.strip()}" for g in str(row[genre_col]).split(",")]
            tokens += [f"type:{row['Type']}"] + [f"studio:{s.strip()}" for s in str(row["Studios"]).split(",")]
            for t in tokens:
                fr.append(i)
                fc.append(vocab.setdefault(t, len(vocab)))
    F = sp.csr_matrix((np.ones(len(fr), dtype=np.float32), (fr, fc)), shape=(n_items, len(vocab)))
    ranked("LightFM WARP + genre/type/studio features", lightfm_fit(F), lightfm_score)

    from surprise import SVD, BaselineOnly, KNNBaseline

    rated("biased baseline (user + item biases)", lambda: BaselineOnly(verbose=False))
    rated("SVD (biased MF, SGD, 100 factors)", lambda: SVD(random_state=42))
    rated("SVD tuned (100 factors, reg 0.1, 40 epochs)", lambda: SVD(n_epochs=40, reg_all=0.1, random_state=42))
    rated(
        "item kNN with baselines (k 40, Pearson-baseline similarity)",
        lambda: KNNBaseline(k=40, sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False),
    )

    print_table(["system", "RMSE", "MAE", "NDCG@10", "P@10", "coverage", "fit seconds"], rows)


if __name__ == "__main__":
    main()
