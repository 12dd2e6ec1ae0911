"""Random splits of ratings tables (seeded, reproducible)."""

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
