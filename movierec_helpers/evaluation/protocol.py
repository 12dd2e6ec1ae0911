"""Splits for leave-one-out evaluation: the last interaction of each user, or a random one.

A random split holds out interactions that happened *before* others the model trains on:
the model learns from the user's future, which no deployed recommender can. Holding out
each user's last interaction (in time) cannot leak that way; :func:`future_in_training`
counts, for each held-out interaction, the same user's training interactions that came later.

MovieLens 100K stores many of a user's ratings under the same second (the rating pages sent
them together), so "the last" needs a rule for ties: the latest timestamp, and among
interactions at that timestamp the larger movie id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from movierec_helpers.exercises.reference import reference_solution


@reference_solution("leave_last_out")
def leave_last_out(ratings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Holds out each user's last interaction (ties in time: the larger movie id).

    Reference answer of notebook 11, graded cell ``leave_last_out``.

    Args:
        ratings: interactions with ``user_id``, ``movie_id`` and ``timestamp`` columns.

    Returns:
        ``(train, test)``: rows of ``ratings`` (index kept); ``test`` holds exactly one row per
        user with at least two interactions, ``train`` every other row.
    """
    last = ratings.sort_values(["user_id", "timestamp", "movie_id"]).groupby("user_id").tail(1)
    size = ratings.groupby("user_id")["user_id"].transform("size")
    held = ratings.index.isin(last.index) & (size >= 2).to_numpy()
    return ratings[~held], ratings[held]


def random_leave_one_out(ratings: pd.DataFrame, *, random_state: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Holds out one interaction per user (with at least two), drawn at random whatever its time.

    Args:
        ratings: interactions with ``user_id`` and ``movie_id`` columns.
        random_state: the random state of the draw.

    Returns:
        ``(train, test)`` as :func:`leave_last_out` returns them.
    """
    rng = np.random.default_rng(random_state)
    noise = pd.Series(rng.random(len(ratings)), index=ratings.index)
    first = noise.groupby(ratings["user_id"]).rank(method="first") == 1
    size = ratings.groupby("user_id")["user_id"].transform("size")
    held = (first & (size >= 2)).to_numpy()
    return ratings[~held], ratings[held]


def future_in_training(train: pd.DataFrame, test: pd.DataFrame) -> pd.Series:
    """For each held-out interaction, how many of the same user's training interactions came later.

    Args:
        train: training interactions (``user_id``, ``timestamp``).
        test: held-out interactions (``user_id``, ``timestamp``).

    Returns:
        A count per row of ``test`` (same index): 0 means nothing from the user's future was
        trained on.
    """
    merged = (
        test[["user_id", "timestamp"]]
        .reset_index()
        .merge(train[["user_id", "timestamp"]], on="user_id", how="left", suffixes=("", "_train"))
    )
    later = (merged["timestamp_train"] > merged["timestamp"]).groupby(merged["index"]).sum()
    return later.reindex(test.index, fill_value=0).rename("later training interactions")
