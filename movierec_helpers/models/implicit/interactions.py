"""Ratings as implicit feedback: a sparse user x item matrix of the interactions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def interaction_matrix(
    ratings: pd.DataFrame, num_users: int, num_items: int, *, values: str | None = "rating"
) -> sp.csr_matrix:
    """The user x item CSR matrix of ``ratings``.

    Args:
        ratings: a table with ``user_id`` and ``movie_id`` (and ``values``) columns; a repeated
            (user, movie) pair keeps its last value.
        num_users: number of rows.
        num_items: number of columns.
        values: the column stored in the matrix (the confidence of ALS reads ratings), or
            ``None`` to store 1 for every interaction.

    Returns:
        A ``float64`` CSR matrix with sorted column indices.
    """
    table = ratings.drop_duplicates(["user_id", "movie_id"], keep="last")
    data = np.ones(len(table)) if values is None else table[values].to_numpy(dtype=np.float64)
    matrix = sp.csr_matrix(
        (data, (table["user_id"].to_numpy(), table["movie_id"].to_numpy())), shape=(num_users, num_items)
    )
    matrix.sort_indices()
    return matrix


def scores_of_factors(user_factors: np.ndarray, item_factors: np.ndarray, users) -> np.ndarray:
    """Dot-product scores of ``users`` (ids) against every item: ``[len(users), num_items]``."""
    return np.asarray(user_factors)[np.asarray(users)] @ np.asarray(item_factors).T
