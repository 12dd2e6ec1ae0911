"""The softmax model of the PyTorch track (notebook 05): user features as bags of movies, genres, years.

Each user is described by the movies they rated, the genres of those movies and their release
years (:func:`movierec_helpers.models.user_bags.user_bags`, shared with the TensorFlow track). A
bag's embedding is the mean of its ids' embeddings: ``bag_weights @ table.weight``, where row u
of the dense bag-weight matrix holds 1/len(bag_u) at each id of user u's bag (what
``nn.EmbeddingBag(mode="mean")`` computes, as one matrix product whose gradient stays dense).
The concatenated bags go through ``nn.Linear`` hidden layers to give psi(x), and psi(x) V^T are
the logits over all movies, where V is the weight of the same ``nn.Embedding`` that embeds the
movie ids of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from movierec_helpers.exercises.reference import reference_solution
from movierec_helpers.models import user_bags as shared
from movierec_helpers.models.torch.cfmodel import CFModel
from movierec_helpers.models.torch.device import default_device
from movierec_helpers.models.torch.metrics import ranking_metrics
from movierec_helpers.models.user_bags import HIDDEN_SCALE, UNKNOWN_YEAR

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
    """Per-user bags of ids as tensors on one device, one row per user.

    Attributes:
        ids: feature name -> int64 tensor of every bag's ids, bag after bag.
        splits: feature name -> int64 tensor of ``users + 1`` offsets into ``ids``.
        vocabularies: feature name -> list of the values behind ids 0, 1, ...
        user_ids: the user id of each row.
        bag_weights: feature name -> dense ``[users, vocabulary]`` float32 tensor whose row u
            holds 1/len(bag_u) at each id of user u's bag (summed for repeats), so that
            ``bag_weights @ table`` is every user's mean embedding at once.
    """

    ids: dict[str, torch.Tensor]
    splits: dict[str, torch.Tensor]
    vocabularies: dict[str, list]
    user_ids: np.ndarray
    bag_weights: dict[str, torch.Tensor]

    @property
    def num_rows(self) -> int:
        """Number of users."""
        return len(self.user_ids)

    def take(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        """The bag weights of the given rows (a batch), feature name -> ``[batch, vocab]``."""
        return {name: weights[rows] for name, weights in self.bag_weights.items()}


def bag_weight_matrix(ids: torch.Tensor, splits: torch.Tensor, vocabulary_size: int) -> torch.Tensor:
    """Dense ``[rows, vocabulary_size]`` W with ``W @ table`` the mean embedding of each row's ids."""
    lengths = splits[1:] - splits[:-1]
    rows = torch.repeat_interleave(torch.arange(len(lengths), device=ids.device), lengths)
    weights = (1.0 / lengths.clamp(min=1).float())[rows]
    matrix = torch.zeros(len(lengths), vocabulary_size, device=ids.device)
    return matrix.index_put_((rows, ids), weights, accumulate=True)


def build_user_features(
    ratings: pd.DataFrame, movies: pd.DataFrame, device: torch.device | str | None = None
) -> UserFeatures:
    """Groups ratings by user into bags of movie ids, genre ids and year ids.

    Args:
        ratings: ratings table (``user_id``, ``movie_id``; ratings themselves are unused:
            the softmax model predicts *which* movies a user rates).
        movies: the movies table (``genres`` list and ``year`` per movie).
        device: where the tensors live (default: :func:`default_device`).

    Returns:
        The bags, in order of increasing ``user_id``, with their vocabularies.
    """
    device = device or default_device()
    grouped = shared.user_bags(ratings, movies)
    ids = {name: torch.tensor(values, device=device) for name, values in grouped.ids.items()}
    splits = {name: torch.tensor(values, device=device) for name, values in grouped.splits.items()}
    weights = {
        name: bag_weight_matrix(ids[name], splits[name], len(grouped.vocabularies[name])) for name in ids
    }
    return UserFeatures(ids, splits, grouped.vocabularies, grouped.user_ids, weights)


def _truncated_normal(rows: int, cols: int, stddev: float, generator: torch.Generator) -> torch.Tensor:
    # As TensorFlow's truncated_normal: N(0, stddev^2) redrawn beyond two standard deviations.
    values = torch.empty(rows, cols)
    return torch.nn.init.trunc_normal_(values, std=stddev, a=-2 * stddev, b=2 * stddev, generator=generator)


