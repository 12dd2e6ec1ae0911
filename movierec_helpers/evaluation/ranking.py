"""Top-k ranking evaluation: per-user metrics and the leak-free hold-out protocol.

Metrics are computed per user and then averaged over users.

Micro-averaging (pooling all users' hits) lets heavy users dominate; the course
reports the mean over users, each user counting once. Users without any relevant
item are left out of the average.

Leak-free protocol:
The seed's softmax precision@10 samples the label from the same movies the model
reads as input, so a model can score by copying its input, and with one label per
user precision@10 can never exceed 0.1. Here each test user's movies are split into
*inputs* (what the model sees) and *held-out* movies (what it must find); inputs are
removed from the ranking, and precision, recall and NDCG are averaged per user.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from movierec_helpers.exercises.reference import reference_solution


def holdout_per_user(
    ratings: pd.DataFrame, *, fraction: float = 0.2, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Splits every user's ratings into inputs and held-out ratings.

    Args:
        ratings: ratings of the users to evaluate.
        fraction: share of each user's ratings held out (at least one per user).
        seed: seed of the split.

    Returns:
        ``(inputs, heldout)`` DataFrames.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be strictly between 0 and 1, got {fraction}.")
    rng = np.random.default_rng(seed)
    noise = pd.Series(rng.random(len(ratings)), index=ratings.index)
    rank = noise.groupby(ratings["user_id"]).rank(method="first")
    size = ratings.groupby("user_id")["user_id"].transform("size")
    held = rank <= np.maximum(1, np.round(size * fraction))
    return ratings[~held], ratings[held]


def lists_per_user(ratings: pd.DataFrame, user_ids) -> list[list[int]]:
    """The movie ids of each user in ``user_ids``, in that order."""
    grouped = ratings.groupby("user_id")["movie_id"].apply(list)
    return [grouped.get(u, []) for u in user_ids]


def most_popular_scores(train_ratings: pd.DataFrame, num_movies: int) -> np.ndarray:
    """Baseline scores: how many training ratings each movie has."""
    return np.bincount(train_ratings["movie_id"].to_numpy(), minlength=num_movies).astype(float)


def ranking_metrics(
    scores: np.ndarray,
    relevant: Sequence[Sequence[int]] | np.ndarray,
    k: int = 10,
    exclude: Sequence[Sequence[int]] | None = None,
) -> dict[str, float]:
    """Precision@k, recall@k and NDCG@k, averaged over the users with a relevant item.

    Args:
        scores: ``[users, items]`` scores (higher is better); equal scores rank the lower id first.
        relevant: per user, the ids of the relevant items (a list of lists, or one id per user).
        k: cut-off.
        exclude: per user, ids that may not be recommended (e.g. the movies the model saw as
            input); they are removed from the ranking.

    Returns:
        ``{"precision": ..., "recall": ..., "ndcg": ...}``.

    Raises:
        ValueError: ``k`` is not positive or exceeds the number of items.
    """
    scores = np.array(scores, dtype=np.float32)  # a copy: excluded items are set to -inf
    num_items = scores.shape[1]
    if not 0 < k <= num_items:
        raise ValueError(f"k must be between 1 and the number of items ({num_items}), got {k}.")
    relevant_mask = np.zeros(scores.shape, dtype=bool)
    for row, items in enumerate(relevant):
        relevant_mask[row, np.asarray(items, dtype=np.int64)] = True
    for row, items in enumerate(exclude if exclude is not None else []):
        scores[row, np.asarray(items, dtype=np.int64)] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(relevant_mask, top, axis=1).astype(np.float32)
    num_relevant = relevant_mask.sum(axis=1).astype(np.float32)
    discounts = (np.log(2.0) / np.log(np.arange(2, k + 2))).astype(np.float32)
    ideal = (np.arange(k)[None, :] < num_relevant[:, None]).astype(np.float32)
    has_relevant = num_relevant > 0
    per_user = {
        "precision": hits.sum(axis=1) / k,
        "recall": hits.sum(axis=1) / np.maximum(num_relevant, 1),
        "ndcg": (hits * discounts).sum(axis=1) / np.maximum((ideal * discounts).sum(axis=1), 1e-12),
    }
    return {name: float(values[has_relevant].mean()) for name, values in per_user.items()}


def rank_against_heldout(
    scores: np.ndarray,
    inputs: pd.DataFrame,
    heldout: pd.DataFrame,
    user_ids,
    k: int = 10,
) -> dict[str, float]:
    """Per-user precision@k, recall@k and NDCG@k of ``scores`` (one row per user in ``user_ids``).

    Movies in a user's inputs are excluded from that user's ranking.
    """
    scores = np.array(scores, dtype=np.float32)
    if scores.ndim == 1:
        scores = np.tile(scores, (len(user_ids), 1))
    metrics = ranking_metrics(
        scores, lists_per_user(heldout, user_ids), k, exclude=lists_per_user(inputs, user_ids)
    )
    return {f"{name}@{k}": value for name, value in metrics.items()}


@reference_solution("ndcg_at_k")
def ndcg_at_k(ranked: Sequence[int], relevant: Sequence[int], k: int = 10) -> float:
    """NDCG@k of one ranked list: hits discounted by log2(position + 1), over the best possible.

    Reference answer of notebook 08, graded cell ``ndcg_at_k``.

    Args:
        ranked: item ids, best first (only the first k count).
        relevant: the relevant item ids (repeats count once).
        k: the cut-off.

    Returns:
        A number in [0, 1]; 0.0 when nothing is relevant.
    """
    wanted = set(int(i) for i in relevant)
    if not wanted or k <= 0:
        return 0.0
    dcg = sum(
        1.0 / np.log2(position + 2) for position, item in enumerate(list(ranked)[:k]) if int(item) in wanted
    )
    ideal = sum(1.0 / np.log2(position + 2) for position in range(min(k, len(wanted))))
    return float(dcg / ideal)
