"""Exact top-k retrieval with already-rated items masked, and how to compare and choose indexes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from movierec_helpers.exercises.reference import reference_solution


@reference_solution("top_k_unseen")
def exact_top_k(
    user_vector: np.ndarray, item_vectors: np.ndarray, rated: Iterable[int], k: int
) -> np.ndarray:
    """The k items with the highest dot product with the user, items already rated left out.

    Reference answer of notebook 07, graded cell ``top_k_unseen``.

    Args:
        user_vector: ``[d]``.
        item_vectors: ``[N, d]``; row i is item i.
        rated: item ids the user already rated (any iterable, duplicates allowed).
        k: how many items; more than the unseen ones gives all of them.

    Returns:
        Item ids (int64), best first; equal scores in increasing id order.

    Raises:
        ValueError: negative k, or dimensions that do not match.
    """
    if k < 0:
        raise ValueError(f"k must be 0 or more, got {k}")
    user = np.asarray(user_vector, dtype=np.float64)
    items = np.asarray(item_vectors, dtype=np.float64)
    if user.ndim != 1 or items.ndim != 2 or items.shape[1] != user.shape[0]:
        raise ValueError(
            f"expected a user of shape [d] and items of shape [N, d], got {user.shape} and {items.shape}"
        )
    scores = items @ user
    unseen = np.ones(len(items), dtype=bool)
    unseen[np.fromiter((int(i) for i in rated), dtype=np.int64)] = False
    ids = np.flatnonzero(unseen)
    # lexsort: the last key is the primary one (score, descending), then the id (ascending).
    order = np.lexsort((ids, -scores[ids]))
    return ids[order[:k]].astype(np.int64)


def exact_top_k_batch(
    user_vectors: np.ndarray, item_vectors: np.ndarray, rated_by_user: Sequence[Iterable[int]], k: int
) -> np.ndarray:
    """:func:`exact_top_k` for many users at once: ``[users, k]`` item ids (-1 where fewer are unseen)."""
    scores = np.asarray(user_vectors, dtype=np.float64) @ np.asarray(item_vectors, dtype=np.float64).T
    out = np.full((len(scores), k), -1, dtype=np.int64)
    ids = np.arange(scores.shape[1])
    for row, rated in enumerate(rated_by_user):
        s = scores[row].copy()
        seen = np.fromiter((int(i) for i in rated), dtype=np.int64)
        s[seen] = -np.inf
        order = np.lexsort((ids, -s))[:k]
        order = order[np.isfinite(s[order])]
        out[row, : len(order)] = order
    return out


def recall_at_k(approximate: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of each exact list (``-1`` = empty slot) found in the approximate list of the same row."""
    shares = []
    for got, want in zip(np.asarray(approximate), np.asarray(exact)):
        want = set(want[want >= 0].tolist())
        if want:
            shares.append(len(want & set(got[got >= 0].tolist())) / len(want))
    return float(np.mean(shares)) if shares else 1.0


def rated_lists(ratings: pd.DataFrame, users: Sequence[int]) -> list[np.ndarray]:
    """The movie ids each of ``users`` rated, in that order (empty arrays for users without ratings)."""
    grouped = ratings.groupby("user_id")["movie_id"].apply(lambda s: s.to_numpy())
    return [grouped.get(int(u), np.array([], dtype=np.int64)) for u in users]


@reference_solution("fastest_meeting_recall")
def fastest_config(
    measurements: pd.DataFrame, recall_floor: float, cost: str = "distances per query"
) -> pd.Series:
    """The cheapest configuration whose recall reaches the floor.

    Reference answer of notebook 07, graded cell ``fastest_meeting_recall``.

    Args:
        measurements: one row per index configuration, with a ``recall@10`` column and a
            ``cost`` column (lower is faster).
        recall_floor: the lowest acceptable recall.
        cost: the column that measures the cost of a query.

    Returns:
        The chosen row; among equal costs, the one with the higher recall, then the first.

    Raises:
        ValueError: no configuration reaches the floor (the message gives the best recall).
    """
    good = measurements[measurements["recall@10"] >= recall_floor]
    if good.empty:
        raise ValueError(
            f"no configuration reaches recall@10 >= {recall_floor}; the best is "
            f"{measurements['recall@10'].max():.3f}: build a larger index or search wider"
        )
    order = np.lexsort((np.arange(len(good)), -good["recall@10"].to_numpy(), good[cost].to_numpy()))
    return good.iloc[order[0]]
