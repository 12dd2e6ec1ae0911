"""Embedding norms against popularity, as a table (what regularization changes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

DEFAULT_EDGES = (0, 5, 50)


def norms_by_popularity(
    movie_embeddings: Mapping[str, np.ndarray],
    ratings: pd.DataFrame,
    edges: Sequence[int] = DEFAULT_EDGES,
    decimals: int = 2,
) -> pd.DataFrame:
    """Mean embedding norm of the movies in each band of rating counts, per model.

    Args:
        movie_embeddings: model name -> ``[num_movies, d]`` movie embeddings (row = movie_id).
        ratings: the ratings the models were trained on (``movie_id`` column).
        edges: lower bounds of the bands, increasing, the first 0: ``(0, 5, 50)`` gives
            "0-4 ratings", "5-49 ratings", "50+ ratings".
        decimals: rounding of the means (what a reader compares).

    Returns:
        One row per band (its label as index), a ``movies`` count column, then one column
        of mean norms per model.

    Raises:
        ValueError: the edges do not start at 0 or do not increase, or the models disagree
            on the number of movies, or a rating names a movie the embeddings do not have.
    """
    edges = list(edges)
    if not edges or edges[0] != 0 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"edges must start at 0 and increase, e.g. (0, 5, 50); got {edges}")
    sizes = {name: np.shape(vectors)[0] for name, vectors in movie_embeddings.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every model needs one row per movie; got {sizes}")
    num_movies = next(iter(sizes.values()))
    movie_ids = ratings["movie_id"].to_numpy()
    if len(movie_ids) and (movie_ids.min() < 0 or movie_ids.max() >= num_movies):
        raise ValueError(
            f"ratings name movie ids outside 0..{num_movies - 1}: train on the same movies table"
        )
    counts = np.bincount(movie_ids, minlength=num_movies)
    band = np.searchsorted(edges, counts, side="right") - 1
    labels = [f"{lo}-{hi - 1} ratings" for lo, hi in zip(edges, edges[1:])] + [f"{edges[-1]}+ ratings"]
    table = pd.DataFrame(
        {"movies": np.bincount(band, minlength=len(edges))}, index=pd.Index(labels, name="band")
    )
    for name, vectors in movie_embeddings.items():
        norms = np.linalg.norm(np.asarray(vectors, dtype=float), axis=1)
        table[name] = (
            pd.Series(norms).groupby(band).mean().reindex(range(len(edges))).round(decimals).to_numpy()
        )
    return table
