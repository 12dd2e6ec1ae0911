"""The tables of a MovieLens variant and the checks every variant goes through.

:class:`MovieLens` holds ratings, movies and users as DataFrames with zero-based integer
ids; :func:`validate_ratings` checks any ratings table a student builds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RATING_COLUMNS = ("user_id", "movie_id", "rating")


class DataError(ValueError):
    """Raised when a data file or a ratings table is not what the course expects."""


@dataclass(frozen=True)
class MovieLens:
    """One MovieLens variant as three DataFrames.

    Attributes:
        ratings: ``user_id``, ``movie_id`` (zero-based ints), ``rating`` (float),
            ``timestamp`` (int, Unix seconds).
        movies: one row per movie, row ``i`` has ``movie_id == i``; columns ``title``
            ("Name (Year)"), ``name``, ``year`` (nullable int), ``genres`` (list of str),
            ``all_genres`` (genres joined by "-"), ``genre`` (one genre per movie, drawn
            with ``genre_seed``; "Other" when the movie has none).
        users: one row per user, row ``i`` has ``user_id == i``; columns ``age``, ``sex``,
            ``occupation``, ``zip_code`` (missing where the variant has no user data).
        variant: the variant name, e.g. ``"100k"``.
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    users: pd.DataFrame
    variant: str

    @property
    def num_users(self) -> int:
        """Number of users (rows of the rating matrix)."""
        return len(self.users)

    @property
    def num_movies(self) -> int:
        """Number of movies (columns of the rating matrix)."""
        return len(self.movies)


def movies_frame(
    movie_ids: np.ndarray,
    names: pd.Series,
    years: pd.Series,
    genres: list[list[str]],
    genre_seed: int,
) -> pd.DataFrame:
    """Builds the movies table shared by all variants."""
    rng = np.random.default_rng(genre_seed)
    one_genre = [str(rng.choice(g)) if g else "Other" for g in genres]
    titles = [
        name if pd.isna(year) else f"{name} ({year})" for name, year in zip(names.tolist(), years.tolist())
    ]
    return pd.DataFrame(
        {
            "movie_id": movie_ids,
            "title": titles,
            "name": names.to_numpy(),
            "year": years.reset_index(drop=True),
            "genres": genres,
            "all_genres": ["-".join(g) if g else "Other" for g in genres],
            "genre": one_genre,
        }
    )


def check_dataset(data: MovieLens) -> MovieLens:
    """Checks that ids are contiguous from 0 and that the ratings reference them.

    Raises:
        DataError: the tables are inconsistent (a damaged data file).
    """
    if not (data.movies["movie_id"].to_numpy() == np.arange(data.num_movies)).all():
        raise DataError("Movie ids are not contiguous from 0; the movie file is damaged.")
    if not (data.users["user_id"].to_numpy() == np.arange(data.num_users)).all():
        raise DataError("User ids are not contiguous from 0; the user file is damaged.")
    validate_ratings(data.ratings, num_users=data.num_users, num_movies=data.num_movies)
    return data


def validate_ratings(
    ratings: pd.DataFrame, *, num_users: int | None = None, num_movies: int | None = None
) -> None:
    """Checks that a ratings table has the columns and id ranges the course needs.

    Args:
        ratings: DataFrame with ``user_id``, ``movie_id`` and ``rating`` columns.
        num_users: if given, every ``user_id`` must lie in ``[0, num_users)``.
        num_movies: if given, every ``movie_id`` must lie in ``[0, num_movies)``.

    Raises:
        DataError: a column is missing, holds missing values, or an id is out of range.
    """
    if not isinstance(ratings, pd.DataFrame):
        raise DataError(f"ratings must be a pandas DataFrame, got {type(ratings).__name__}.")
    missing = [col for col in RATING_COLUMNS if col not in ratings.columns]
    if missing:
        raise DataError(
            f"ratings is missing column(s) {missing}; it has {list(ratings.columns)}. "
            f"Pass a table with columns {list(RATING_COLUMNS)} (rename yours with "
            "DataFrame.rename(columns=...))."
        )
    for col in RATING_COLUMNS:
        if ratings[col].isna().any():
            raise DataError(f"ratings column {col!r} has missing values; drop or fill them first.")
    for col, bound in (("user_id", num_users), ("movie_id", num_movies)):
        ids = ratings[col].to_numpy()
        if len(ids) and not np.issubdtype(ids.dtype, np.integer):
            raise DataError(
                f"ratings column {col!r} must hold integer ids, got dtype {ids.dtype}; "
                f"convert it with .astype(int)."
            )
        if bound is not None and len(ids) and (ids.min() < 0 or ids.max() >= bound):
            bad = ids[(ids < 0) | (ids >= bound)]
            raise DataError(
                f"ratings column {col!r} has ids out of range [0, {bound}): e.g. "
                f"{sorted(set(bad.tolist()))[:5]}. Ids must be zero-based; subtract 1 from "
                "one-based ids, or add the new user/movie to the users/movies table first."
            )


def rating_statistics(ratings: pd.DataFrame, key: str) -> pd.DataFrame:
    """Counts and averages ratings per user or per movie.

    Args:
        ratings: the ratings table.
        key: ``"user_id"`` or ``"movie_id"``.

    Returns:
        DataFrame with columns ``key``, ``rating count`` and ``rating mean``.
    """
    stats = ratings.groupby(key)["rating"].agg(["count", "mean"]).reset_index()
    return stats.rename(columns={"count": "rating count", "mean": "rating mean"})
