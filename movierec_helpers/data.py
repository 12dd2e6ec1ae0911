"""Loading MovieLens into tidy DataFrames with zero-based integer ids.

MovieLens 100K ships inside the package (see ``datasets/ml-100k/README.txt``), so
``load_movielens()`` works offline. Larger variants are downloaded on request by
:mod:`movierec_helpers.remote`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

BUNDLED_VARIANT = "100k"
REMOTE_VARIANTS = ("latest-small", "1m")
RATING_COLUMNS = ("user_id", "movie_id", "rating")
_ML100K_FILES = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")


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


def load_movielens(
    variant: str = BUNDLED_VARIANT,
    *,
    genre_seed: int = 0,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> MovieLens:
    """Loads a MovieLens variant.

    Args:
        variant: ``"100k"`` (bundled, works offline), ``"latest-small"`` or ``"1m"``
            (downloaded once from GroupLens, then cached).
        genre_seed: seed of the draw that picks one ``genre`` per multi-genre movie.
        data_dir: folder holding ``ml-100k.{inter,item,user}.gz`` and ``SHA256SUMS``
            to read instead of the bundled copy (used to test corrupt files).
        cache_dir: download cache for the remote variants (default
            ``~/.cache/movierec``, or ``$MOVIEREC_CACHE``).

    Returns:
        A :class:`MovieLens` with zero-based integer ids.

    Raises:
        ValueError: the variant is unknown.
        DataError: a data file is missing, truncated or edited (checksum mismatch).
        movierec_helpers.remote.DownloadError: a remote variant cannot be downloaded.
    """
    if variant == BUNDLED_VARIANT:
        raw = _read_bundled_ml100k(Path(data_dir) if data_dir else None)
        return _parse_ml100k(raw, genre_seed=genre_seed)
    if variant in REMOTE_VARIANTS:
        from movierec_helpers import remote

        return remote.load_remote_variant(variant, genre_seed=genre_seed, cache_dir=cache_dir)
    known = ", ".join(repr(v) for v in (BUNDLED_VARIANT, *REMOTE_VARIANTS))
    raise ValueError(f"Unknown MovieLens variant {variant!r}. Choose one of {known}.")


def _bundled_dir() -> Path:
    return Path(str(resources.files("movierec_helpers") / "datasets" / "ml-100k"))


def _read_bundled_ml100k(data_dir: Path | None) -> dict[str, bytes]:
    folder = data_dir or _bundled_dir()
    fix = (
        "Reinstall movierec_helpers (pip install -e .) or rebuild the bundled copy with "
        "`python scripts/build_ml100k.py`."
    )
    sums_path = folder / "SHA256SUMS"
    try:
        expected = dict(
            reversed(line.split()) for line in sums_path.read_text().splitlines() if line.strip()
        )
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read the checksum file {sums_path}: {exc}. {fix}") from exc
    raw = {}
    for name in _ML100K_FILES:
        path = folder / f"{name}.gz"
        try:
            data = gzip.decompress(path.read_bytes())
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise DataError(f"Cannot read data file {path}: {exc}. {fix}") from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected.get(name):
            raise DataError(
                f"Data file {path} is corrupt: its SHA-256 is {digest}, expected "
                f"{expected.get(name)} (listed in {sums_path}). The file was truncated or "
                f"edited. {fix}"
            )
        raw[name] = data
    return raw


def _read_atomic(data: bytes) -> pd.DataFrame:
    """Reads a RecBole atomic file (tab-separated, typed header ``name:type``)."""
    frame = pd.read_csv(io.BytesIO(data), sep="\t", dtype=str, keep_default_na=False)
    frame.columns = [col.split(":")[0] for col in frame.columns]
    return frame


def _parse_ml100k(raw: dict[str, bytes], *, genre_seed: int) -> MovieLens:
    inter = _read_atomic(raw["ml-100k.inter"])
    items = _read_atomic(raw["ml-100k.item"])
    users = _read_atomic(raw["ml-100k.user"])

    ratings = pd.DataFrame(
        {
            "user_id": inter["user_id"].astype(np.int64) - 1,
            "movie_id": inter["item_id"].astype(np.int64) - 1,
            "rating": inter["rating"].astype(np.float64),
            "timestamp": inter["timestamp"].astype(np.float64).astype(np.int64),
        }
    )
    items = items.assign(item_id=items["item_id"].astype(np.int64) - 1).sort_values("item_id")
    # RecBole spells the one movie without a title or year "unkonwn".
    names = items["movie_title"].replace("unkonwn", "unknown")
    years = pd.to_numeric(items["release_year"], errors="coerce").astype("Int64")
    genres = [tokens.split() for tokens in items["class"]]
    movies = _movies_frame(items["item_id"].to_numpy(), names, years, genres, genre_seed)

    users = users.assign(user_id=users["user_id"].astype(np.int64) - 1).sort_values("user_id")
    users = pd.DataFrame(
        {
            "user_id": users["user_id"].to_numpy(),
            "age": users["age"].astype(np.int64).to_numpy(),
            "sex": users["gender"].to_numpy(),
            "occupation": users["occupation"].to_numpy(),
            "zip_code": users["zip_code"].to_numpy(),
        }
    )
    return _checked(MovieLens(ratings=ratings, movies=movies, users=users, variant="100k"))


def _movies_frame(
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
        name if pd.isna(year) else f"{name} ({year})"
        for name, year in zip(names.tolist(), years.tolist())
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


def _checked(data: MovieLens) -> MovieLens:
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
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError(
            f"holdout_fraction must be strictly between 0 and 1, got {holdout_fraction}."
        )
    validate_ratings(ratings)
    order = np.random.default_rng(seed).permutation(len(ratings))
    num_test = int(round(holdout_fraction * len(ratings)))
    test_rows = np.sort(order[:num_test])
    train_rows = np.sort(order[num_test:])
    return ratings.iloc[train_rows], ratings.iloc[test_rows]


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
