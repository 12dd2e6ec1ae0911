"""The scoring model's inputs per candidate, for both tracks (NumPy and pandas only).

Notebook 08's ranking model (``models.tensorflow.ranker`` and ``models.torch.ranker``) sees each
candidate of a pool as a few numbers about the user and the movie, the user's occupation (an
index the model embeds) and the movie's genres (a multi-hot).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the numeric features, in column order
NUMERIC = ("age", "sex", "year", "generator score", "log popularity")


def ranking_features(
    pool: pd.DataFrame,
    users: pd.DataFrame,
    movies: pd.DataFrame,
    popularity: np.ndarray,
    generator: str,
    genres: list[str],
    occupations: list[str],
) -> dict[str, np.ndarray]:
    """The model's inputs for each row of a candidate pool.

    Args:
        pool: ``user_id``, ``movie_id`` and ``<generator> score`` columns.
        users: the users table (``age``, ``sex``, ``occupation``).
        movies: the movies table (``year``, ``genres``).
        popularity: training ratings per movie.
        generator: whose score is a feature (e.g. ``"MF"``).
        genres: the genre vocabulary (multi-hot order).
        occupations: the occupation vocabulary (index order).

    Returns:
        ``{"numeric": [n, 5] float32 (age, sex, year, generator score, log popularity,
        standardised over the pool), "occupation": [n] int32, "genres": [n, G] float32}``.
    """
    user = users.set_index("user_id").loc[pool["user_id"]]
    movie = movies.set_index("movie_id").loc[pool["movie_id"]]
    year = movie["year"].astype(float)
    numeric = np.column_stack(
        [
            user["age"].to_numpy(float),
            (user["sex"] == "F").to_numpy(float),
            year.fillna(year.median()).to_numpy(),
            pool[f"{generator} score"].to_numpy(float),
            np.log1p(popularity[pool["movie_id"].to_numpy()]),
        ]
    )
    numeric = (numeric - numeric.mean(0)) / np.where(numeric.std(0) > 0, numeric.std(0), 1.0)
    index = {g: i for i, g in enumerate(genres)}
    multi_hot = np.zeros((len(pool), len(genres)), np.float32)
    for row, names in enumerate(movie["genres"]):
        multi_hot[row, [index[g] for g in names if g in index]] = 1.0
    occupation = user["occupation"].map({o: i for i, o in enumerate(occupations)}).fillna(0).to_numpy("int32")
    return {"numeric": numeric.astype(np.float32), "occupation": occupation, "genres": multi_hot}
