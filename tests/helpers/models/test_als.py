"""Notebook 04's regularized objective fitted by alternating least squares (NumPy, both tracks)."""

import numpy as np
import pandas as pd
import pytest

from movierec_helpers.models.als import fit_regularized_als, objective_terms, observed_mse


def _ratings(num_users=30, num_movies=25, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    users, movies = np.nonzero(rng.random((num_users, num_movies)) < density)
    return pd.DataFrame(
        {"user_id": users, "movie_id": movies, "rating": rng.integers(1, 6, len(users)).astype(float)}
    )


def _objective(ratings, U, V, lam_r, lam_g):
    """The objective written out the slow way: every (user, movie) score."""
    scores = U @ V.T
    observed = scores[ratings["user_id"], ratings["movie_id"]] - ratings["rating"].to_numpy()
    return (
        np.mean(observed**2)
        + lam_r * (np.mean(np.sum(U**2, axis=1)) + np.mean(np.sum(V**2, axis=1)))
        + lam_g * np.mean(scores**2)
    )


def test_objective_terms_are_notebook_04s_terms():
    ratings = _ratings()
    rng = np.random.default_rng(1)
    U, V = rng.normal(size=(30, 4)), rng.normal(size=(25, 4))
    terms = objective_terms(ratings, U, V, 0.3, 2.0)
    assert sum(terms.values()) == pytest.approx(_objective(ratings, U, V, 0.3, 2.0))
    assert terms["observed_loss"] == pytest.approx(observed_mse(ratings, U, V))
    assert terms["gravity_loss"] == pytest.approx(2.0 * np.mean((U @ V.T) ** 2))


def test_each_sweep_lowers_the_objective_and_ends_at_a_stationary_point():
    ratings = _ratings()
    fit = fit_regularized_als(
        ratings,
        30,
        25,
        embedding_dim=4,
        regularization_coeff=0.1,
        gravity_coeff=1.0,
        sweeps=60,
        random_state=0,
    )
    assert np.all(np.diff(fit.losses) <= 1e-12), "an exact solve of one side never raises the objective"
    assert fit.losses[-1] == pytest.approx(_objective(ratings, *fit[:2], 0.1, 1.0))
    assert fit.losses[-1] < fit.losses[0]
    # The last half-sweep solved the movies exactly: the gradient in V is zero.
    U, V = fit.user_embeddings, fit.movie_embeddings
    step, base = 1e-6, _objective(ratings, U, V, 0.1, 1.0)
    for j, k in [(0, 0), (7, 2), (24, 3)]:
        moved = V.copy()
        moved[j, k] += step
        assert (_objective(ratings, U, moved, 0.1, 1.0) - base) / step == pytest.approx(0.0, abs=1e-4)


def test_fit_is_reproducible_and_leaves_unrated_rows_at_zero():
    ratings = _ratings()
    ratings = ratings[ratings["user_id"] != 3]
    first = fit_regularized_als(ratings, 30, 25, embedding_dim=4, sweeps=3, random_state=5)
    again = fit_regularized_als(ratings, 30, 25, embedding_dim=4, sweeps=3, random_state=5)
    other = fit_regularized_als(ratings, 30, 25, embedding_dim=4, sweeps=3, random_state=6)
    np.testing.assert_array_equal(first.user_embeddings, again.user_embeddings)
    assert not np.allclose(first.user_embeddings, other.user_embeddings)
    assert first.user_embeddings.shape == (30, 4) and first.movie_embeddings.shape == (25, 4)
    np.testing.assert_array_equal(first.user_embeddings[3], 0.0)
    assert len(first.losses) == 3
