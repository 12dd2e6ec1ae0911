"""The NumPy models of notebook 11: item-KNN, PureSVD, EASE, a candidate list."""

import numpy as np
import pandas as pd
import pytest

from movierec_helpers.models.neighbors import (
    candidate_list_scores,
    ease_scores,
    interaction_matrix,
    item_knn_scores,
    pure_svd_scores,
    right_singular_vectors,
)


@pytest.fixture
def matrix():
    return (np.random.default_rng(0).random((40, 30)) < 0.3).astype(np.float32)


def test_interaction_matrix_is_binary_whatever_the_rating():
    ratings = pd.DataFrame({"user_id": [0, 0, 1], "movie_id": [2, 0, 2], "rating": [5.0, 1.0, 3.0]})
    np.testing.assert_array_equal(interaction_matrix(ratings, 2, 3), [[1, 0, 1], [0, 0, 1]])


def test_item_knn_sums_cosine_similarities_of_the_users_items(matrix):
    unit = matrix / np.maximum(np.linalg.norm(matrix, axis=0), 1e-12)
    similarity = unit.T @ unit
    np.fill_diagonal(similarity, 0.0)
    np.testing.assert_allclose(
        item_knn_scores(matrix, neighbours=30), matrix @ similarity, rtol=1e-5, atol=1e-6
    )
    sparse = item_knn_scores(matrix, neighbours=3)
    assert not np.allclose(sparse, matrix @ similarity)
    with pytest.raises(ValueError, match="neighbours"):
        item_knn_scores(matrix, neighbours=0)


def test_pure_svd_projects_on_the_top_right_singular_vectors(matrix):
    vt = np.linalg.svd(matrix.astype(float), full_matrices=False)[2]
    for factors in (1, 5, 20):
        expected = matrix @ vt[:factors].T @ vt[:factors]
        np.testing.assert_allclose(pure_svd_scores(matrix, factors), expected, atol=1e-9)
    vectors = right_singular_vectors(matrix, 20)
    np.testing.assert_allclose(pure_svd_scores(matrix, 5, vectors), pure_svd_scores(matrix, 5), atol=1e-9)
    with pytest.raises(ValueError, match="factors"):
        pure_svd_scores(matrix, 21, vectors)
    tall = np.vstack([matrix, matrix])  # more rows than columns: the other Gram matrix
    np.testing.assert_allclose(np.abs(right_singular_vectors(tall, 3)), np.abs(vt[:3]), atol=1e-8)


def test_ease_solves_the_ridge_regression_with_a_zero_diagonal(matrix):
    weights = np.linalg.solve(matrix.T @ matrix + 50.0 * np.eye(30), matrix.T @ matrix)
    scores = ease_scores(matrix, 50.0)
    item_weights = np.linalg.lstsq(matrix.astype(float), scores, rcond=None)[0]
    assert np.allclose(np.diag(item_weights), 0.0, atol=1e-6)
    assert not np.allclose(scores, matrix @ weights), "the zero diagonal changes the plain ridge solution"
    with pytest.raises(ValueError, match="regularization"):
        ease_scores(matrix, 0.0)


def test_a_candidate_list_keeps_the_top_n_untrained_items_in_order_and_zeroes_the_rest():
    scores = np.array([[0.9, 0.2, 0.8, 0.5, 0.1]])
    trained = np.array([[1.0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(candidate_list_scores(scores, trained, 2), [[0, 0, 2, 1, 0]])
