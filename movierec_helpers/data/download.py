"""Downloading the larger MovieLens variants from GroupLens, verified and cached atomically.

Only MovieLens 100K is bundled; ``"latest-small"`` and ``"1m"`` need the internet once.
Each archive is checked against the MD5 sum GroupLens publishes next to it, extracted
into a temporary folder and renamed into the cache in one step, so an interrupted or
failed download never leaves a half-written cache entry.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from movierec_helpers.data.tables import MovieLens, check_dataset, movies_frame

BASE_URL = "https://files.grouplens.org/datasets/movielens/"
ARCHIVES = {"latest-small": "ml-latest-small", "1m": "ml-1m"}
CONNECT_TIMEOUT_S = 5.0


class DownloadError(RuntimeError):
    """Raised when a remote MovieLens variant cannot be fetched or verified."""


def default_cache_dir() -> Path:
    """The download cache: ``$MOVIEREC_CACHE`` or ``~/.cache/movierec``."""
    return Path(os.environ.get("MOVIEREC_CACHE", Path.home() / ".cache" / "movierec"))


def load_remote_variant(
    variant: str, *, genre_seed: int, cache_dir: str | Path | None = None, base_url: str = BASE_URL
) -> MovieLens:
    """Loads a downloadable variant, fetching it into the cache first if needed.

    Args:
        variant: ``"latest-small"`` or ``"1m"``.
        genre_seed: seed for the per-movie genre draw.
        cache_dir: where extracted archives are kept.
        base_url: where the archives live (GroupLens by default).

    Returns:
        The variant as a :class:`MovieLens`.

    Raises:
        DownloadError: offline, download failed, or the checksum does not match.
    """
    folder = ensure_downloaded(variant, cache_dir=cache_dir, base_url=base_url)
    parse = _parse_latest_small if variant == "latest-small" else _parse_1m
    return check_dataset(parse(folder, genre_seed=genre_seed))


def ensure_downloaded(variant: str, *, cache_dir: str | Path | None = None, base_url: str = BASE_URL) -> Path:
    """Returns the cached, extracted archive folder of ``variant``, downloading it if absent."""
    name = ARCHIVES[variant]
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache / name
    if (target / ".complete").exists():
        return target
    offline_hint = (
        f"MovieLens {variant!r} must be downloaded from {base_url} and this machine cannot "
        "reach it. Use load_movielens('100k'), which is bundled and works offline."
    )
    if os.environ.get("MOVIEREC_OFFLINE"):
        raise DownloadError(f"Offline mode (MOVIEREC_OFFLINE is set). {offline_hint}")
    _check_reachable(base_url, offline_hint)
    archive = _fetch(base_url + name + ".zip", offline_hint)
    published_md5 = _fetch(base_url + name + ".zip.md5", offline_hint).decode().split()[0]
    actual_md5 = hashlib.md5(archive).hexdigest()
    if actual_md5 != published_md5:
        raise DownloadError(
            f"Checksum mismatch for {name}.zip: MD5 {actual_md5}, GroupLens publishes "
            f"{published_md5}. The download was corrupted; run again to retry."
        )
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            zf.extractall(staging)
        extracted = staging / name
        (extracted / ".complete").write_text(published_md5 + "\n")
        os.replace(extracted, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _check_reachable(base_url: str, hint: str) -> None:
    parsed = urlparse(base_url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise DownloadError(f"Cannot connect to {parsed.hostname}:{port} ({exc}). {hint}") from exc


def _fetch(url: str, hint: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"Download of {url} failed ({exc}). {hint}") from exc


def _zero_based(ids: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Maps arbitrary ids to 0..n-1 in sorted order; returns the new ids and the originals."""
    originals = np.sort(ids.unique())
    return pd.Series(np.searchsorted(originals, ids.to_numpy()), index=ids.index), originals


def _split_title(titles: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = titles.str.strip().str.extract(r"^(?P<name>.*?)\s*\((?P<year>\d{4})\)$")
    names = parts["name"].fillna(titles.str.strip())
    years = pd.to_numeric(parts["year"], errors="coerce").astype("Int64")
    return names, years


def _assemble(
    ratings: pd.DataFrame, movies: pd.DataFrame, users: pd.DataFrame, variant: str, genre_seed: int
) -> MovieLens:
    movies = movies[movies["movieId"].isin(ratings["movieId"])].sort_values("movieId")
    movie_index, _ = _zero_based(movies["movieId"])
    user_index, user_originals = _zero_based(ratings["userId"])
    movie_lookup = dict(zip(movies["movieId"], movie_index))
    names, years = _split_title(movies["title"])
    genres = [[] if g == "(no genres listed)" else g.split("|") for g in movies["genres"].astype(str)]
    movie_table = movies_frame(movie_index.to_numpy(), names, years, genres, genre_seed)
    rating_table = pd.DataFrame(
        {
            "user_id": user_index.to_numpy(),
            "movie_id": ratings["movieId"].map(movie_lookup).to_numpy(),
            "rating": ratings["rating"].astype(np.float64).to_numpy(),
            "timestamp": ratings["timestamp"].astype(np.int64).to_numpy(),
        }
    )
    users = users.set_index("userId").reindex(user_originals).reset_index(drop=True)
    users.insert(0, "user_id", np.arange(len(user_originals)))
    return MovieLens(ratings=rating_table, movies=movie_table, users=users, variant=variant)


def _parse_latest_small(folder: Path, *, genre_seed: int) -> MovieLens:
    ratings = pd.read_csv(folder / "ratings.csv")
    movies = pd.read_csv(folder / "movies.csv")
    users = pd.DataFrame(
        {
            "userId": np.sort(ratings["userId"].unique()),
            "age": pd.NA,
            "sex": pd.NA,
            "occupation": pd.NA,
            "zip_code": pd.NA,
        }
    )
    return _assemble(ratings, movies, users, "latest-small", genre_seed)


def _parse_1m(folder: Path, *, genre_seed: int) -> MovieLens:
    def read(name: str, cols: list[str]) -> pd.DataFrame:
        return pd.read_csv(folder / name, sep="::", engine="python", names=cols, encoding="latin-1")

    ratings = read("ratings.dat", ["userId", "movieId", "rating", "timestamp"])
    movies = read("movies.dat", ["movieId", "title", "genres"])
    users = read("users.dat", ["userId", "sex", "age", "occupation", "zip_code"])
    return _assemble(ratings, movies, users, "1m", genre_seed)
