"""The softmax model's user features as bags of ids, in NumPy, for either track (notebook 05).

Each user is described by the movies they rated, the genres of those movies and their release
years: per feature, one flat array of ids and the row splits that cut it into one bag per user.
``models.tensorflow.softmax`` makes ragged tensors of them, ``models.torch.softmax`` tensors;
both turn a bag into the mean of its ids' embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movierec_helpers.data.split import permutation_split
from movierec_helpers.data.tables import validate_ratings

UNKNOWN_YEAR = "unknown"
HIDDEN_SCALE = 0.1  # the hidden weights are used scaled by this (see the SoftmaxNetwork of each track)


@dataclass(frozen=True)
class UserBags:
    """Per feature, every user's bag of ids as a flat array and its row splits.

    Attributes:
        ids: feature name -> int64 array of every bag's ids, bag after bag.
        splits: feature name -> int64 array of ``users + 1`` offsets: user u's bag is
            ``ids[name][splits[name][u]:splits[name][u + 1]]``.
        vocabularies: feature name -> list of the values behind ids 0, 1, ...
        user_ids: the user id of each bag, increasing.
    """

    ids: dict[str, np.ndarray]
    splits: dict[str, np.ndarray]
    vocabularies: dict[str, list]
    user_ids: np.ndarray


def user_bags(ratings: pd.DataFrame, movies: pd.DataFrame) -> UserBags:
    """Groups ratings by user into bags of movie ids, genre ids and year ids.

    Args:
        ratings: ratings table (``user_id``, ``movie_id``; ratings themselves are unused:
            the softmax model predicts *which* movies a user rates).
        movies: the movies table (``genres`` list and ``year`` per movie).

    Returns:
        The bags, in order of increasing ``user_id`` (movies in increasing id within a bag),
        with their vocabularies; a movie without genre counts as ``"Other"``.
    """
    validate_ratings(ratings, num_movies=len(movies))
    genre_vocab = sorted({g for gs in movies["genres"] for g in gs} | {"Other"})
    genre_index = {g: i for i, g in enumerate(genre_vocab)}
    years = [UNKNOWN_YEAR if pd.isna(y) else str(y) for y in movies["year"]]
    year_vocab = sorted(set(years))
    year_of_movie = np.array([year_vocab.index(y) for y in years], dtype=np.int64)
    genres_of_movie = [[genre_index[g] for g in (gs or ["Other"])] for gs in movies["genres"]]

    ordered = ratings.sort_values(["user_id", "movie_id"], kind="stable")
    user_ids, starts = np.unique(ordered["user_id"].to_numpy(), return_index=True)
    movie_ids = ordered["movie_id"].to_numpy(np.int64)
    splits = np.append(starts, len(movie_ids)).astype(np.int64)
    genre_lists = [genres_of_movie[m] for m in movie_ids]
    genre_lengths = np.array([len(g) for g in genre_lists], dtype=np.int64)
    genre_splits = np.concatenate([[0], np.cumsum(genre_lengths)])[splits].astype(np.int64)
    flat_genres = np.fromiter((g for gs in genre_lists for g in gs), dtype=np.int64)
    return UserBags(
        ids={"movie_id": movie_ids, "genre": flat_genres, "year": year_of_movie[movie_ids]},
        splits={"movie_id": splits, "genre": genre_splits, "year": splits},
        vocabularies={"movie_id": movies["movie_id"].tolist(), "genre": genre_vocab, "year": year_vocab},
        user_ids=user_ids,
    )


def user_split(num_users: int, holdout_fraction: float = 0.1, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows (users) the softmax model trains and tests on: ``(train_rows, test_rows)``, sorted."""
    return permutation_split(num_users, holdout_fraction, seed=seed)
