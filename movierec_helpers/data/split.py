"""Splits of ratings tables: at random (seeded, reproducible) and by time (each user's latest held out)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movierec_helpers.data.tables import validate_ratings


def permutation_split(num_rows: int, holdout_fraction: float, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Splits ``range(num_rows)`` at random into sorted training and test row numbers.

    Args:
        num_rows: how many rows to split.
        holdout_fraction: fraction of rows in the test part, strictly between 0 and 1.
        seed: seed of the random permutation.

    Returns:
        ``(train_rows, test_rows)``, each sorted.

    Raises:
        ValueError: ``holdout_fraction`` is not strictly between 0 and 1.
    """
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError(f"holdout_fraction must be strictly between 0 and 1, got {holdout_fraction}.")
    order = np.random.default_rng(seed).permutation(num_rows)
    num_test = int(round(holdout_fraction * num_rows))
    return np.sort(order[num_test:]), np.sort(order[:num_test])


def split_ratings(
    ratings: pd.DataFrame, holdout_fraction: float = 0.1, *, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Splits ratings at random into a training and a test set.

    Args:
        ratings: the ratings table (any columns; rows are split whole).
        holdout_fraction: fraction of rows in the test set, in (0, 1).
        seed: seed of the random permutation; the same seed gives the same split.

    Returns:
        ``(train, test)``: DataFrames keeping the original index, disjoint, whose union is
        ``ratings``.

    Raises:
        ValueError: ``holdout_fraction`` is not strictly between 0 and 1.
    """
    validate_ratings(ratings)
    train_rows, test_rows = permutation_split(len(ratings), holdout_fraction, seed=seed)
    return ratings.iloc[train_rows], ratings.iloc[test_rows]


def temporal_holdout(ratings: pd.DataFrame, num_heldout: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Holds out each user's last ``num_heldout`` ratings by time: the future to predict from the past.

    Ratings with the same timestamp keep their order in ``ratings`` (a stable sort), so the split
    is deterministic. A user with ``num_heldout`` ratings or fewer keeps one in training.

    Args:
        ratings: the ratings table with a ``timestamp`` column.
        num_heldout: how many of each user's latest ratings go to the test part (at least 1).

    Returns:
        ``(train, test)``: DataFrames keeping the original index, disjoint, whose union is ``ratings``.

    Raises:
        ValueError: ``num_heldout`` is below 1.
    """
    validate_ratings(ratings)
    if num_heldout < 1:
        raise ValueError(f"num_heldout must be at least 1, got {num_heldout}.")
    order = ratings.sort_values("timestamp", kind="stable")
    from_end = order.groupby("user_id").cumcount(ascending=False)
    size = order.groupby("user_id")["user_id"].transform("size")
    held = from_end < np.minimum(num_heldout, size - 1)
    test_index = order.index[held.to_numpy()]
    mask = ratings.index.isin(test_index)
    return ratings[~mask], ratings[mask]
