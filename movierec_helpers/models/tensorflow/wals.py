"""Weighted alternating least squares (WALS) for matrix factorisation, in TensorFlow.

The objective is the course's regularised loss seen from the closed-form side::

    J(U, V) = sum_{(i,j) in Omega} (A_ij - <U_i, V_j>)^2
              + w0 * sum_{all (i,j)} <U_i, V_j>^2          # gravity
              + lam_u * ||U||^2 + lam_v * ||V||^2

(the same as weight 1 + w0 on observed entries and w0 on unobserved ones, with target
A_ij / (1 + w0) on observed entries.) With V fixed, J is a convex quadratic in each row
U_i, minimised by solving

    (sum_{j in Omega_i} V_j V_j^T + w0 V^T V + lam_u I) U_i = sum_{j in Omega_i} A_ij V_j,

and likewise for V. A half-step solves all rows at once with one batched Cholesky solve;
no N x M matrix is formed: the all-pairs term is the d x d Gram matrix V^T V, and the
per-row Gram matrices are accumulated from the ratings in chunks of bounded size.
Each half-step minimises J exactly over one factor, so J never increases.
:func:`course_objective_weights` maps the course's (lambda_r, lambda_g) to these weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf


@dataclass(frozen=True)
class WALSWeights:
    """Weights of the WALS objective (see the module docstring)."""

    gravity: float
    user_l2: float
    movie_l2: float


def course_objective_weights(
    num_ratings: int, num_users: int, num_movies: int, regularization_coeff: float, gravity_coeff: float
) -> WALSWeights:
    """WALS weights whose objective is |Omega| times the course's regularised loss.

    The course minimises (1/|Omega|) sum_Omega err^2 + lambda_g/(NM) sum_all <U_i,V_j>^2
    + lambda_r (||U||^2/N + ||V||^2/M); multiplying by |Omega| gives J above with these weights.
    """
    return WALSWeights(
        gravity=gravity_coeff * num_ratings / (num_users * num_movies),
        user_l2=regularization_coeff * num_ratings / num_users,
        movie_l2=regularization_coeff * num_ratings / num_movies,
    )


def _row_grams(rows, cols, factors, num_rows, chunk):
    """sum over each row's ratings of F_j F_j^T, shape [num_rows, d, d], accumulated in chunks."""
    dim = tf.shape(factors)[1]
    total = tf.zeros(tf.stack([num_rows, dim, dim]), factors.dtype)
    count = tf.shape(rows)[0]
    for start in tf.range(0, count, chunk):
        end = tf.minimum(start + chunk, count)
        picked = tf.gather(factors, cols[start:end])
        outer = picked[:, :, None] * picked[:, None, :]
        total += tf.math.unsorted_segment_sum(outer, rows[start:end], num_rows)
    return total


def _solve_rows(ratings, factors, gravity, l2, chunk):
    """Exact minimiser of J over the row factors, given the column factors."""
    rows, cols = ratings.indices[:, 0], ratings.indices[:, 1]
    num_rows = tf.cast(ratings.dense_shape[0], tf.int32)
    dim = tf.shape(factors)[1]
    grams = _row_grams(rows, cols, factors, num_rows, chunk)
    lhs = (
        grams
        + gravity * tf.matmul(factors, factors, transpose_a=True)[None]
        + l2 * tf.eye(dim, dtype=factors.dtype)[None]
    )
    rhs = tf.sparse.sparse_dense_matmul(ratings, factors)
    return tf.linalg.cholesky_solve(tf.linalg.cholesky(lhs), rhs[:, :, None])[:, :, 0]


class WALS:
    """Alternating least squares on a sparse rating matrix.

    Args:
        ratings: A as a ``tf.SparseTensor`` of dense shape ``[N, M]``.
        embedding_dim: d.
        weights: the objective's weights (:class:`WALSWeights`).
        init_stddev: standard deviation of the initial factors.
        seed: seed of the initial factors.
        chunk: ratings per chunk when accumulating per-row Gram matrices (bounds memory to
            ``chunk * d * d`` floats).
        dtype: ``tf.float32`` (default) or ``tf.float64``.
    """

    def __init__(
        self,
        ratings: tf.SparseTensor,
        embedding_dim: int,
        weights: WALSWeights,
        *,
        init_stddev: float = 0.1,
        seed: int = 0,
        chunk: int = 65536,
        dtype=tf.float32,
    ) -> None:
        self.ratings = tf.sparse.reorder(
            tf.SparseTensor(ratings.indices, tf.cast(ratings.values, dtype), ratings.dense_shape)
        )
        self.ratings_t = tf.sparse.reorder(tf.sparse.transpose(self.ratings))
        self.weights = weights
        self.chunk = chunk
        generator = tf.random.Generator.from_seed(seed)
        shape = self.ratings.dense_shape
        self.U = tf.Variable(tf.cast(generator.normal([shape[0], embedding_dim], stddev=init_stddev), dtype))
        self.V = tf.Variable(tf.cast(generator.normal([shape[1], embedding_dim], stddev=init_stddev), dtype))

        # A tf.function over a closure rather than a decorated method (see CFModel: a
        # @tf.function method may see TensorFlow's weak `TfMethodTarget` as `self`).
        self._sweep = tf.function(
            _sweep_function(self.ratings, self.ratings_t, self.U, self.V, weights, chunk)
        )

    def sweep(self, num_sweeps: int = 1) -> float:
        """Runs full sweeps (U then V); returns the objective afterwards."""
        for _ in range(num_sweeps):
            self._sweep()
        return self.objective()

    def objective(self) -> float:
        """J(U, V), computed in O((|Omega| + N + M) d^2)."""
        U, V, A = self.U, self.V, self.ratings
        predictions = tf.reduce_sum(tf.gather(U, A.indices[:, 0]) * tf.gather(V, A.indices[:, 1]), 1)
        all_pairs = tf.reduce_sum(tf.matmul(U, U, transpose_a=True) * tf.matmul(V, V, transpose_a=True))
        w = self.weights
        value = (
            tf.reduce_sum(tf.square(A.values - predictions))
            + w.gravity * all_pairs
            + w.user_l2 * tf.reduce_sum(tf.square(U))
            + w.movie_l2 * tf.reduce_sum(tf.square(V))
        )
        return float(value)

    @property
    def embeddings(self) -> dict[str, np.ndarray]:
        """``{"user_id": U, "movie_id": V}`` as NumPy arrays."""
        return {"user_id": self.U.numpy(), "movie_id": self.V.numpy()}


def _sweep_function(ratings, ratings_t, U, V, weights, chunk) -> Callable[[], None]:
    """One WALS sweep: solve every user's row given V, then every movie's row given U."""

    def sweep() -> None:
        U.assign(_solve_rows(ratings, V, weights.gravity, weights.user_l2, chunk))
        V.assign(_solve_rows(ratings_t, U, weights.gravity, weights.movie_l2, chunk))

    return sweep
