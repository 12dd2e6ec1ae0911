"""Notebook 04's regularized matrix factorisation fitted by alternating least squares, NumPy only.

The objective is notebook 04's, with ``Ω`` the training ratings, ``N`` users and ``M`` movies:

    MSE_observed + λ_r (mean_i |U_i|² + mean_j |V_j|²) + λ_g / (N M) Σ_ij (U_i · V_j)²

With ``V`` fixed it is a quadratic function of each user's row ``U_i`` alone, so setting its
gradient to zero solves every user exactly (and then every movie, with ``U`` fixed):

    U_i = (V_i^T V_i + (λ_r |Ω| / N) I + (λ_g |Ω| / (N M)) V^T V)^-1  V_i^T r_i

where ``V_i`` are the rows of the movies user ``i`` rated and ``r_i`` their ratings. Each
half-sweep minimises the objective over one side, so it never rises from one sweep to the next;
no learning rate to tune. Both tracks use it (notebooks 07 and 09).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits


class Factorization(NamedTuple):
    """What :func:`fit_regularized_als` returns."""

    user_embeddings: np.ndarray
    movie_embeddings: np.ndarray
    losses: list[float]  # the objective after each sweep


def observed_mse(ratings: pd.DataFrame, U: np.ndarray, V: np.ndarray) -> float:
    """Mean squared error of ``U_i · V_j`` against the ratings (columns user_id, movie_id, rating)."""
    predicted = np.einsum("nd,nd->n", U[ratings["user_id"].to_numpy()], V[ratings["movie_id"].to_numpy()])
    return float(np.mean((predicted - ratings["rating"].to_numpy(dtype=np.float64)) ** 2))


def objective_terms(
    ratings: pd.DataFrame, U: np.ndarray, V: np.ndarray, regularization_coeff: float, gravity_coeff: float
) -> dict[str, float]:
    """Notebook 04's three terms: ``observed_loss``, ``regularization_loss`` and ``gravity_loss``.

    Args:
        ratings: the training ratings.
        U: ``[N, d]`` user embeddings.
        V: ``[M, d]`` movie embeddings.
        regularization_coeff: λ_r.
        gravity_coeff: λ_g.

    Returns:
        The three terms; the objective is their sum.
    """
    regularization = (U**2).sum(axis=1).mean() + (V**2).sum(axis=1).mean()
    # Σ_ij (U_i · V_j)² = Σ (U^T U) * (V^T V): two d x d products, never the N x M scores.
    gravity = np.sum((U.T @ U) * (V.T @ V)) / (len(U) * len(V))
    return {
        "observed_loss": observed_mse(ratings, U, V),
        "regularization_loss": float(regularization_coeff * regularization),
        "gravity_loss": float(gravity_coeff * gravity),
    }


def solve_rows(R: sp.csr_matrix, fixed: np.ndarray, ridge: float, gravity: float) -> np.ndarray:
    """Every row's exact minimiser with the other side fixed (users with ``R``, movies with ``R.T``).

    Args:
        R: ``[rows, M]`` CSR ratings; its stored entries are the observed ratings.
        fixed: ``[M, d]`` embeddings of the other side.
        ridge: the weight of ``I`` (``λ_r |Ω| / rows``).
        gravity: the weight of ``fixed^T fixed`` (``λ_g |Ω| / (rows M)``).

    Returns:
        ``[rows, d]`` embeddings; a row without ratings gets zeros (the gravity and L2 minimum).
    """
    base = ridge * np.eye(fixed.shape[1]) + gravity * (fixed.T @ fixed)
    out = np.zeros((R.shape[0], fixed.shape[1]))
    for row in range(R.shape[0]):
        start, end = R.indptr[row], R.indptr[row + 1]
        if end > start:
            rated = fixed[R.indices[start:end]]
            out[row] = np.linalg.solve(base + rated.T @ rated, rated.T @ R.data[start:end])
    return out


def fit_regularized_als(
    ratings: pd.DataFrame,
    num_users: int,
    num_movies: int,
    *,
    embedding_dim: int = 35,
    regularization_coeff: float = 0.1,
    gravity_coeff: float = 1.0,
    sweeps: int = 10,
    init_stddev: float = 0.05,
    random_state: int = 0,
) -> Factorization:
    """Minimises notebook 04's regularized objective by alternating exact solves.

    Args:
        ratings: training ratings (columns user_id, movie_id, rating).
        num_users: N.
        num_movies: M.
        embedding_dim: d.
        regularization_coeff: λ_r.
        gravity_coeff: λ_g.
        sweeps: how many (users, then movies) sweeps.
        init_stddev: standard deviation of the random initial movie embeddings.
        random_state: the random state of that draw.

    Returns:
        A :class:`Factorization`: ``U [N, d]``, ``V [M, d]`` and the objective after each sweep.
    """
    values = ratings["rating"].to_numpy(dtype=np.float64)
    users = sp.csr_matrix(
        (values, (ratings["user_id"].to_numpy(), ratings["movie_id"].to_numpy())),
        shape=(num_users, num_movies),
    )
    movies = users.T.tocsr()
    observed = len(values) / (num_users * num_movies)  # |Ω| / (N M)
    V = np.random.default_rng(random_state).normal(scale=init_stddev, size=(num_movies, embedding_dim))
    losses = []
    # Thousands of d x d solves: BLAS threads only slow each down, and one thread gives the same
    # bits on every run whatever OMP_NUM_THREADS says.
    with threadpool_limits(1, "blas"):
        for _ in range(sweeps):
            U = solve_rows(users, V, regularization_coeff * observed * num_movies, gravity_coeff * observed)
            V = solve_rows(movies, U, regularization_coeff * observed * num_users, gravity_coeff * observed)
            losses.append(sum(objective_terms(ratings, U, V, regularization_coeff, gravity_coeff).values()))
    return Factorization(U, V, losses)
