"""Embedding models of notebook 06 (PyTorch track) and the minibatch loop that trains them.

:class:`DotProduct` holds a user and a movie ``nn.Embedding`` table and their L2 ``penalty()``;
:class:`BiasedModel` adds a user and a movie bias and the global mean, :class:`DeepModel` feeds
the two concatenated embeddings to a small network (the reference answers of the notebook's
exercises). :func:`fit_epochs` trains any of them by minibatch ``torch.optim`` steps, an optional
``torch.optim.lr_scheduler`` stepped once per epoch, and reports the training and test RMSE of
each epoch. The tables start as Keras's ``Embedding`` does (uniform in [-0.05, 0.05]) and the
penalty is added to the loss as Keras's ``embeddings_regularizer`` adds it, so the two tracks
train the same models.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from movierec_helpers.exercises.reference import reference_solution
from movierec_helpers.models.torch.cfmodel import ONE_THREAD_PARAMETERS
from movierec_helpers.models.torch.device import default_device

__all__ = [
    "BiasedModel",
    "DeepModel",
    "DotProduct",
    "build_biased_model",
    "build_deep_model",
    "embedding",
    "fit_epochs",
    "predict",
    "rating_tensors",
]

Ratings = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def embedding(count: int, dim: int) -> nn.Embedding:
    """An ``nn.Embedding(count, dim)`` drawn uniformly in [-0.05, 0.05], as Keras's ``Embedding`` starts."""
    table = nn.Embedding(count, dim)
    nn.init.uniform_(table.weight, -0.05, 0.05)
    return table


class DotProduct(nn.Module):
    """The rating as the dot product of a user's and a movie's vector: ``model(users, movies)``.

    Args:
        num_users: rows of ``user_factors``.
        num_movies: rows of ``movie_factors``.
        factors: the vectors' dimension.
        l2: weight of the L2 penalty on both factor tables (:meth:`penalty`).
    """

    def __init__(self, num_users: int, num_movies: int, factors: int = 50, l2: float = 1e-4) -> None:
        super().__init__()
        self.user_factors = embedding(num_users, factors)
        self.movie_factors = embedding(num_movies, factors)
        self.l2 = l2

    def penalty(self) -> torch.Tensor:
        """``l2`` times the sum of the squares of both factor tables (whole tables, as Keras's)."""
        return self.l2 * (self.user_factors.weight.square().sum() + self.movie_factors.weight.square().sum())

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """The predicted rating of each pair (``users[k]``, ``movies[k]``), shape ``[batch]``."""
        return (self.user_factors(users) * self.movie_factors(movies)).sum(dim=1)


class BiasedModel(DotProduct):
    """The dot product plus a user bias, a movie bias (``nn.Embedding(n, 1)``, not penalised) and the mean."""

    @reference_solution("biased_model")
    def __init__(
        self, num_users: int, num_movies: int, factors: int = 50, l2: float = 1e-4, global_mean: float = 0.0
    ) -> None:
        super().__init__(num_users, num_movies, factors, l2)
        self.user_bias = embedding(num_users, 1)
        self.movie_bias = embedding(num_movies, 1)
        self.global_mean = global_mean

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """Dot product + user bias + movie bias + global mean, shape ``[batch]``."""
        biases = self.user_bias(users)[:, 0] + self.movie_bias(movies)[:, 0]
        return super().forward(users, movies) + biases + self.global_mean


class DeepModel(DotProduct):
    """Concatenated embeddings -> Dropout(0.3) -> Linear(70), ReLU -> Dropout(0.75) -> Linear(1), + mean."""

    @reference_solution("deep_model")
    def __init__(
        self, num_users: int, num_movies: int, factors: int = 50, l2: float = 1e-4, global_mean: float = 0.0
    ) -> None:
        super().__init__(num_users, num_movies, factors, l2)
        self.network = nn.Sequential(
            nn.Dropout(0.3), nn.Linear(2 * factors, 70), nn.ReLU(), nn.Dropout(0.75), nn.Linear(70, 1)
        )
        self.global_mean = global_mean

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """The network's rating of each pair plus the global mean, shape ``[batch]``."""
        pair = torch.cat([self.user_factors(users), self.movie_factors(movies)], dim=1)
        return self.network(pair)[:, 0] + self.global_mean


@reference_solution("biased_model")
def build_biased_model(
    num_users: int, num_movies: int, factors: int = 50, l2: float = 1e-4, global_mean: float = 0.0
) -> BiasedModel:
    """Reference answer of notebook 06 (PyTorch track), graded cell ``biased_model``."""
    return BiasedModel(num_users, num_movies, factors, l2, global_mean)


@reference_solution("deep_model")
def build_deep_model(
    num_users: int, num_movies: int, factors: int = 50, l2: float = 1e-4, global_mean: float = 0.0
) -> DeepModel:
    """Reference answer of notebook 06 (PyTorch track), graded cell ``deep_model``."""
    return DeepModel(num_users, num_movies, factors, l2, global_mean)


