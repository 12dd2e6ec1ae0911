"""An approximate nearest-neighbour index over item embeddings: FAISS's HNSW graph.

FAISS (``faiss-cpu``) is maintained, has wheels for Linux, macOS and Windows for every Python
the course supports, and offers HNSW and IVF indexes for inner product and L2. The index is
built on one thread so that the same vectors give the same graph on every run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

INNER_PRODUCT = "inner product"
COSINE = "cosine"


def _faiss():
    import faiss

    faiss.omp_set_num_threads(1)
    return faiss


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero): inner products become cosines."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


@dataclass
class SearchResult:
    """What one batch of queries returned."""

    ids: np.ndarray  # [queries, k], -1 where fewer were found
    seconds: float
    distances_per_query: float  # distance computations per query: a cost that does not depend on the machine

    @property
    def queries_per_second(self) -> float:
        return len(self.ids) / self.seconds if self.seconds > 0 else float("inf")


class HnswIndex:
    """An HNSW graph over item vectors (FAISS ``IndexHNSWFlat``), by inner product or cosine.

    Args:
        item_vectors: ``[N, d]``; row i is item i.
        m: neighbours per node (more: better recall, more memory and build time).
        ef_construction: candidates kept while building (more: a better graph, slower build).
        metric: ``INNER_PRODUCT`` or ``COSINE`` (vectors are normalised first).

    Raises:
        ValueError: an unknown metric, or m below 2.
    """

    def __init__(
        self, item_vectors: np.ndarray, m: int = 16, ef_construction: int = 40, metric: str = INNER_PRODUCT
    ) -> None:
        if metric not in (INNER_PRODUCT, COSINE):
            raise ValueError(f"unknown metric {metric!r}; use {INNER_PRODUCT!r} or {COSINE!r}")
        if m < 2:
            raise ValueError(f"m must be 2 or more, got {m}")
        faiss = _faiss()
        vectors = np.ascontiguousarray(
            unit_rows(item_vectors) if metric == COSINE else item_vectors, dtype=np.float32
        )
        self.metric, self.m, self.ef_construction = metric, m, ef_construction
        self.index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_construction
        start = time.perf_counter()
        self.index.add(vectors)
        self.build_seconds = time.perf_counter() - start

    def search(
        self, queries: np.ndarray, k: int, ef_search: int = 32, exclude: Sequence[Iterable[int]] | None = None
    ) -> SearchResult:
        """The k best items per query; ``exclude[i]`` (items user i rated) are left out.

        Excluded items are removed after the search, which asks for k + len(exclude[i]) so
        that k remain whenever there are enough.
        """
        faiss = _faiss()
        queries = np.ascontiguousarray(
            unit_rows(queries) if self.metric == COSINE else queries, dtype=np.float32
        )
        excluded = (
            [set(int(i) for i in e) for e in exclude] if exclude is not None else [set()] * len(queries)
        )
        extra = max((len(e) for e in excluded), default=0)
        wanted = min(k + extra, self.index.ntotal)
        params = faiss.SearchParametersHNSW(efSearch=max(ef_search, wanted))
        faiss.cvar.hnsw_stats.reset()
        start = time.perf_counter()
        _, found = self.index.search(queries, wanted, params=params)
        seconds = time.perf_counter() - start
        ndis = faiss.cvar.hnsw_stats.ndis / max(1, len(queries))
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, (candidates, seen) in enumerate(zip(found, excluded)):
            kept = [int(c) for c in candidates if c >= 0 and int(c) not in seen][:k]
            ids[row, : len(kept)] = kept
        return SearchResult(ids, seconds, ndis)
