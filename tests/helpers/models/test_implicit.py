"""The implicit-feedback models (NumPy/SciPy): weighted ALS, BPR, popularity and EASE."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from movierec_helpers.data.split import temporal_holdout
from movierec_helpers.exercises.reference import ReferenceSolutionUsed, forbid_exercises
from movierec_helpers.models.implicit import bpr
from movierec_helpers.models.implicit.als import fit_als, half_sweep, weighted_solve
from movierec_helpers.models.implicit.baselines import ease_scores, fit_ease, popularity
from movierec_helpers.models.implicit.bpr import bpr_loss_grad, fit_bpr, sample_triples
from movierec_helpers.models.implicit.interactions import interaction_matrix, scores_of_factors


def _ratings(num_users=30, num_items=25, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    users, items = np.nonzero(rng.random((num_users, num_items)) < density)
    return pd.DataFrame(
        {
            "user_id": users,
            "movie_id": items,
            "rating": rng.integers(1, 6, len(users)).astype(float),
            "timestamp": rng.integers(0, 10 * 86_400, len(users)),
        }
    )


def _dense_solve(Y, items, ratings, alpha, lam):
    c, p = np.ones(len(Y)), np.zeros(len(Y))
    c[items], p[items] = 1 + alpha * np.asarray(ratings, dtype=float), 1.0
    return np.linalg.solve(Y.T @ np.diag(c) @ Y + lam * np.eye(Y.shape[1]), Y.T @ (c * p))


def test_interaction_matrix_keeps_ratings_or_ones_and_the_last_repeat():
    table = pd.DataFrame({"user_id": [0, 1, 1, 0], "movie_id": [2, 0, 0, 1], "rating": [4.0, 2.0, 5.0, 1.0]})
    R = interaction_matrix(table, 3, 4)
    assert R.shape == (3, 4) and R.nnz == 3
    np.testing.assert_array_equal(R.toarray(), [[0, 1, 4, 0], [5, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(interaction_matrix(table, 3, 4, values=None).toarray() > 0, R.toarray() > 0)
    assert set(interaction_matrix(table, 3, 4, values=None).data) == {1.0}
    np.testing.assert_allclose(scores_of_factors(np.eye(3), np.ones((4, 3)), [2, 0]), np.ones((2, 4)))


def test_weighted_solve_is_the_dense_formula_and_reads_only_the_users_rows():
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(40, 5))
    items, ratings = [3, 17, 8], [5, 1, 3]
    want = _dense_solve(Y, items, ratings, 0.8, 0.4)
    masked = np.full_like(Y, np.nan)
    masked[items] = Y[items]
    np.testing.assert_allclose(weighted_solve(masked, Y.T @ Y, items, ratings, 0.8, 0.4), want, rtol=1e-10)
    with forbid_exercises("weighted_solve"), pytest.raises(ReferenceSolutionUsed):
        weighted_solve(Y, Y.T @ Y, items, ratings, 0.8, 0.4)


def test_half_sweep_solves_every_row_and_leaves_empty_rows_at_zero():
    R = sp.csr_matrix(np.array([[0, 3.0, 0, 1.0], [0, 0, 0, 0], [5.0, 0, 2.0, 0]]))
    Y = np.random.default_rng(2).normal(size=(4, 2))
    X = half_sweep(R, Y, 0.5, 0.1)
    np.testing.assert_allclose(X[0], _dense_solve(Y, [1, 3], [3, 1], 0.5, 0.1), rtol=1e-10)
    np.testing.assert_array_equal(X[1], [0.0, 0.0])
    np.testing.assert_allclose(X[2], _dense_solve(Y, [0, 2], [5, 2], 0.5, 0.1), rtol=1e-10)


def test_als_lowers_its_weighted_loss_and_ranks_seen_items_high():
    table = _ratings()
    R = interaction_matrix(table, 30, 25)
    C, P = 1 + 2.0 * R.toarray(), (R.toarray() > 0).astype(float)

    def loss(X, Y):
        return np.sum(C * (P - X @ Y.T) ** 2) + 0.1 * (np.sum(X**2) + np.sum(Y**2))

    X1, Y1 = fit_als(R, factors=4, alpha=2.0, lam=0.1, sweeps=1, seed=0)
    X5, Y5 = fit_als(R, factors=4, alpha=2.0, lam=0.1, sweeps=5, seed=0)
    assert X5.shape == (30, 4) and Y5.shape == (25, 4)
    assert loss(X5, Y5) < loss(X1, Y1)
    scores = X5 @ Y5.T
    assert scores[P > 0].mean() > scores[P == 0].mean() + 0.2
    np.testing.assert_array_equal(
        fit_als(R, factors=4, sweeps=2, seed=3)[1], fit_als(R, factors=4, sweeps=2, seed=3)[1]
    )


def _numeric_grad(x_u, y_i, y_j, which, step=1e-6):
    arrays, grad = [x_u, y_i, y_j], np.zeros_like(x_u)
    for index in np.ndindex(*x_u.shape):
        values = []
        for sign in (1, -1):
            moved = [a.copy() for a in arrays]
            moved[which][index] += sign * step
            values.append(np.mean(np.logaddexp(0, -np.sum(moved[0] * (moved[1] - moved[2]), axis=1))))
        grad[index] = (values[0] - values[1]) / (2 * step)
    return grad


def test_bpr_loss_grad_matches_finite_differences_and_does_not_overflow():
    rng = np.random.default_rng(4)
    x_u, y_i, y_j = (rng.normal(size=(7, 3)) for _ in range(3))
    loss, *grads = bpr_loss_grad(x_u, y_i, y_j)
    assert loss == pytest.approx(np.mean(np.logaddexp(0, -np.sum(x_u * (y_i - y_j), axis=1))))
    for which, grad in enumerate(grads):
        np.testing.assert_allclose(grad, _numeric_grad(x_u, y_i, y_j, which), rtol=1e-5, atol=1e-9)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, g_u, g_i, g_j = bpr_loss_grad([[10.0]], [[-100.0]], [[0.0]])
    assert loss == pytest.approx(1000.0) and g_i[0, 0] == pytest.approx(-10.0)


@pytest.mark.parametrize("lookup_table", [True, False])
def test_sampled_triples_are_seen_then_truly_unseen(monkeypatch, lookup_table):
    if not lookup_table:
        monkeypatch.setattr(bpr, "DENSE_LOOKUP_LIMIT", 0)
    dense = interaction_matrix(_ratings(density=0.8), 30, 25, values=None).toarray()
    dense[5] = 0  # a user without interactions is never sampled
    dense[7] = 1  # nor one who has seen every item (no unseen item to draw)
    R = sp.csr_matrix(dense)
    users, seen, unseen = sample_triples(R, 20_000, np.random.default_rng(5))
    dense_R = R.toarray()
    assert np.all(dense_R[users, seen] > 0) and np.all(dense_R[users, unseen] == 0)
    assert not {5, 7} & set(users)
    with pytest.raises(ValueError, match="no unseen item"):
        sample_triples(sp.csr_matrix(np.ones((2, 3))), 5, np.random.default_rng(0))
    assert len(set(unseen)) > 20, "the unseen item is drawn across the catalogue"
    again = sample_triples(R, 20_000, np.random.default_rng(5))
    assert all(np.array_equal(a, b) for a, b in zip((users, seen, unseen), again)), "seeded"


def test_bpr_learns_to_rank_seen_above_unseen():
    R = interaction_matrix(_ratings(density=0.3), 30, 25, values=None)
    X0, Y0 = fit_bpr(R, factors=8, epochs=0, seed=1)
    X, Y = fit_bpr(R, factors=8, lr=0.1, epochs=60, batch_size=64, seed=1)

    def auc(X, Y):
        scores, seen = X @ Y.T, R.toarray() > 0
        return np.mean([np.mean(s[m][:, None] > s[~m][None, :]) for s, m in zip(scores, seen) if m.any()])

    assert auc(X, Y) > 0.8 > auc(X0, Y0) + 0.1


def test_popularity_counts_all_time_or_a_recent_window():
    table = pd.DataFrame(
        {"movie_id": [0, 0, 0, 1, 1, 2], "timestamp": [0, 0, 0, 9 * 86_400, 10 * 86_400, 10 * 86_400]}
    )
    np.testing.assert_array_equal(popularity(table, 4), [3, 2, 1, 0])
    recent = popularity(table, 4, window_days=2)
    assert list(np.argsort(-recent, kind="stable")) == [1, 2, 0, 3], "recent first, all-time breaks ties"
    assert recent[0] < 1 and recent[2] >= 1


def test_ease_is_its_closed_form_with_a_zero_diagonal():
    R = interaction_matrix(_ratings(), 30, 25)
    B = fit_ease(R, lam=5.0)
    X = (R.toarray() > 0).astype(float)
    assert np.all(np.diag(B) == 0)
    # Each column j is the ridge regression of item j on the other items (Steck 2019, eq. 8).
    j, others = 4, np.arange(25) != 4
    ridge = np.linalg.solve(X[:, others].T @ X[:, others] + 5.0 * np.eye(24), X[:, others].T @ X[:, j])
    np.testing.assert_allclose(B[others, j], ridge, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ease_scores(R, B, [2, 0]), X[[2, 0]] @ B)


def test_temporal_holdout_holds_out_each_users_latest_and_keeps_one_in_training():
    table = pd.DataFrame(
        {
            "user_id": [0, 0, 0, 0, 1, 1, 2],
            "movie_id": [1, 2, 3, 4, 1, 2, 5],
            "rating": [3.0] * 7,
            "timestamp": [40, 10, 30, 30, 5, 1, 7],
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    train, test = temporal_holdout(table, num_heldout=2)
    assert sorted(test.index) == [10, 13, 14], "the latest two; a tie keeps the table's order"
    assert sorted(train.index) == [11, 12, 15, 16], "a user with too few ratings keeps one in training"
    assert len(train) + len(test) == len(table)
    with pytest.raises(ValueError, match="at least 1"):
        temporal_holdout(table, num_heldout=0)
