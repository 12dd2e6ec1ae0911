"""The softmax model: user features as bags of movies, genres and years.

Each user is described by the movies they rated, the genres of those movies and
their release years. Each feature is a ragged list of integer ids; an embedding bag
averages the embeddings of a user's ids (what ``tf.feature_column.embedding_column``
with ``combiner='mean'`` did in TF1). The concatenated bags go through hidden layers
to give psi(x), and psi(x) V^T are the logits over all movies, where V is the same
table that embeds the movie ids of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import tensorflow as tf

from movierec_helpers.exercises.reference import reference_solution
from movierec_helpers.models import user_bags as shared
from movierec_helpers.models.tensorflow.cfmodel import CFModel
from movierec_helpers.models.tensorflow.metrics import ranking_metrics
from movierec_helpers.models.user_bags import HIDDEN_SCALE, UNKNOWN_YEAR, user_bags

__all__ = [
    "HIDDEN_SCALE",
    "UNKNOWN_YEAR",
    "SoftmaxNetwork",
    "UserFeatures",
    "build_softmax_model",
    "build_user_features",
    "user_split",
]


@dataclass(frozen=True)
class UserFeatures:
    """Per-user bags of ids, one ragged row per user.

    Attributes:
        bags: feature name -> ``tf.RaggedTensor`` of int64 ids, ``[users, None]``.
        vocabularies: feature name -> list of the values behind ids 0, 1, ...
        user_ids: the user id of each row.
        bag_weights: feature name -> dense ``[users, vocabulary]`` float32 matrix whose
            row u holds 1/len(bag_u) at each id of user u's bag (summed for repeats),
            so that ``bag_weights @ table`` is every user's mean embedding at once.
    """

    bags: dict[str, tf.RaggedTensor]
    vocabularies: dict[str, list]
    user_ids: np.ndarray
    bag_weights: dict[str, tf.Tensor]

    @property
    def num_rows(self) -> int:
        """Number of users."""
        return len(self.user_ids)

    def take(self, rows) -> dict[str, tf.Tensor]:
        """The bag weights of the given rows (a batch), feature name -> ``[batch, vocab]``."""
        return {name: tf.gather(weights, rows) for name, weights in self.bag_weights.items()}


def build_user_features(ratings: pd.DataFrame, movies: pd.DataFrame) -> UserFeatures:
    """Groups ratings by user into bags of movie ids, genre ids and year ids.

    Args:
        ratings: ratings table (``user_id``, ``movie_id``; ratings themselves are unused:
            the softmax model predicts *which* movies a user rates).
        movies: the movies table (``genres`` list and ``year`` per movie).

    Returns:
        The bags, in order of increasing ``user_id``, with their vocabularies.
    """
    grouped = user_bags(ratings, movies)
    bags = {
        name: tf.RaggedTensor.from_row_splits(grouped.ids[name], grouped.splits[name]) for name in grouped.ids
    }
    vocabularies = grouped.vocabularies
    weights = {name: bag_weight_matrix(bag, len(vocabularies[name])) for name, bag in bags.items()}
    return UserFeatures(bags=bags, vocabularies=vocabularies, user_ids=grouped.user_ids, bag_weights=weights)


def bag_weight_matrix(ids: tf.RaggedTensor, vocabulary_size: int) -> tf.Tensor:
    """Dense ``[rows, vocabulary_size]`` matrix W with ``W @ table == embedding_bag(table, ids)``.

    A dense product with a gathered row of W is much faster on a CPU than gathering
    and averaging the rows of the table per step, and it keeps the gradient dense.
    Memory is rows x vocabulary floats (6 MB for MovieLens 100K's movie ids).
    """
    rows = ids.value_rowids()
    lengths = tf.cast(ids.row_lengths(), tf.float32)
    weights = tf.gather(1.0 / tf.maximum(lengths, 1.0), rows)
    shape = tf.stack([ids.nrows(), tf.constant(vocabulary_size, tf.int64)])
    return tf.scatter_nd(tf.stack([rows, ids.flat_values], axis=1), weights, shape)


def embedding_bag(table: tf.Tensor, ids: tf.RaggedTensor) -> tf.Tensor:
    """Mean of the embeddings of each row's ids; ``[rows, dim]`` (zeros for empty rows)."""
    embedded = tf.gather(table, ids.flat_values)
    return tf.math.unsorted_segment_mean(embedded, ids.value_rowids(), ids.nrows())


def sample_labels(ids: tf.RaggedTensor, generator: tf.random.Generator) -> tf.Tensor:
    """Picks one id uniformly at random from each (non-empty) row."""
    lengths = tf.cast(ids.row_lengths(), tf.float32)
    offsets = tf.cast(tf.floor(generator.uniform(tf.shape(lengths)) * lengths), tf.int64)
    return tf.gather(ids.flat_values, ids.row_starts() + offsets)


class SoftmaxNetwork:
    """Maps bags of features to a user embedding psi(x).

    Args:
        vocab_sizes: feature name -> number of ids.
        embedding_dims: feature name -> embedding dimension (``movie_id`` must be there).
        hidden_dims: sizes of the (linear) hidden layers; the last must equal
            ``embedding_dims["movie_id"]`` so that psi(x) can be compared with V.
        seed: seed of all initial values.

    Raises:
        ValueError: the output dimension does not match the movie embedding dimension.
    """

    def __init__(
        self,
        vocab_sizes: Mapping[str, int],
        embedding_dims: Mapping[str, int],
        hidden_dims: Sequence[int],
        seed: int,
    ) -> None:
        movie_dim = embedding_dims["movie_id"]
        output_dim = hidden_dims[-1] if hidden_dims else sum(embedding_dims.values())
        if output_dim != movie_dim:
            raise ValueError(
                f"The user embedding dimension {output_dim} (last hidden layer) must match "
                f"the movie embedding dimension {movie_dim}."
            )
        init = tf.random.Generator.from_seed(seed)
        # As tf.feature_column.embedding_column: truncated normal, stddev 1/sqrt(dim).
        self.tables = {
            name: tf.Variable(
                init.truncated_normal([vocab_sizes[name], dim], stddev=1.0 / np.sqrt(dim)),
                name=f"{name}_embedding",
            )
            for name, dim in embedding_dims.items()
        }
        # The seed stores hidden weights with stddev 1/sqrt(out) and uses them divided
        # by 10; keeping that split keeps its Adagrad dynamics (updates 10x smaller).
        self.weights = []
        input_dim = sum(embedding_dims.values())
        for i, output in enumerate(hidden_dims):
            stddev = 1.0 / np.sqrt(output)
            self.weights.append(
                tf.Variable(init.truncated_normal([input_dim, output], stddev=stddev), name=f"hidden{i}")
            )
            input_dim = output

    @property
    def movie_embeddings(self) -> tf.Variable:
        """V: the movie-id embedding table, also the softmax weights."""
        return self.tables["movie_id"]

    @property
    def variables(self) -> list[tf.Variable]:
        """Every trainable variable."""
        return [*self.tables.values(), *self.weights]

    @reference_solution("user_embeddings")
    def __call__(self, bag_weights: Mapping[str, tf.Tensor]) -> tf.Tensor:
        """psi(x) for a batch given as bag weights (see :meth:`UserFeatures.take`)."""
        layer = tf.concat(
            [tf.matmul(bag_weights[name], table) for name, table in self.tables.items()], axis=1
        )
        for weight in self.weights:
            layer = tf.matmul(layer, weight * HIDDEN_SCALE)
        return layer


def user_split(
    features: UserFeatures, holdout_fraction: float = 0.1, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``features`` (users) that :func:`build_softmax_model` trains and tests on.

    Returns:
        ``(train_rows, test_rows)``: sorted row numbers; ``features.user_ids[test_rows]``
        are the test users' ids.
    """
    return shared.user_split(features.num_rows, holdout_fraction, seed=seed)


def build_softmax_model(
    features: UserFeatures,
    *,
    embedding_dims: Mapping[str, int],
    hidden_dims: Sequence[int],
    seed: int,
    holdout_fraction: float = 0.1,
    batch_size: int = 200,
    test_batch_size: int = 100,
    k: int = 10,
    loss_fn: Callable | None = None,
    user_embedding_fn: Callable | None = None,
) -> tuple[CFModel, SoftmaxNetwork]:
    """Builds the seed's softmax model as a :class:`CFModel`.

    Users are split into training and test users. Every step samples ``batch_size``
    training users and one rated movie per user as the label; the metrics use
    ``test_batch_size`` test users. ``test_precision_at_k``/``test_recall_at_k`` follow
    the seed (the label is also in the input bag, so precision@10 is at most 0.1);
    see :func:`movierec_helpers.evaluation.ranking.rank_against_heldout` for a leak-free protocol.

    Args:
        features: the output of :func:`build_user_features`.
        embedding_dims: feature -> embedding dimension, e.g. movie_id 35, genre 3, year 2.
        hidden_dims: hidden layer sizes, e.g. ``[35]``.
        seed: seed of the initial values, of the user split and of batch sampling.
        holdout_fraction: fraction of users held out for the test metrics.
        batch_size: training users per step.
        test_batch_size: test users per metric evaluation.
        k: cut-off of the ranking metrics.
        loss_fn: ``(user_embeddings, movie_embeddings, labels) -> loss``; default the
            library's :func:`movierec_helpers.models.tensorflow.losses.softmax_loss`.
        user_embedding_fn: ``(network, bag_weights) -> psi``; default ``network(bag_weights)``.

    Returns:
        ``(model, network)``.
    """
    if loss_fn is None:
        from movierec_helpers.models.tensorflow.losses import softmax_loss as loss_fn
    vocab_sizes = {name: len(features.vocabularies[name]) for name in embedding_dims}
    network = SoftmaxNetwork(vocab_sizes, embedding_dims, hidden_dims, seed)
    if user_embedding_fn is None:
        user_embedding_fn = SoftmaxNetwork.__call__
    train_rows, test_rows = (
        tf.constant(rows, tf.int64) for rows in user_split(features, holdout_fraction, seed=seed)
    )
    sampler = tf.random.Generator.from_seed(seed + 1)

    def batch(rows, size):
        picked = tf.gather(rows, sampler.uniform([size], maxval=tf.size(rows, tf.int64), dtype=tf.int64))
        labels = sample_labels(tf.gather(features.bags["movie_id"], picked), sampler)
        return user_embedding_fn(network, features.take(picked)), labels

    def train_loss():
        psi, labels = batch(train_rows, batch_size)
        return loss_fn(psi, network.movie_embeddings, labels)

    def test_ranking():
        psi, labels = batch(test_rows, test_batch_size)
        logits = tf.matmul(psi, network.movie_embeddings, transpose_b=True)
        ranking = ranking_metrics(logits, labels, k=k)
        return {
            f"test_precision_at_{k}": ranking["precision"],
            f"test_recall_at_{k}": ranking["recall"],
        }

    def test_loss():
        psi, labels = batch(test_rows, test_batch_size)
        return loss_fn(psi, network.movie_embeddings, labels)

    model = CFModel(
        {"movie_id": network.movie_embeddings},
        train_loss,
        [{"train_loss": train_loss, "test_loss": test_loss}, test_ranking],
        trainable_variables=network.variables,
        jit_compile=False,
    )
    return model, network
