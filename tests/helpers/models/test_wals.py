import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from movierec_helpers.models.tensorflow.losses import build_rating_sparse_tensor
from movierec_helpers.models.tensorflow.wals import WALS, WALSWeights, course_objective_weights


def _numpy_wals_sweep(A, observed, U, V, w):
    """Reference: dense weighted least squares, one row at a time."""
    d = U.shape[1]

    def solve(A, observed, F, l2):
        out = np.empty((A.shape[0], d))
        for i in range(A.shape[0]):
            Fo = F[observed[i]]
            lhs = Fo.T @ Fo + w.gravity * F.T @ F + l2 * np.eye(d)
            out[i] = np.linalg.solve(lhs, Fo.T @ A[i, observed[i]])
        return out

    U = solve(A, observed, V, w.user_l2)
    V = solve(A.T, observed.T, U, w.movie_l2)
    return U, V


@pytest.fixture
def small_problem():
    rng = np.random.default_rng(0)
    observed = rng.random((12, 9)) < 0.4
    observed[np.arange(12), np.arange(12) % 9] = True  # every row and column has a rating
    users, movies = np.nonzero(observed)
    table = pd.DataFrame(
        {"user_id": users, "movie_id": movies, "rating": rng.integers(1, 6, len(users)).astype(float)}
    )
    return table.sample(frac=1.0, random_state=0), observed


def test_matches_numpy_reference(small_problem):
    table, observed = small_problem
    A_dense = np.zeros(observed.shape)
    A_dense[table.user_id, table.movie_id] = table.rating
    weights = WALSWeights(gravity=0.05, user_l2=0.3, movie_l2=0.2)
    model = WALS(
        build_rating_sparse_tensor(table, 12, 9),
        3,
        weights,
        init_stddev=0.5,
        seed=1,
        chunk=7,
        dtype=tf.float64,
    )
    U, V = model.U.numpy(), model.V.numpy()
    for _ in range(3):
        model.sweep()
        U, V = _numpy_wals_sweep(A_dense, observed, U, V, weights)
    np.testing.assert_allclose(model.U.numpy(), U, atol=1e-4)
    np.testing.assert_allclose(model.V.numpy(), V, atol=1e-4)


def test_objective_never_increases(ml100k):
    A = build_rating_sparse_tensor(ml100k.ratings, ml100k.num_users, ml100k.num_movies)
    weights = course_objective_weights(len(ml100k.ratings), ml100k.num_users, ml100k.num_movies, 0.1, 1.0)
    model = WALS(A, 8, weights, init_stddev=0.1, seed=0)
    values = [model.objective()] + [model.sweep() for _ in range(5)]
    assert all(b <= a * (1 + 1e-5) for a, b in zip(values, values[1:])), values
    assert values[-1] < 0.5 * values[0]


def test_course_weights_scale_the_regularized_loss(ml100k):
    from movierec_helpers.models.tensorflow.losses import gravity, l2_regularization, sparse_mean_square_error

    A = build_rating_sparse_tensor(ml100k.ratings, ml100k.num_users, ml100k.num_movies)
    weights = course_objective_weights(len(ml100k.ratings), ml100k.num_users, ml100k.num_movies, 0.1, 1.0)
    model = WALS(A, 4, weights, init_stddev=0.3, seed=2)
    U, V = model.U, model.V
    course_loss = sparse_mean_square_error(A, U, V) + 0.1 * l2_regularization(U, V) + 1.0 * gravity(U, V)
    assert model.objective() == pytest.approx(float(course_loss) * len(ml100k.ratings), rel=1e-4)
