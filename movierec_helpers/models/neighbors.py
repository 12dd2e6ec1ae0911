"""Small implicit-feedback models in NumPy that fit MovieLens 100K in a second or two.

Each takes the users' training interactions as a dense binary matrix (943 x 1,682 fits in a
few megabytes) and returns scores, one row per user and one column per item:

- :func:`item_knn_scores`: item-based nearest neighbours with cosine similarity, each item
  keeping only its ``neighbours`` most similar items;
- :func:`pure_svd_scores`: PureSVD (Cremonesi, Koren and Turrin, 2010), the interactions
  projected on their top ``factors`` right singular vectors;
- :func:`ease_scores`: EASE (Steck, 2019), a closed-form item-item regression with an L2
  penalty and a zero diagonal (the weights of :func:`~movierec_helpers.models.implicit.baselines.fit_ease`,
  which notebook 10 uses on sparse data).

No TensorFlow and no PyTorch: both tracks use these models (notebook 11).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movierec_helpers.models.implicit import interactions
from movierec_helpers.models.implicit.baselines import fit_ease


def interaction_matrix(ratings: pd.DataFrame, num_users: int, num_items: int) -> np.ndarray:
    """The binary user-item matrix of ``ratings``: 1.0 where a user rated an item, whatever the rating.

    Args:
        ratings: a table with ``user_id`` and ``movie_id`` columns.
        num_users: rows of the matrix.
        num_items: columns of the matrix.

    Returns:
        A ``float32`` array of shape ``[num_users, num_items]``.
    """
    binary = interactions.interaction_matrix(ratings, num_users, num_items, values=None)
    return binary.toarray().astype(np.float32)


def item_knn_scores(matrix: np.ndarray, neighbours: int = 50) -> np.ndarray:
    """Item-KNN scores: for each user, the summed cosine similarity of each item to the user's items.

    Args:
        matrix: the binary user-item matrix.
        neighbours: how many most similar items each item keeps (the rest count 0).

    Returns:
        Scores of shape ``matrix.shape``.
    """
    if neighbours < 1:
        raise ValueError(f"neighbours must be at least 1, got {neighbours}.")
    counts = np.sqrt(matrix.sum(axis=0))
    unit = matrix / np.where(counts > 0, counts, 1.0)
    similarity = unit.T @ unit
    np.fill_diagonal(similarity, 0.0)
    if neighbours < similarity.shape[0]:
        # Keep each column's largest entries: a column is the neighbours of one scored item.
        cut = np.partition(similarity, -neighbours, axis=0)[-neighbours]
        similarity = np.where(similarity >= cut[None, :], similarity, 0.0)
    return matrix @ similarity


def right_singular_vectors(matrix: np.ndarray, count: int = 200) -> np.ndarray:
    """The top ``count`` right singular vectors of ``matrix`` (rows, largest singular value first).

    From the eigenvectors of the smaller Gram matrix (users x users here), several times faster
    than a full SVD; the leading vectors are what :func:`pure_svd_scores` keeps.
    """
    if not 0 < count <= min(matrix.shape):
        raise ValueError(f"count must be between 1 and {min(matrix.shape)}, got {count}.")
    matrix = matrix.astype(np.float64)
    small = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    eigenvalues, eigenvectors = np.linalg.eigh(small)
    order = np.argsort(eigenvalues)[::-1][:count]
    if matrix.shape[0] > matrix.shape[1]:
        return eigenvectors[:, order].T
    left = eigenvectors[:, order]
    return (left.T @ matrix) / np.sqrt(np.maximum(eigenvalues[order], 1e-12))[:, None]


def pure_svd_scores(matrix: np.ndarray, factors: int = 50, vectors: np.ndarray | None = None) -> np.ndarray:
    """PureSVD scores: the matrix projected on its top ``factors`` right singular vectors.

    Args:
        matrix: the binary user-item matrix.
        factors: how many singular vectors to keep.
        vectors: :func:`right_singular_vectors` of ``matrix`` (at least ``factors`` of them),
            when already computed: several ``factors`` from one decomposition.

    Returns:
        Scores of shape ``matrix.shape``.
    """
    if not 0 < factors <= min(matrix.shape):
        raise ValueError(f"factors must be between 1 and {min(matrix.shape)}, got {factors}.")
    vectors = right_singular_vectors(matrix, factors) if vectors is None else vectors
    if factors > len(vectors):
        raise ValueError(f"only {len(vectors)} singular vectors given, {factors} factors asked.")
    top = vectors[:factors]
    return (matrix @ top.T) @ top


def ease_scores(matrix: np.ndarray, regularization: float = 500.0) -> np.ndarray:
    """EASE scores: ``matrix @ B`` with B the ridge regression of each item on the others.

    Args:
        matrix: the binary user-item matrix.
        regularization: the L2 penalty (lambda); larger is smoother.

    Returns:
        Scores of shape ``matrix.shape``.
    """
    if regularization <= 0:
        raise ValueError(f"regularization must be positive, got {regularization}.")
    return matrix @ fit_ease(sp.csr_matrix(matrix), regularization)


def candidate_list_scores(scores: np.ndarray, matrix: np.ndarray, n: int) -> np.ndarray:
    """A model that scores only its own top ``n``: each user's ``n`` best untrained items, the rest 0.

    What a two-stage recommender's ranking stage sees: the ``n`` candidates keep their order
    (scores ``n`` down to 1); every other item scores 0 (ties, which count against a held-out item).

    Args:
        scores: ``[num_users, num_items]`` scores of the model.
        matrix: the binary training matrix (items a user trained on are never candidates).
        n: candidates per user.

    Returns:
        Scores of the same shape.
    """
    masked = np.where(matrix > 0, -np.inf, scores)
    top = np.argsort(-masked, axis=1, kind="stable")[:, :n]
    out = np.zeros(scores.shape)
    np.put_along_axis(out, top, np.arange(n, 0, -1, dtype=float)[None, :], axis=1)
    return out
