"""Matrix-factorisation models (reference solutions of notebooks 02 and 04)."""

from __future__ import annotations

import pandas as pd
import tensorflow as tf

from movierec_helpers.exercises.reference import reference_solution
from movierec_helpers.models.mf_objectives import observed_mse_objective, regularized_objective
from movierec_helpers.models.tensorflow.cfmodel import CFModel
from movierec_helpers.models.tensorflow.losses import (
    build_rating_sparse_tensor,
    gravity,
    l2_regularization,
    sparse_mean_square_error,
)


def init_embeddings(num_rows: int, dim: int, stddev: float, seed: int, name: str) -> tf.Variable:
    """A ``[num_rows, dim]`` variable drawn from N(0, stddev^2) with an explicit seed."""
    values = tf.random.Generator.from_seed(seed).normal([num_rows, dim], stddev=stddev)
    return tf.Variable(values, name=name)


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
) -> CFModel:
    """Unregularised matrix factorisation trained on the observed MSE.

    Reference answer of notebook 02, graded cell ``build_model`` (later notebooks reuse it).

    Args:
        train_ratings: ratings to fit.
        test_ratings: ratings to report the test error on.
        num_users: rows of the rating matrix.
        num_movies: columns of the rating matrix.
        embedding_dim: d.
        init_stddev: standard deviation of the initial embeddings.
        seed: seed of the initial embeddings (users use ``seed``, movies ``seed + 1``).

    Returns:
        A :class:`CFModel` with metrics ``train_error`` and ``test_error``.
    """
    a_train = build_rating_sparse_tensor(train_ratings, num_users, num_movies)
    a_test = build_rating_sparse_tensor(test_ratings, num_users, num_movies)
    U = init_embeddings(num_users, embedding_dim, init_stddev, seed, "U")
    V = init_embeddings(num_movies, embedding_dim, init_stddev, seed + 1, "V")

    loss, metrics = observed_mse_objective(sparse_mean_square_error, a_train, a_test, U, V)
    return CFModel({"user_id": U, "movie_id": V}, loss, metrics, jit_compile=False)


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
) -> CFModel:
    """Matrix factorisation with L2 regularisation and the gravity term.

    Reference answer of notebook 04, graded cell ``regularized_model`` (later notebooks reuse it).

    The loss is MSE_observed + lambda_r r(U, V) + lambda_g g(U, V).

    Returns:
        A :class:`CFModel` with groups ``train_error_observed``/``test_error_observed``
        and ``observed_loss``/``regularization_loss``/``gravity_loss``.
    """
    a_train = build_rating_sparse_tensor(train_ratings, num_users, num_movies)
    a_test = build_rating_sparse_tensor(test_ratings, num_users, num_movies)
    U = init_embeddings(num_users, embedding_dim, init_stddev, seed, "U")
    V = init_embeddings(num_movies, embedding_dim, init_stddev, seed + 1, "V")

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
    return CFModel({"user_id": U, "movie_id": V}, loss, metrics, jit_compile=False)