class SoftmaxNetwork(torch.nn.Module):
    """Maps bags of features to a user embedding psi(x): ``network(bag_weights)``.

    Args:
        vocab_sizes: feature name -> number of ids.
        embedding_dims: feature name -> embedding dimension (``movie_id`` must be there).
        hidden_dims: sizes of the (linear) hidden layers; the last must equal
            ``embedding_dims["movie_id"]`` so that psi(x) can be compared with V.
        seed: random state of all initial values (drawn on the CPU).

    Attributes:
        tables: ``nn.ModuleDict`` of one ``nn.Embedding`` per feature, in the order given.
        hidden: ``nn.ModuleList`` of ``nn.Linear`` layers without bias, used scaled by
            ``HIDDEN_SCALE``.

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
        super().__init__()
        movie_dim = embedding_dims["movie_id"]
        output_dim = hidden_dims[-1] if hidden_dims else sum(embedding_dims.values())
        if output_dim != movie_dim:
            raise ValueError(
                f"The user embedding dimension {output_dim} (last hidden layer) must match "
                f"the movie embedding dimension {movie_dim}."
            )
        generator = torch.Generator().manual_seed(seed)
        # As tf.feature_column.embedding_column: truncated normal, stddev 1/sqrt(dim).
        self.tables = torch.nn.ModuleDict(
            {
                name: torch.nn.Embedding.from_pretrained(
                    _truncated_normal(vocab_sizes[name], dim, 1.0 / np.sqrt(dim), generator), freeze=False
                )
                for name, dim in embedding_dims.items()
            }
        )
        # Google's course stores hidden weights with stddev 1/sqrt(out) and uses them divided
        # by 10; keeping that split keeps its Adagrad dynamics (updates 10x smaller).
        self.hidden = torch.nn.ModuleList()
        input_dim = sum(embedding_dims.values())
        for output in hidden_dims:
            layer = torch.nn.Linear(input_dim, output, bias=False)
            with torch.no_grad():
                layer.weight.copy_(_truncated_normal(output, input_dim, 1.0 / np.sqrt(output), generator))
            self.hidden.append(layer)
            input_dim = output

    @property
    def movie_embeddings(self) -> torch.nn.Parameter:
        """V: the movie-id embedding table, also the softmax weights."""
        return self.tables["movie_id"].weight

    @reference_solution("user_embeddings")
    def forward(self, bag_weights: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """psi(x) for a batch given as bag weights (see :meth:`UserFeatures.take`)."""
        layer = torch.cat([bag_weights[name] @ table.weight for name, table in self.tables.items()], dim=1)
        for hidden in self.hidden:
            layer = hidden(layer) * HIDDEN_SCALE
        return layer


def user_split(
    features: UserFeatures, holdout_fraction: float = 0.1, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``features`` (users) that :func:`build_softmax_model` trains and tests on.

    Returns:
        ``(train_rows, test_rows)``: sorted row numbers; ``features.user_ids[test_rows]``
        are the test users' ids (the same users as the TensorFlow track's for a random state).
    """
    return shared.user_split(features.num_rows, holdout_fraction, seed=seed)


def batch_sampler(features: UserFeatures, seed: int) -> Callable[[torch.Tensor, int], tuple]:
    """``sample(rows, size)``: ``size`` users drawn from ``rows`` and one rated movie of each, as tensors.

    Draws on the features' device from a generator seeded with ``seed`` (the model's batches use
    ``seed + 1``; ``benchmarks/torch_softmax.py`` replays them).
    """
    ids, splits = features.ids["movie_id"], features.splits["movie_id"]
    starts, lengths = splits[:-1], splits[1:] - splits[:-1]
    generator = torch.Generator(device=ids.device).manual_seed(seed)

    def sample(rows: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        picked = rows[torch.randint(len(rows), (size,), generator=generator, device=ids.device)]
        uniform = torch.rand(size, generator=generator, device=ids.device)
        offsets = torch.minimum((uniform * lengths[picked]).long(), lengths[picked] - 1)
        return picked, ids[starts[picked] + offsets]

    return sample


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
    """Builds Google's course's softmax model as a :class:`CFModel`, on the features' device.

    Users are split into training and test users. Every step samples ``batch_size`` training
    users and one rated movie per user as the label; the metrics use ``test_batch_size`` test
    users. ``test_precision_at_k``/``test_recall_at_k`` follow Google's course (the label is
    also in the input bag, so precision@10 is at most 0.1); see
    :func:`movierec_helpers.evaluation.ranking.rank_against_heldout` for a leak-free protocol.

    Args:
        features: the output of :func:`build_user_features`.
        embedding_dims: feature -> embedding dimension, e.g. movie_id 35, genre 3, year 2.
        hidden_dims: hidden layer sizes, e.g. ``[35]``.
        seed: random state of the initial values, of the user split and of batch sampling.
        holdout_fraction: fraction of users held out for the test metrics.
        batch_size: training users per step.
        test_batch_size: test users per metric evaluation.
        k: cut-off of the ranking metrics.
        loss_fn: ``(user_embeddings, movie_embeddings, labels) -> loss``; default the
            library's :func:`movierec_helpers.models.torch.losses.softmax_loss`.
        user_embedding_fn: ``(network, bag_weights) -> psi``; default ``network(bag_weights)``.

    Returns:
        ``(model, network)``; the model's ``movie_id`` embedding is ``network.movie_embeddings``.
    """
    if loss_fn is None:
        from movierec_helpers.models.torch.losses import softmax_loss as loss_fn
    device = features.ids["movie_id"].device
    vocab_sizes = {name: len(features.vocabularies[name]) for name in embedding_dims}
    network = SoftmaxNetwork(vocab_sizes, embedding_dims, hidden_dims, seed).to(device)
    if user_embedding_fn is None:
        user_embedding_fn = SoftmaxNetwork.__call__
    train_rows, test_rows = (
        torch.as_tensor(rows, device=device) for rows in user_split(features, holdout_fraction, seed=seed)
    )
    sample = batch_sampler(features, seed + 1)

    def batch(rows, size):
        picked, labels = sample(rows, size)
        return user_embedding_fn(network, features.take(picked)), labels

    def train_loss():
        psi, labels = batch(train_rows, batch_size)
        return loss_fn(psi, network.movie_embeddings, labels)

    def test_ranking():
        psi, labels = batch(test_rows, test_batch_size)
        ranking = ranking_metrics(psi @ network.movie_embeddings.T, labels, k=k)
        return {f"test_precision_at_{k}": ranking["precision"], f"test_recall_at_{k}": ranking["recall"]}

    def test_loss():
        psi, labels = batch(test_rows, test_batch_size)
        return loss_fn(psi, network.movie_embeddings, labels)

    model = CFModel(
        {"movie_id": network.movie_embeddings},
        train_loss,
        [{"train_loss": train_loss, "test_loss": test_loss}, test_ranking],
        trainable_variables=list(network.parameters()),
    )
    return model, network
