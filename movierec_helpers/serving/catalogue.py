"""Synthetic catalogues: many more items than MovieLens, shaped like the learned embeddings."""

from __future__ import annotations

import numpy as np


def synthetic_items(item_vectors: np.ndarray, n: int, *, seed: int) -> np.ndarray:
    """``n`` item vectors drawn from a Gaussian with the mean and covariance of ``item_vectors``.

    Args:
        item_vectors: ``[N, d]`` learned item embeddings.
        n: how many items to draw.
        seed: the generator's seed.

    Returns:
        ``[n, d]`` float32 vectors.
    """
    vectors = np.asarray(item_vectors, dtype=np.float64)
    rng = np.random.default_rng(seed)
    drawn = rng.multivariate_normal(
        vectors.mean(axis=0), np.cov(vectors, rowvar=False), size=n, method="cholesky"
    )
    return drawn.astype(np.float32)
