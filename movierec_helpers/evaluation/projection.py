"""Projecting learned embeddings to two dimensions for a map (t-SNE)."""

from __future__ import annotations

import numpy as np


def project_tsne(
    vectors: np.ndarray, *, seed: int, perplexity: float = 40.0, max_iter: int = 400
) -> np.ndarray:
    """Projects embeddings to 2-D with t-SNE on cosine distances.

    Args:
        vectors: ``[n, d]`` embeddings.
        seed: random state of t-SNE.
        perplexity: t-SNE perplexity.
        max_iter: optimisation steps.

    Returns:
        ``[n, 2]`` coordinates.
    """
    from sklearn.manifold import TSNE

    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        metric="cosine",
        early_exaggeration=10.0,
        init="pca",
        max_iter=max_iter,
        random_state=seed,
    )
    return tsne.fit_transform(np.asarray(vectors, dtype=np.float64))
