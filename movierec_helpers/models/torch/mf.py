"""Matrix-factorisation models of the PyTorch track (reference solutions of notebooks 02 and 04)."""

from __future__ import annotations

import pandas as pd
import torch

from movierec_helpers.exercises.reference import reference_solution
from movierec_helpers.models.mf_objectives import observed_mse_objective, regularized_objective
from movierec_helpers.models.torch.cfmodel import CFModel, default_device
from movierec_helpers.models.torch.losses import (
    build_rating_sparse_tensor,
    gravity,
    l2_regularization,
    sparse_mean_square_error,
)


def init_embeddings(
    num_rows: int, dim: int, stddev: float, seed: int, device: torch.device | str = "cpu"
) -> torch.nn.Parameter:
    """A ``(num_rows, dim)`` parameter drawn from N(0, stddev^2) with an explicit seed.

    The draw is made on the CPU, so a seed gives the same values on a CPU and a GPU.
    """
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(num_rows, dim, generator=generator) * stddev
    return torch.nn.Parameter(values.to(device))


def _problem(train_ratings, test_ratings, num_users, num_movies, embedding_dim, init_stddev, seed, device):
    """The rating tensors and initial embeddings of both models (users seed ``seed``, movies ``seed + 1``)."""
    device = device or default_device()
    return (
        build_rating_sparse_tensor(train_ratings, num_users, num_movies, device),
        build_rating_sparse_tensor(test_ratings, num_users, num_movies, device),
        init_embeddings(num_users, embedding_dim, init_stddev, seed, device),
        init_embeddings(num_movies, embedding_dim, init_stddev, seed + 1, device),
    )


@reference_solution("build_model")
def build_model(
    train_ratings: pd.DataFrame,
    test_ratings: pd.DataFrame,
    num_users: int,
    num_movies: int,
    *,
    embedding_dim: int = 3,
    init_stddev: float = 1.0,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> CFModel:
    """Unregularised matrix factorisation trained on the observed MSE.

    Reference answer of notebook 02 (PyTorch track), graded cell ``build_model``.

    Args:
        train_ratings: ratings to fit.
        test_ratings: ratings to report the test error on.
        num_users: rows of the rating matrix.
        num_movies: columns of the rating matrix.
        embedding_dim: d.
        init_stddev: standard deviation of the initial embeddings.
        seed: seed of the initial embeddings (users use ``seed``, movies ``seed + 1``).
        device: where to train (default: :func:`default_device`).

    Returns:
        A :class:`CFModel` with metrics ``train_error`` and ``test_error``.
    """
    a_train, a_test, U, V = _problem(
        train_ratings, test_ratings, num_users, num_movies, embedding_dim, init_stddev, seed, device
    )

    loss, metrics = observed_mse_objective(sparse_mean_square_error, a_train, a_test, U, V)
    return CFModel({"user_id": U, "movie_id": V}, loss, metrics)


@reference_solution("regularized_model")
def build_regularized_model(
    train_ratings: pd.DataFrame,
    test_ratings: pd.DataFrame,
    num_users: int,
    num_movies: int,
    *,
    embedding_dim: int = 3,
    regularization_coeff: float = 0.1,
    gravity_coeff: float = 1.0,
    init_stddev: float = 0.1,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> CFModel:
    """Matrix factorisation with L2 regularisation and the gravity term.

    Reference answer of notebook 04 (PyTorch track), graded cell ``regularized_model``.
    The loss is MSE_observed + lambda_r r(U, V) + lambda_g g(U, V).

    Returns:
        A :class:`CFModel` with groups ``train_error_observed``/``test_error_observed``
        and ``observed_loss``/``regularization_loss``/``gravity_loss``.
    """
    a_train, a_test, U, V = _problem(
        train_ratings, test_ratings, num_users, num_movies, embedding_dim, init_stddev, seed, device
    )

    loss, metrics = regularized_objective(
        sparse_mean_square_error,
        l2_regularization,
        gravity,
        a_train,
        a_test,
        U,
        V,
        regularization_coeff,
        gravity_coeff,
    )
    return CFModel({"user_id": U, "movie_id": V}, loss, metrics)
