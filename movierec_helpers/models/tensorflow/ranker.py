"""A small ranking model on features: user and movie features, a feature cross, an MLP.

The scoring stage of a recommender (after candidate generation, before re-ranking): it
sees every candidate with features no generator used and learns which candidates a user
goes on to rate. The cross follows DCN (Wang et al. 2017; KerasRS/TFRS ``Cross``):
``x0 * (x W + b) + x`` multiplies every feature with a learned mix of all of them.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pandas as pd
from keras import ops

from movierec_helpers.exercises.reference import reference_solution

NUMERIC = ("age", "sex", "year", "generator score", "log popularity")


@reference_solution("cross_features")
def cross_features(x0, x, kernel, bias):
    """One DCN cross: ``x0 * (x @ kernel + bias) + x`` (Keras ops, so any backend and gradients).

    Reference answer of notebook 08, graded cell ``cross_features``.

    Args:
        x0: the input features, ``[batch, d]``.
        x: the output of the previous cross (``x0`` for the first), ``[batch, d]``.
        kernel: ``[d, d]``.
        bias: ``[d]``.

    Returns:
        ``[batch, d]``.
    """
    return x0 * (ops.matmul(x, kernel) + bias) + x


class FeatureCross(keras.layers.Layer):
    """A cross layer that computes ``cross(x0, x, kernel, bias)`` with its own weights."""

    def __init__(self, cross: Callable = cross_features, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cross = cross

    def build(self, input_shape) -> None:
        d = input_shape[0][-1]
        self.kernel = self.add_weight(shape=(d, d), initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(d,), initializer="zeros", name="bias")

    def call(self, inputs):
        x0, x = inputs
        return self.cross(x0, x, self.kernel, self.bias)


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


def build_ranker(
    num_occupations: int,
    num_genres: int,
    *,
    cross: Callable = cross_features,
    crosses: int = 1,
    hidden: int = 32,
) -> keras.Model:
    """Features -> concatenation -> ``crosses`` feature crosses -> Dense(hidden, relu) -> one logit.

    Args:
        num_occupations: size of the occupation vocabulary (embedded in 4 dimensions).
        num_genres: length of the genres multi-hot.
        cross: the cross function (the student's, or :func:`cross_features`).
        crosses: how many cross layers.
        hidden: units of the hidden layer.

    Returns:
        A model taking ``{"numeric", "occupation", "genres"}`` and giving ``[batch, 1]`` logits
        of "the user goes on to rate this movie".
    """
    numeric = keras.Input((len(NUMERIC),), name="numeric")
    occupation = keras.Input((), dtype="int32", name="occupation")
    genres = keras.Input((num_genres,), name="genres")
    job = keras.layers.Embedding(num_occupations, 4, name="occupation_embedding")(occupation)
    x0 = keras.layers.Concatenate(name="features")([numeric, job, genres])
    x = x0
    for i in range(crosses):
        x = FeatureCross(cross, name=f"cross_{i}")([x0, x])
    x = keras.layers.Dense(hidden, activation="relu", name="hidden")(x)
    return keras.Model(
        {"numeric": numeric, "occupation": occupation, "genres": genres},
        keras.layers.Dense(1, name="logit")(x),
    )
