"""Rating tensors and losses of the PyTorch track (reference solutions of notebooks 02 and 04).

The same exercises as :mod:`movierec_helpers.models.losses`, over PyTorch tensors. Graded
cells may not call them (:mod:`movierec_helpers.exercises.reference`); later notebooks do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from movierec_helpers.data.tables import validate_ratings
from movierec_helpers.exercises.reference import reference_solution


@reference_solution("sparse_tensor")
def build_rating_sparse_tensor(
    ratings: pd.DataFrame, num_users: int, num_movies: int, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """The sparse rating matrix A (users x movies) of a ratings table.

    Reference answer of notebook 02 (PyTorch track), graded cell ``sparse_tensor``.

    Args:
        ratings: DataFrame with zero-based ``user_id``, ``movie_id`` and a ``rating``.
        num_users: number of rows of A.
        num_movies: number of columns of A.
        device: where the tensor lives.

    Returns:
        A coalesced ``torch.sparse_coo_tensor`` of size ``(num_users, num_movies)`` with
        float32 values (entries sorted row-major, each pair once).

    Raises:
        movierec_helpers.data.DataError: missing columns or ids out of range.
    """
    validate_ratings(ratings, num_users=num_users, num_movies=num_movies)
    indices = torch.tensor(ratings[["user_id", "movie_id"]].to_numpy(dtype=np.int64).T)
    values = torch.tensor(ratings["rating"].to_numpy(dtype=np.float32))
    return torch.sparse_coo_tensor(indices, values, (num_users, num_movies), device=device).coalesce()


@reference_solution("mse_dense", "mse_gather")
def sparse_mean_square_error(
    sparse_ratings: torch.Tensor, user_embeddings: torch.Tensor, movie_embeddings: torch.Tensor
) -> torch.Tensor:
    """Mean squared error of U V^T on the observed entries of A.

    Reference answer of notebook 02 (PyTorch track), graded cells ``mse_dense`` and
    ``mse_gather``. On MovieLens 100K the dense product is the fastest way in PyTorch on a
    CPU: one matrix product, against a backward pass that scatters 90,000 gathered rows
    (``make bench``); it needs N x M floats, so it is not for large catalogues.

    Args:
        sparse_ratings: A, a sparse COO tensor of size ``(N, M)``.
        user_embeddings: U, shape ``(N, d)``.
        movie_embeddings: V, shape ``(M, d)``.

    Returns:
        A scalar tensor, differentiable with respect to U and V.
    """
    _check_same_dim(user_embeddings, movie_embeddings)
    ratings = sparse_ratings.coalesce()
    rows, cols = ratings.indices()
    flat = rows * movie_embeddings.shape[0] + cols
    predictions = torch.take(user_embeddings @ movie_embeddings.T, flat)
    return torch.mean((ratings.values().to(predictions.dtype) - predictions) ** 2)


@reference_solution("gravity")
def gravity(user_embeddings: torch.Tensor, movie_embeddings: torch.Tensor) -> torch.Tensor:
    """The gravity term (1/(NM)) sum_ij <U_i, V_j>^2, in O((N + M) d^2).

    Reference answer of notebook 04 (PyTorch track), graded cell ``gravity``: uses
    sum_ij <U_i, V_j>^2 = sum((U^T U) * (V^T V)), so the N x M matrix is never formed.
    """
    _check_same_dim(user_embeddings, movie_embeddings)
    n, m = user_embeddings.shape[0], movie_embeddings.shape[0]
    return torch.sum((user_embeddings.T @ user_embeddings) * (movie_embeddings.T @ movie_embeddings)) / (n * m)


@reference_solution("regularized_model")
def l2_regularization(user_embeddings: torch.Tensor, movie_embeddings: torch.Tensor) -> torch.Tensor:
    """r(U, V) = (1/N) sum_i ||U_i||^2 + (1/M) sum_j ||V_j||^2."""
    return (user_embeddings**2).sum(dim=1).mean() + (movie_embeddings**2).sum(dim=1).mean()


def _check_same_dim(user_embeddings: torch.Tensor, movie_embeddings: torch.Tensor) -> None:
    if user_embeddings.shape[-1] != movie_embeddings.shape[-1]:
        raise ValueError(
            f"The user embedding dimension {user_embeddings.shape[-1]} must match the movie "
            f"embedding dimension {movie_embeddings.shape[-1]}."
        )
