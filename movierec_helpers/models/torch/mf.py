"""Matrix-factorisation models of the PyTorch track (reference solutions of notebooks 02 and 04).

:class:`MatrixFactorization` is the ``torch.nn.Module`` of notebooks 02-04 (one ``nn.Embedding``
per id column); :func:`build_model` and :func:`build_regularized_model` wrap it in a
:class:`~movierec_helpers.models.torch.cfmodel.CFModel` with its loss and metrics.
"""

from __future__ import annotations

import pandas as pd
import torch

from movierec_helpers.exercises.reference import reference_solution
from movierec_helpers.models.mf_objectives import observed_mse_objective, regularized_objective
from movierec_helpers.models.torch.cfmodel import CFModel
from movierec_helpers.models.torch.device import default_device
from movierec_helpers.models.torch.losses import (
    build_rating_sparse_tensor,
    gravity,
    l2_regularization,
    sparse_mean_square_error,
)


class MatrixFactorization(torch.nn.Module):
    """Ratings as dot products of a user's and a movie's embedding: ``model(users, movies)``.

    Args:
        user_embeddings: the initial U, shape ``(num_users, d)``; it becomes the weight of the
            ``nn.Embedding`` ``user_id`` (readable as ``model.U``).
        movie_embeddings: the initial V, shape ``(num_movies, d)``: ``movie_id``, ``model.V``.

    Raises:
        ValueError: U and V have different dimensions.
    """

    def __init__(self, user_embeddings: torch.Tensor, movie_embeddings: torch.Tensor) -> None:
        super().__init__()
        if user_embeddings.shape[-1] != movie_embeddings.shape[-1]:
            raise ValueError(
                f"The user embedding dimension {user_embeddings.shape[-1]} must match the movie "
                f"embedding dimension {movie_embeddings.shape[-1]}."
            )
        self.user_id = torch.nn.Embedding.from_pretrained(user_embeddings, freeze=False)
        self.movie_id = torch.nn.Embedding.from_pretrained(movie_embeddings, freeze=False)

    @property
    def U(self) -> torch.nn.Parameter:  # noqa: N802 - the course's name for the matrix
        """The user embeddings, the weight of ``user_id``."""
        return self.user_id.weight

    @property
    def V(self) -> torch.nn.Parameter:  # noqa: N802
        """The movie embeddings, the weight of ``movie_id``."""
        return self.movie_id.weight

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """The predicted rating <U_i, V_j> of each pair (``users[k]``, ``movies[k]``)."""
        return (self.user_id(users) * self.movie_id(movies)).sum(dim=1)


def init_embeddings(num_rows: int, dim: int, stddev: float, seed: int) -> torch.Tensor:
    """A ``(num_rows, dim)`` tensor drawn from N(0, stddev^2) on the CPU with an explicit seed.

    The draw is made on the CPU, so a seed gives the same values on a CPU and a GPU.
    """
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(num_rows, dim, generator=generator) * stddev


def _problem(train_ratings, test_ratings, num_users, num_movies, embedding_dim, init_stddev, seed, device):
    """The rating tensors and the module (users drawn with seed ``seed``, movies ``seed + 1``)."""
    device = device or default_device()
    module = MatrixFactorization(
        init_embeddings(num_users, embedding_dim, init_stddev, seed),
        init_embeddings(num_movies, embedding_dim, init_stddev, seed + 1),
    )
    return (
        build_rating_sparse_tensor(train_ratings, num_users, num_movies, device),
        build_rating_sparse_tensor(test_ratings, num_users, num_movies, device),
        module.to(device),
    )


def _of_module(loss, metrics):
    # The shared objectives' closures already read the module's parameters (model.U is U).
    groups = [{name: (lambda model, fn=fn: fn()) for name, fn in group.items()} for group in metrics]
    return (lambda model: loss()), groups


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
        A :class:`CFModel` of a :class:`MatrixFactorization` (``model.module``) with metrics
        ``train_error`` and ``test_error``.
    """
    a_train, a_test, module = _problem(
        train_ratings, test_ratings, num_users, num_movies, embedding_dim, init_stddev, seed, device
    )
    loss, metrics = observed_mse_objective(sparse_mean_square_error, a_train, a_test, module.U, module.V)
    return CFModel(module, *_of_module(loss, metrics))


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
    a_train, a_test, module = _problem(
        train_ratings, test_ratings, num_users, num_movies, embedding_dim, init_stddev, seed, device
    )
    loss, metrics = regularized_objective(
        sparse_mean_square_error,
        l2_regularization,
        gravity,
        a_train,
        a_test,
        module.U,
        module.V,
        regularization_coeff,
        gravity_coeff,
    )
    return CFModel(module, *_of_module(loss, metrics))
