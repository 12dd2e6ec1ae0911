"""Ranking metrics as PyTorch operations: precision, recall and NDCG at k, on the scores' device."""

from __future__ import annotations

import math

import torch


def ranking_metrics(scores: torch.Tensor, relevant: torch.Tensor, k: int = 10) -> dict[str, torch.Tensor]:
    """Precision@k, recall@k and NDCG@k, averaged over the users with a relevant item.

    Args:
        scores: ``[users, items]`` scores (higher is better).
        relevant: a ``[users]`` tensor of single relevant item ids (labels), or a boolean
            ``[users, items]`` mask of the relevant items.
        k: cut-off.

    Returns:
        ``{"precision": ..., "recall": ..., "ndcg": ...}`` as scalar tensors (not read back).

    Raises:
        ValueError: ``k`` is not positive or exceeds the number of items.
    """
    num_users, num_items = scores.shape
    if not 0 < k <= num_items:
        raise ValueError(f"k must be between 1 and the number of items ({num_items}), got {k}.")
    if relevant.dtype != torch.bool:
        mask = torch.zeros(num_users, num_items, dtype=torch.bool, device=scores.device)
        relevant = mask.scatter(1, relevant.reshape(-1, 1).long(), True)
    top = torch.topk(scores, k, dim=1).indices
    hits = relevant.gather(1, top).float()
    num_relevant = relevant.sum(dim=1).float()
    has_relevant = num_relevant > 0
    discounts = math.log(2.0) / torch.log(torch.arange(2, k + 2, dtype=torch.float32, device=scores.device))
    ideal = (torch.arange(k, device=scores.device)[None, :] < num_relevant[:, None]).float()
    found = hits.sum(dim=1)
    per_user = {
        "precision": found / k,
        "recall": found / num_relevant.clamp(min=1.0),
        "ndcg": (hits * discounts).sum(dim=1) / (ideal * discounts).sum(dim=1).clamp(min=1e-12),
    }
    return {name: values[has_relevant].mean() for name, values in per_user.items()}
