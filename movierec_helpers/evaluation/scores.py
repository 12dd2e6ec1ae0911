"""Similarity scores between a query embedding and item embeddings (reference solution)."""

from __future__ import annotations

import numpy as np

from movierec_helpers.exercises.reference import reference_solution

DOT = "dot"
COSINE = "cosine"


@reference_solution("compute_scores")
def compute_scores(
    query_embedding: np.ndarray, item_embeddings: np.ndarray, measure: str = DOT
) -> np.ndarray:
    """Scores every item against a query.

    Reference answer of notebook 03, graded cell ``compute_scores`` (later notebooks reuse it).

    Args:
        query_embedding: vector of shape ``[d]``.
        item_embeddings: matrix of shape ``[N, d]``.
        measure: ``DOT`` (<u, V_j>) or ``COSINE`` (<u, V_j> / (||u|| ||V_j||)).

    Returns:
        Vector of shape ``[N]``. With COSINE, a zero vector scores 0.

    Raises:
        ValueError: unknown measure or mismatched dimensions.
    """
    query = np.asarray(query_embedding, dtype=np.float64)
    items = np.asarray(item_embeddings, dtype=np.float64)
    if query.ndim != 1 or items.ndim != 2 or items.shape[1] != query.shape[0]:
        raise ValueError(
            f"Expected a query of shape [d] and items of shape [N, d], got {query.shape} and {items.shape}."
        )
    if measure == DOT:
        return items @ query
    if measure == COSINE:
        return _unit_rows(items) @ _unit_rows(query[None, :])[0]
    raise ValueError(f"Unknown measure {measure!r}; use {DOT!r} or {COSINE!r}.")


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
