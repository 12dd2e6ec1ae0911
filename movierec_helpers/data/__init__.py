"""MovieLens as tidy DataFrames: loading, checking, splitting, and the student's own ratings.

MovieLens 100K ships inside the package, so ``load_movielens()`` works offline.

- :mod:`~movierec_helpers.data.bundled`: the offline 100K copy;
- :mod:`~movierec_helpers.data.download`: the larger variants, downloaded on request;
- :mod:`~movierec_helpers.data.split`: train/test splits, at random or by time per user;
- :mod:`~movierec_helpers.data.tables`: the users, movies and ratings tables and their checks;
- :mod:`~movierec_helpers.data.my_ratings`: rate movies yourself.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from movierec_helpers.data import download
from movierec_helpers.data.bundled import load_ml100k
from movierec_helpers.data.split import permutation_split, split_ratings, temporal_holdout
from movierec_helpers.data.tables import (
    RATING_COLUMNS,
    DataError,
    MovieLens,
    rating_statistics,
    validate_ratings,
)

BUNDLED_VARIANT = "100k"
REMOTE_VARIANTS = tuple(download.ARCHIVES)

__all__ = [
    "BUNDLED_VARIANT",
    "REMOTE_VARIANTS",
    "RATING_COLUMNS",
    "DataError",
    "MovieLens",
    "load_course_data",
    "load_movielens",
    "permutation_split",
    "rating_statistics",
    "split_ratings",
    "temporal_holdout",
    "validate_ratings",
]


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
        movierec_helpers.data.download.DownloadError: a remote variant cannot be downloaded.
    """
    if variant == BUNDLED_VARIANT:
        return load_ml100k(Path(data_dir) if data_dir else None, genre_seed=genre_seed)
    if variant in REMOTE_VARIANTS:
        return download.load_remote_variant(variant, genre_seed=genre_seed, cache_dir=cache_dir)
    known = ", ".join(repr(v) for v in (BUNDLED_VARIANT, *REMOTE_VARIANTS))
    raise ValueError(f"Unknown MovieLens variant {variant!r}. Choose one of {known}.")


def load_course_data(
    seed: int, holdout_fraction: float = 0.1
) -> tuple[MovieLens, pd.DataFrame, pd.DataFrame]:
    """The set-up every notebook starts with: MovieLens 100K and its seeded train/test split.

    Args:
        seed: seed of the genre draw and of the split.
        holdout_fraction: fraction of the ratings held out for testing.

    Returns:
        ``(data, train_ratings, test_ratings)``.
    """
    data = load_movielens(genre_seed=seed)
    train, test = split_ratings(data.ratings, holdout_fraction=holdout_fraction, seed=seed)
    return data, train, test
