"""The peer models both protocols fit (EASE's closed form, implicit's ALS) and the Markdown table
they print: one definition for `run.py` and `new_users.py`."""
import numpy as np


def ease_weights(X, lam):
    """EASE's item-item weights B (Steck 2019) over the binarised rows of X, diagonal zero."""
    B = (X > 0).astype(np.float64)
    G = (B.T @ B).toarray()
    G[np.diag_indices_from(G)] += lam
    P = np.linalg.inv(G)
    W = -P / np.diag(P)
    W[np.diag_indices_from(W)] = 0
    return W


def fit_als(X):
    """implicit's ALS, 64 factors, 15 iterations, confidence 1 + rating."""
    import implicit

    model = implicit.als.AlternatingLeastSquares(factors=64, iterations=15, random_state=42)
    C = X.copy()
    C.data = 1.0 + C.data
    model.fit(C, show_progress=False)
    return model


def as_numpy(factors):
    """A factor matrix as a numpy array (implicit may hand back its own matrix type)."""
    return factors.to_numpy() if hasattr(factors, "to_numpy") else factors


def print_table(header, rows):
    """A Markdown table."""
    print()
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" for _ in header) + " |")
    for r in rows:
        print("| " + " | ".join(r) + " |")