def rating_tensors(table: pd.DataFrame, device: torch.device | str | None = None) -> Ratings:
    """``(users, movies, ratings)`` of a ratings table as tensors on ``device`` (default: the course's)."""
    device = device or default_device()
    return (
        torch.tensor(table["user_id"].to_numpy(np.int64), device=device),
        torch.tensor(table["movie_id"].to_numpy(np.int64), device=device),
        torch.tensor(table["rating"].to_numpy(np.float32), device=device),
    )


def predict(model: nn.Module, users, movies, batch_size: int = 8192) -> np.ndarray:
    """The model's ratings of the pairs in evaluation mode (no dropout), as a NumPy array.

    ``users`` and ``movies`` are sequences or tensors of ids; the model's training mode is restored.
    """
    device = next(model.parameters()).device
    users, movies = (_ids(ids, device) for ids in (users, movies))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            parts = [
                model(users[i : i + batch_size], movies[i : i + batch_size])
                for i in range(0, len(users), batch_size)
            ]
    finally:
        model.train(was_training)
    return torch.cat(parts).cpu().numpy() if parts else np.zeros(0, np.float32)


def _ids(ids, device: torch.device) -> torch.Tensor:
    if isinstance(ids, torch.Tensor):
        return ids.to(device)
    # a copy: pandas hands out read-only arrays, which torch.as_tensor warns about
    return torch.tensor(np.array(ids, dtype=np.int64), device=device)


def _test_rmse(model: nn.Module, test: Ratings, batch_size: int = 8192) -> torch.Tensor:
    users, movies, ratings = test
    model.eval()
    with torch.no_grad():
        squared = sum(
            (model(users[i : i + batch_size], movies[i : i + batch_size]) - ratings[i : i + batch_size])
            .square()
            .sum()
            for i in range(0, len(users), batch_size)
        )
    model.train()
    return torch.sqrt(squared / len(users))


def _epoch(model, optimizer, train: Ratings, batch_size: int, generator: torch.Generator):
    """One shuffled pass over the training ratings; the sums of loss and squared error, on device."""
    users, movies, ratings = train
    order = torch.randperm(len(users), generator=generator).to(users.device)
    penalty = getattr(model, "penalty", None)
    loss_sum = torch.zeros((), device=users.device)
    squared_sum = torch.zeros((), device=users.device)
    for batch in order.split(batch_size):
        optimizer.zero_grad(set_to_none=True)
        predictions = model(users[batch], movies[batch])
        errors = (predictions - ratings[batch]).square()
        loss = errors.mean()
        if penalty is not None:
            loss = loss + penalty()
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(batch)
        squared_sum += errors.detach().sum()
    return loss_sum, squared_sum


def fit_epochs(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train: Ratings,
    test: Ratings | None = None,
    epochs: int = 10,
    batch_size: int = 256,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Minibatch training of a rating model on the mean squared error plus its ``penalty()``.

    Each epoch shuffles the training ratings (with a generator seeded by ``seed``), takes one
    optimizer step per batch, and steps ``scheduler`` once at its end. Losses stay on the
    device and are read once per epoch. A model with at most ``ONE_THREAD_PARAMETERS``
    parameters on the CPU trains on one thread, as :class:`CFModel` does.

    Args:
        model: a module mapping ``(users, movies)`` to ratings of shape ``[batch]``; its
            ``penalty()``, when it has one, is added to the loss.
        optimizer: a ``torch.optim`` optimizer over the model's parameters.
        train: ``(users, movies, ratings)`` tensors on the model's device (:func:`rating_tensors`).
        test: the same for the test ratings, or None.
        epochs: passes over the training ratings.
        batch_size: ratings per step.
        scheduler: a ``torch.optim.lr_scheduler`` scheduler of ``optimizer``, stepped per epoch.
        seed: random state of the shuffling.

    Returns:
        One row per epoch: ``loss`` (MSE + penalty), ``rmse`` (training, with dropout on),
        ``val_rmse`` (test, evaluation mode; when ``test`` is given) and ``learning_rate``.
    """
    generator = torch.Generator().manual_seed(seed)
    threads_before = torch.get_num_threads()
    small = sum(p.numel() for p in model.parameters()) <= ONE_THREAD_PARAMETERS
    if train[0].device.type == "cpu" and small:
        torch.set_num_threads(1)
    rows: list[dict[str, torch.Tensor | float]] = []
    try:
        model.train()
        for _ in range(epochs):
            rate = optimizer.param_groups[0]["lr"]
            loss_sum, squared_sum = _epoch(model, optimizer, train, batch_size, generator)
            row = {"loss": loss_sum / len(train[0]), "rmse": torch.sqrt(squared_sum / len(train[0]))}
            if test is not None:
                row["val_rmse"] = _test_rmse(model, test)
            rows.append({**row, "learning_rate": rate})
            if scheduler is not None:
                scheduler.step()
    finally:
        torch.set_num_threads(threads_before)
    return _history(rows)


def _history(rows: Sequence[dict]) -> pd.DataFrame:
    return pd.DataFrame([{k: float(v) for k, v in row.items()} for row in rows])
