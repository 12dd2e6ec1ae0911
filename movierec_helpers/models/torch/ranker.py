"""A small ranking model on features, in PyTorch: user and movie features, a feature cross, an MLP.

The scoring stage of a recommender (after candidate generation, before re-ranking): it sees
every candidate with features no generator used and learns which candidates a user goes on to
rate. The cross follows DCN (Wang et al. 2017; TorchRec's ``CrossNet``, KerasRS's ``Cross``):
``x0 * (x W + b) + x`` multiplies every feature with a learned mix of all of them. The inputs
come from :func:`~movierec_helpers.models.ranking_features.ranking_features` (both tracks).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from movierec_helpers.exercises.reference import reference_solution
from movierec_helpers.models.ranking_features import NUMERIC, ranking_features

# ranking_features is shared by both tracks; it is importable from here as from the TensorFlow sibling.
__all__ = ["NUMERIC", "FeatureCross", "Ranker", "cross_features", "ranking_features"]


@reference_solution("cross_features")
def cross_features(
    x0: torch.Tensor, x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """One DCN cross: ``x0 * (x @ kernel + bias) + x`` (torch operations, so autograd's gradients).

    Reference answer of notebook 08 (PyTorch track), graded cell ``cross_features``.

    Args:
        x0: the input features, ``[batch, d]``.
        x: the output of the previous cross (``x0`` for the first), ``[batch, d]``.
        kernel: ``[d, d]``.
        bias: ``[d]``.

    Returns:
        ``[batch, d]``.
    """
    return x0 * (torch.matmul(x, kernel) + bias) + x


class FeatureCross(nn.Module):
    """A cross layer that computes ``cross(x0, x, kernel, bias)`` with its own weights.

    Args:
        width: d, the number of input features.
        cross: the cross function (the student's, or :func:`cross_features`).
    """

    def __init__(self, width: int, cross: Callable = cross_features) -> None:
        super().__init__()
        self.cross = cross
        # Glorot-uniform kernel and zero bias, as Keras's Dense and KerasRS's Cross start.
        self.kernel = nn.Parameter(nn.init.xavier_uniform_(torch.empty(width, width)))
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The next cross ``[batch, d]`` of the inputs ``x0`` and the previous output ``x``."""
        return self.cross(x0, x, self.kernel, self.bias)


class Ranker(nn.Module):
    """Features -> concatenation -> ``crosses`` feature crosses -> Linear(hidden), ReLU -> one logit.

    ``model(numeric=..., occupation=..., genres=...)`` (the tensors of
    :func:`ranking_features`, e.g. ``model(**inputs)``) gives ``[batch]`` logits of "the user
    goes on to rate this movie", for ``torch.nn.BCEWithLogitsLoss``.

    Args:
        num_occupations: size of the occupation vocabulary (embedded in 4 dimensions).
        num_genres: length of the genres multi-hot.
        cross: the cross function (the student's, or :func:`cross_features`).
        crosses: how many cross layers.
        hidden: units of the hidden layer.
    """

    def __init__(
        self,
        num_occupations: int,
        num_genres: int,
        *,
        cross: Callable = cross_features,
        crosses: int = 1,
        hidden: int = 32,
    ) -> None:
        super().__init__()
        width = len(NUMERIC) + 4 + num_genres
        self.occupation_embedding = nn.Embedding(num_occupations, 4)
        self.crosses = nn.ModuleList(FeatureCross(width, cross) for _ in range(crosses))
        self.hidden = nn.Sequential(nn.Linear(width, hidden), nn.ReLU())
        self.logit = nn.Linear(hidden, 1)

    def forward(self, numeric: torch.Tensor, occupation: torch.Tensor, genres: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch]`` of ``numeric [batch, 5]``, ``occupation [batch]``, ``genres [batch, G]``."""
        x0 = torch.cat([numeric, self.occupation_embedding(occupation), genres], dim=1)
        x = x0
        for cross in self.crosses:
            x = cross(x0, x)
        return self.logit(self.hidden(x)).squeeze(1)
