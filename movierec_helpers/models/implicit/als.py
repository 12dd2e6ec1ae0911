"""Weighted alternating least squares for implicit feedback (Hu, Koren and Volinsky 2008).

Every (user, item) pair counts: the preference ``p`` is 1 where the user interacted, 0
elsewhere, and the confidence in it is ``c = 1 + alpha * r`` on the interactions (``r`` the
rating) and 1 elsewhere. The loss is ``sum_ui c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)``.
Each half-sweep solves every user (then every item) in closed form:

    x_u = (Y^T Y + Y_u^T (C_u - I) Y_u + reg I)^-1  Y_u^T c_u

where ``Y_u`` are the rows of the user's items only: ``Y^T Y`` is computed once per
half-sweep, so a sweep costs O(nnz d^2 + (N + M) d^3), never O(N M).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from movierec_helpers.exercises.reference import reference_solution


def _solve(Y: np.ndarray, base: np.ndarray, items: np.ndarray, ratings: np.ndarray, alpha: float):
    """The solve with ``base = YtY + lam I`` computed once for all users."""
    rows = Y[items]
    extra = alpha * np.asarray(ratings, dtype=np.float64)  # C_u - I on the user's items
    return np.linalg.solve(base + (rows.T * extra) @ rows, rows.T @ (1.0 + extra))


@reference_solution("weighted_solve")
def weighted_solve(Y, YtY, items, ratings, alpha: float, lam: float) -> np.ndarray:
    """One user's vector of weighted ALS, reading only the rows of ``Y`` of the user's items.

    Reference answer of notebook 10, graded cell ``weighted_solve``.

    Args:
        Y: ``[M, d]`` item factors.
        YtY: ``Y.T @ Y`` (``[d, d]``), computed once for all users.
        items: the ids of the items the user interacted with.
        ratings: the user's rating of each of ``items`` (same order).
        alpha: confidence per rating point: ``c = 1 + alpha * r``.
        lam: L2 regularisation.

    Returns:
        The user's ``[d]`` vector.
    """
    rows = np.asarray(Y, dtype=np.float64)[np.asarray(items, dtype=np.int64)]
    confidence = 1.0 + alpha * np.asarray(ratings, dtype=np.float64)
    A = np.asarray(YtY, dtype=np.float64) + (rows.T * (confidence - 1.0)) @ rows + lam * np.eye(rows.shape[1])
    return np.linalg.solve(A, rows.T @ confidence)


def half_sweep(R: sp.csr_matrix, fixed: np.ndarray, alpha: float, lam: float) -> np.ndarray:
    """Solves every row of ``R`` (users, or items with ``R.T``) with the other side's factors fixed.

    Args:
        R: ``[rows, M]`` CSR matrix of ratings (its stored entries are the interactions).
        fixed: ``[M, d]`` factors of the columns.
        alpha: confidence per rating point.
        lam: L2 regularisation.

    Returns:
        ``[rows, d]`` factors; a row without interactions gets zeros.
    """
    base = fixed.T @ fixed + lam * np.eye(fixed.shape[1])
    out = np.zeros((R.shape[0], fixed.shape[1]))
    for row in range(R.shape[0]):
        start, end = R.indptr[row], R.indptr[row + 1]
        if end > start:
            out[row] = _solve(fixed, base, R.indices[start:end], R.data[start:end], alpha)
    return out


def fit_als(
    R: sp.spmatrix,
    factors: int = 32,
    alpha: float = 1.0,
    lam: float = 0.1,
    sweeps: int = 10,
    *,
    seed: int = 0,
    init_stddev: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted ALS: alternating closed-form solves of users and items.

    Args:
        R: ``[N, M]`` sparse ratings (any SciPy format); stored entries are the interactions.
        factors: the dimension ``d``.
        alpha: confidence per rating point (``c = 1 + alpha * r``).
        lam: L2 regularisation of both sides.
        sweeps: how many (users, then items) sweeps.
        seed: seed of the random initial item factors.
        init_stddev: their standard deviation.

    Returns:
        ``(user_factors [N, d], item_factors [M, d])``; scores are ``user_factors @ item_factors.T``.
    """
    users = sp.csr_matrix(R, dtype=np.float64)
    items = users.T.tocsr()
    Y = np.random.default_rng(seed).normal(scale=init_stddev, size=(users.shape[1], factors))
    X = np.zeros((users.shape[0], factors))
    # Thousands of d x d solves: BLAS threads only add overhead to each (2x slower on 2 busy cores).
    with threadpool_limits(1, "blas"):
        for _ in range(sweeps):
            X = half_sweep(users, Y, alpha, lam)
            Y = half_sweep(items, X, alpha, lam)
    return X, Y
