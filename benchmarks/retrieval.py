"""Exact vs approximate retrieval (part of ``make bench``): MovieLens's 1,682 movies and a
synthetic catalogue of 1,000,000 items shaped like them.

Figures: queries per second (1,000 user queries, one thread) of exact search (one matrix
product and a partial sort per batch, the baseline) and of the HNSW index (M=16,
ef_search=40, notebook 07's choice, and 80), and the index's recall@10 against the exact lists;
the ratio of the two speeds. Embeddings: notebook 07's, notebook 04's regularized MF fitted by
alternating least squares (10 sweeps, random state 42): NumPy, so either track's install runs it.
"""

from __future__ import annotations

import time

import numpy as np

from movierec_helpers.data import load_course_data
from movierec_helpers.models.als import fit_regularized_als
from movierec_helpers.serving.ann import HnswIndex
from movierec_helpers.serving.catalogue import synthetic_items
from movierec_helpers.serving.retrieval import recall_at_k

QUERIES, K = 1000, 10


def exact(queries: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact top-K by inner product in batches of 100 queries (argpartition, then a sort of K)."""
    start = time.perf_counter()
    out = []
    for batch in np.array_split(queries, max(1, len(queries) // 100)):
        scores = batch @ items.T
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out.append(np.take_along_axis(top, order, axis=1))
    return np.vstack(out), time.perf_counter() - start


def main() -> None:
    data, train, _ = load_course_data(seed=42)
    users, movies, _ = fit_regularized_als(
        train,
        data.num_users,
        data.num_movies,
        embedding_dim=35,
        regularization_coeff=0.1,
        gravity_coeff=1.0,
        init_stddev=0.05,
        sweeps=10,
        random_state=42,
    )
    queries = users[np.random.default_rng(0).integers(0, len(users), QUERIES)].astype(np.float32)
    for size in (len(movies), 1_000_000):
        items = (
            movies
            if size == len(movies)
            else np.vstack([movies, synthetic_items(movies, size - len(movies), seed=0)])
        )
        items = np.ascontiguousarray(items, dtype=np.float32)
        truth, seconds = exact(queries, items)
        print(f"{size:>9,} items  exact: {QUERIES / seconds:>10,.0f} queries/s (baseline)")
        index = HnswIndex(items, m=16, ef_construction=40)
        for ef in (40, 80):
            found = index.search(queries, K, ef_search=ef)
            print(
                f"{size:>9,} items  HNSW M=16 ef_search={ef:<3}: {found.queries_per_second:>10,.0f} "
                "queries/s "
                f"({found.queries_per_second * seconds / QUERIES:.1f}x exact), recall@10 "
                f"{recall_at_k(found.ids, truth):.3f}, {found.distances_per_query:,.0f} distances/query "
                f"(build {index.build_seconds:.1f} s)"
            )


if __name__ == "__main__":
    main()
