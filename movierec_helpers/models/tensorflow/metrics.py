"""Ranking metrics as TensorFlow ops: precision, recall and NDCG at k, usable inside compiled metrics."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf


def _as_ragged(lists) -> tf.RaggedTensor:
    if isinstance(lists, tf.RaggedTensor):
        return tf.cast(lists, tf.int64)
    if isinstance(lists, tf.Tensor):
        return tf.RaggedTensor.from_tensor(tf.reshape(tf.cast(lists, tf.int64), [-1, 1]))
    return tf.ragged.constant([list(map(int, row)) for row in lists], dtype=tf.int64, ragged_rank=1)


def _row_mask(ids: tf.RaggedTensor, num_items: int) -> tf.Tensor:
    """Dense [rows, num_items] boolean mask with True at each row's ids."""
    rows = ids.value_rowids()
    coords = tf.stack([rows, ids.flat_values], axis=1)
    shape = tf.stack([ids.nrows(), tf.constant(num_items, tf.int64)])
    hits = tf.scatter_nd(coords, tf.ones_like(ids.flat_values, tf.int32), shape)
    return hits > 0


def ranking_metrics(
    scores,
    relevant: Sequence[Sequence[int]] | tf.RaggedTensor | tf.Tensor,
    k: int = 10,
    exclude: Sequence[Sequence[int]] | tf.RaggedTensor | None = None,
) -> dict[str, tf.Tensor]:
    """Precision@k, recall@k and NDCG@k, averaged over users.

    Args:
        scores: ``[users, items]`` scores (higher is better).
        relevant: per user, the ids of the relevant items (a list of lists, a ragged
            tensor, or a ``[users]`` tensor of single labels).
        k: cut-off.
        exclude: per user, ids that may not be recommended (e.g. the movies the
            model saw as input); they are removed from the ranking.

    Returns:
        ``{"precision": ..., "recall": ..., "ndcg": ...}`` as scalar tensors.

    Raises:
        ValueError: ``k`` is not positive or exceeds the number of items.
    """
    scores = tf.convert_to_tensor(scores, tf.float32)
    num_items = int(scores.shape[1])
    if not 0 < k <= num_items:
        raise ValueError(f"k must be between 1 and the number of items ({num_items}), got {k}.")
    relevant = _as_ragged(relevant)
    if exclude is not None:
        scores = tf.where(_row_mask(_as_ragged(exclude), num_items), -np.inf, scores)
    top = tf.math.top_k(scores, k=k).indices
    relevant_mask = _row_mask(relevant, num_items)
    hits = tf.cast(tf.gather(relevant_mask, top, batch_dims=1), tf.float32)
    num_relevant = tf.cast(tf.reduce_sum(tf.cast(relevant_mask, tf.int32), axis=1), tf.float32)
    has_relevant = num_relevant > 0

    precision = tf.reduce_sum(hits, axis=1) / k
    recall = tf.math.divide_no_nan(tf.reduce_sum(hits, axis=1), num_relevant)
    discounts = 1.0 / tf.math.log(tf.range(2, k + 2, dtype=tf.float32)) * tf.math.log(2.0)
    dcg = tf.reduce_sum(hits * discounts, axis=1)
    ideal_hits = tf.cast(tf.range(k)[None, :] < tf.cast(num_relevant, tf.int32)[:, None], tf.float32)
    ndcg = tf.math.divide_no_nan(dcg, tf.reduce_sum(ideal_hits * discounts, axis=1))

    def user_mean(values):
        return tf.reduce_mean(tf.boolean_mask(values, has_relevant))

    return {"precision": user_mean(precision), "recall": user_mean(recall), "ndcg": user_mean(ndcg)}
