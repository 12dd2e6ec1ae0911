"""Beyond-accuracy metrics of recommendation lists: diversity, coverage, novelty.

As microsoft/recommenders teaches them: intra-list diversity (mean pairwise dissimilarity
inside a list), catalogue coverage (the share of items recommended to anyone) and novelty
(mean self-information of the recommended items, ``-log2`` of their popularity).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def intra_list_diversity(lists: Sequence[Sequence[int]], item_vectors: np.ndarray) -> float:
    """Mean over lists of the mean ``1 - cosine`` between the items of a list (pairs of distinct
    positions)."""
    vectors = np.asarray(item_vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    values = []
    for items in lists:
        items = list(items)
        if len(items) < 2:
            continue
        sims = unit[items] @ unit[items].T
        n = len(items)
        values.append(float((1.0 - sims)[~np.eye(n, dtype=bool)].mean()))
    return float(np.mean(values)) if values else 0.0


def catalogue_coverage(lists: Sequence[Sequence[int]], num_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    seen = {int(i) for items in lists for i in items}
    return len(seen) / num_items


def novelty(lists: Sequence[Sequence[int]], popularity: np.ndarray, num_users: int) -> float:
    """Mean of ``-log2(popularity / num_users)`` over every recommended item (rarer: more novel)."""
    share = np.clip(np.asarray(popularity, dtype=np.float64) / num_users, 1.0 / num_users, 1.0)
    values = [-np.log2(share[int(i)]) for items in lists for i in items]
    return float(np.mean(values)) if values else 0.0
