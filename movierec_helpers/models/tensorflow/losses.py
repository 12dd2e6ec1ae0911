"""Rating tensors and the losses of the course's models (reference solutions).

These are the library versions of the graded exercises of notebooks 02, 04 and 05.
Later notebooks import them; graded cells may not call them (see
:mod:`movierec_helpers.exercises.reference`). :func:`sparse_mean_square_error` is written for
speed: its forward pass is one XLA-fused gather-and-dot, and its gradient is two
sparse-dense matrix products instead of scatters of gathered rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import tensorflow as tf

from movierec_helpers.data.tables import validate_ratings
from movierec_helpers.exercises.reference import reference_solution


@reference_solution("sparse_tensor")
def build_rating_sparse_tensor(ratings: pd.DataFrame, num_users: int, num_movies: int) -> tf.SparseTensor:
    """Builds the sparse rating matrix A (users x movies) of a ratings table.

    Reference answer of notebook 02, graded cell ``sparse_tensor`` (later notebooks reuse it).

    Args:
        ratings: DataFrame with zero-based ``user_id``, ``movie_id`` and a ``rating``.
        num_users: number of rows of A.
        num_movies: number of columns of A.

    Returns:
        A ``tf.SparseTensor`` of dense shape ``[num_users, num_movies]``, float32 values,
        indices in row-major order.

    Raises:
        movierec_helpers.data.DataError: missing columns or ids out of range.
    """
    validate_ratings(ratings, num_users=num_users, num_movies=num_movies)
    indices = ratings[["user_id", "movie_id"]].to_numpy(dtype=np.int64)
    values = ratings["rating"].to_numpy(dtype=np.float32)
    return tf.sparse.reorder(tf.SparseTensor(indices, values, [num_users, num_movies]))


# TensorFlow's CPU kernels for sparse-dense matmul (and XLA's gather) are several times
# slower per column once the dense side has 32 or more columns, so wide embeddings are
# processed in balanced column blocks of at most 31.
_MAX_BLOCK = 31


def _column_blocks(x: tf.Tensor) -> list[tf.Tensor]:
    dim = x.shape[-1]
    if dim is None or dim <= _MAX_BLOCK:
        return [x]
    count = -(-dim // _MAX_BLOCK)
    base, extra = divmod(dim, count)
    return tf.split(x, [base + (i < extra) for i in range(count)], axis=1)


@tf.function(jit_compile=True)
def _partial_predictions(U, V, rows, cols):
    # XLA fuses the two gathers with the row-wise dot, so the |Omega| x d gathered
    # rows are never written to memory.
    return tf.reduce_sum(tf.gather(U, rows) * tf.gather(V, cols), axis=1)


@tf.custom_gradient
def _observed_mse(indices, values, U, V, dense_shape):
    u_blocks, v_blocks = _column_blocks(U), _column_blocks(V)
    # Two halves of the ratings are independent XLA launches, which TensorFlow's executor
    # runs on two cores at once.
    half = tf.size(values) // 2
    predictions = tf.concat(
        [
            tf.add_n([_partial_predictions(u, v, part[:, 0], part[:, 1]) for u, v in zip(u_blocks, v_blocks)])
            for part in tf.split(indices, tf.stack([half, -1]), axis=0)
        ],
        axis=0,
    )
    residuals = predictions - values
    count = tf.cast(tf.size(values), U.dtype)
    loss = tf.reduce_sum(tf.square(residuals)) / count

    def grad(upstream):
        # d loss / dU = (2/|Omega|) R V and d loss / dV = (2/|Omega|) R^T U, where R is
        # the sparse matrix of residuals.
        scaled = tf.SparseTensor(indices, residuals * (2.0 / count) * upstream, dense_shape)
        grad_u = tf.concat([tf.sparse.sparse_dense_matmul(scaled, v) for v in v_blocks], 1)
        grad_v = tf.concat([tf.sparse.sparse_dense_matmul(scaled, u, adjoint_a=True) for u in u_blocks], 1)
        return None, None, grad_u, grad_v, None

    return loss, grad


@reference_solution("mse_dense", "mse_gather")
def sparse_mean_square_error(
    sparse_ratings: tf.SparseTensor, user_embeddings: tf.Tensor, movie_embeddings: tf.Tensor
) -> tf.Tensor:
    """Mean squared error of U V^T on the observed entries of A.

    Reference answer of notebook 02, graded cell ``mse_dense`` (later notebooks reuse it).

    Args:
        sparse_ratings: A as a ``tf.SparseTensor`` of dense shape ``[N, M]``.
        user_embeddings: U, shape ``[N, d]``.
        movie_embeddings: V, shape ``[M, d]``.

    Returns:
        A scalar tensor, differentiable with respect to U and V.
    """
    _check_same_dim(user_embeddings, movie_embeddings)
    return _observed_mse(
        sparse_ratings.indices,
        tf.cast(sparse_ratings.values, user_embeddings.dtype),
        user_embeddings,
        movie_embeddings,
        sparse_ratings.dense_shape,
    )


@reference_solution("gravity")
def gravity(user_embeddings: tf.Tensor, movie_embeddings: tf.Tensor) -> tf.Tensor:
    """The gravity term (1/(NM)) sum_ij <U_i, V_j>^2, in O((N + M) d^2).

    Reference answer of notebook 04, graded cell ``gravity`` (later notebooks reuse it).

    Uses sum_ij <U_i, V_j>^2 = sum((U^T U) * (V^T V)), so the dense N x M matrix
    of predictions is never formed.
    """
    _check_same_dim(user_embeddings, movie_embeddings)
    n = tf.cast(tf.shape(user_embeddings)[0], user_embeddings.dtype)
    m = tf.cast(tf.shape(movie_embeddings)[0], movie_embeddings.dtype)
    gram_u = tf.matmul(user_embeddings, user_embeddings, transpose_a=True)
    gram_v = tf.matmul(movie_embeddings, movie_embeddings, transpose_a=True)
    return tf.reduce_sum(gram_u * gram_v) / (n * m)


@reference_solution("regularized_model")
def l2_regularization(user_embeddings: tf.Tensor, movie_embeddings: tf.Tensor) -> tf.Tensor:
    """r(U, V) = (1/N) sum_i ||U_i||^2 + (1/M) sum_j ||V_j||^2."""
    return tf.reduce_mean(tf.reduce_sum(tf.square(user_embeddings), axis=1)) + tf.reduce_mean(
        tf.reduce_sum(tf.square(movie_embeddings), axis=1)
    )


@reference_solution("softmax_loss")
def softmax_loss(user_embeddings: tf.Tensor, movie_embeddings: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Mean softmax cross-entropy of the logits psi(x) V^T against movie labels.

    Reference answer of notebook 05, graded cell ``softmax_loss`` (later notebooks reuse it).

    Args:
        user_embeddings: psi(x), shape ``[batch, d]``.
        movie_embeddings: V, shape ``[num_movies, d]``.
        labels: integer movie ids, shape ``[batch]``.

    Returns:
        The mean cross-entropy, a scalar tensor.

    Raises:
        ValueError: the two embedding dimensions differ.
    """
    _check_same_dim(user_embeddings, movie_embeddings)
    logits = tf.matmul(user_embeddings, movie_embeddings, transpose_b=True)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def _check_same_dim(user_embeddings, movie_embeddings) -> None:
    user_dim = user_embeddings.shape[-1]
    movie_dim = movie_embeddings.shape[-1]
    if user_dim is not None and movie_dim is not None and user_dim != movie_dim:
        raise ValueError(
            f"The user embedding dimension {user_dim} must match the movie embedding dimension {movie_dim}."
        )
