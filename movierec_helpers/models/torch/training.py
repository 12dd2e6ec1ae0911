"""The training loop a PyTorch user writes: the reference answer of notebook 02's ``fit``.

``zero_grad``, the loss, ``backward``, ``step``, the losses kept as tensors and read once after the
loop (reading a CUDA tensor with ``.item()`` or ``float()`` waits for the GPU at every step).
:class:`~movierec_helpers.models.torch.cfmodel.CFModel` runs the same steps, with logging.
"""

from __future__ import annotations

import torch

from movierec_helpers.exercises.reference import reference_solution

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch) -> torch.Tensor:
    """One gradient step on the mean squared error of ``model(users, movies)`` against ``ratings``.

    Args:
        model: a module that predicts the ratings of (user, movie) pairs.
        optimizer: a ``torch.optim`` optimizer over the model's parameters.
        batch: ``(users, movies, ratings)``, three tensors of the same length.

    Returns:
        The loss before the step, a scalar tensor detached from the graph (not read).
    """
    users, movies, ratings = batch
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(users, movies), ratings)
    loss.backward()
    optimizer.step()
    return loss.detach()


@reference_solution("fit")
def fit(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, num_steps: int
) -> torch.Tensor:
    """``num_steps`` full-batch steps of :func:`train_step`; the losses as one tensor.

    Reference answer of notebook 02 (PyTorch track), graded cell ``fit``.

    Returns:
        A 1-D tensor of ``num_steps`` losses, each taken before its step, on the model's device.
    """
    return torch.stack([train_step(model, optimizer, batch) for _ in range(num_steps)])


def rating_batch(sparse_ratings: torch.Tensor) -> Batch:
    """``(users, movies, ratings)`` of a sparse rating tensor, for :func:`fit`."""
    ratings = sparse_ratings.coalesce()
    users, movies = ratings.indices()
    return users, movies, ratings.values()
