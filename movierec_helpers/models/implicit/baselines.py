"""Two baselines every implicit model must beat: popularity (over a recent window) and EASE.

EASE (Steck 2019) is a linear item x item model with a closed form:
``B = I - P / diag(P)`` with ``P = (X^T X + lam I)^-1`` and a zero diagonal, ``X`` the binary
interactions; a user's scores are their row of ``X`` times ``B``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

DAY = 86_400


def popularity(ratings: pd.DataFrame, num_items: int, window_days: float | None = None) -> np.ndarray:
    """How many interactions each item has, over the last ``window_days`` of ``ratings`` or all of it.

    Args:
        ratings: a table with ``movie_id`` and ``timestamp`` (Unix seconds) columns.
        num_items: the length of the result.
        window_days: only interactions this many days before the latest one count; ``None``: all.

    Returns:
        ``[num_items]`` float scores; ties are broken towards all-time popularity (a small bonus).
    """
    counts = np.bincount(ratings["movie_id"].to_numpy(), minlength=num_items).astype(np.float64)
    if window_days is None:
        return counts
    recent = ratings[ratings["timestamp"] >= ratings["timestamp"].max() - window_days * DAY]
    windowed = np.bincount(recent["movie_id"].to_numpy(), minlength=num_items).astype(np.float64)
    return windowed + counts / (counts.max() + 1.0)


def fit_ease(R: sp.spmatrix, lam: float = 500.0) -> np.ndarray:
    """The EASE item x item weights of the binary interactions of ``R``.

    Args:
        R: ``[N, M]`` sparse interactions (stored entries count as 1).
        lam: L2 regularisation (Steck's default for MovieLens-sized data is a few hundred).

    Returns:
        ``B [M, M]`` with a zero diagonal; scores are ``binary(R)[users] @ B``.
    """
    X = sp.csr_matrix(R, dtype=np.float64, copy=True)
    X.data[:] = 1.0
    G = (X.T @ X).toarray()
    G[np.diag_indices_from(G)] += lam
    P = np.linalg.inv(G)
    B = -P / np.diag(P)
    B[np.diag_indices_from(B)] = 0.0
    return B


def ease_scores(R: sp.spmatrix, B: np.ndarray, users) -> np.ndarray:
    """EASE scores ``[len(users), M]`` of ``users`` (ids) from their interactions in ``R``."""
    X = sp.csr_matrix(R, dtype=np.float64, copy=True)[np.asarray(users)]
    X.data[:] = 1.0
    return np.asarray(X @ B)
