"""Leak-free top-k evaluation: hide part of each test user's movies, rank the rest.

The seed's softmax precision@10 samples the label from the same movies the model
reads as input, so a model can score by copying its input, and with one label per
user precision@10 can never exceed 0.1. Here each test user's movies are split into
*inputs* (what the model sees) and *held-out* movies (what it must find); inputs are
removed from the ranking, and precision, recall and NDCG are averaged per user.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from movierec_helpers.metrics import ranking_metrics


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
    scores = np.asarray(scores, dtype=np.float32)
    if scores.ndim == 1:
        scores = np.broadcast_to(scores, (len(user_ids), scores.shape[0]))
    metrics = ranking_metrics(
        scores, lists_per_user(heldout, user_ids), k=k, exclude=lists_per_user(inputs, user_ids)
    )
    return {f"{name}@{k}": float(value) for name, value in metrics.items()}
