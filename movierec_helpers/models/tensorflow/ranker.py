"""A small ranking model on features: user and movie features, a feature cross, an MLP.

The scoring stage of a recommender (after candidate generation, before re-ranking): it
sees every candidate with features no generator used and learns which candidates a user
goes on to rate. The cross follows DCN (Wang et al. 2017; KerasRS/TFRS ``Cross``):
``x0 * (x W + b) + x`` multiplies every feature with a learned mix of all of them.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

from movierec_helpers.exercises.reference import reference_solution
from movierec_helpers.models.ranking_features import NUMERIC, ranking_features

# ranking_features is shared by both tracks; notebook 08 imports it from here.
__all__ = ["NUMERIC", "FeatureCross", "build_ranker", "cross_features", "ranking_features"]


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
