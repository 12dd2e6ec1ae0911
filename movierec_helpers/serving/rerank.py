"""Re-ranking a scored list: diversity (MMR), freshness, and a cap on exposure per group."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from movierec_helpers.exercises.reference import reference_solution


@reference_solution("mmr")
def mmr(
    candidates: Sequence[int], relevance: Sequence[float], similarity: np.ndarray, k: int, lam: float
) -> list[int]:
    """Maximal marginal relevance (Carbonell & Goldstein 1998): relevant, and unlike what is chosen.

    Reference answer of notebook 09, graded cell ``mmr``.

    Args:
        candidates: item ids.
        relevance: one score per candidate.
        similarity: ``[n, n]`` similarities between the candidates (same order).
        k: how many to choose.
        lam: 1 = relevance only, 0 = diversity only.

    Returns:
        Up to k item ids in the order chosen: each step takes the candidate maximising
        ``lam * relevance - (1 - lam) * (its highest similarity to those chosen)`` (0 for the
        first), ties to the earlier candidate.
    """
    relevance = np.asarray(relevance, dtype=np.float64)
    similarity = np.asarray(similarity, dtype=np.float64)
    chosen: list[int] = []
    closest = np.zeros(len(relevance))  # the highest similarity to a chosen one (0 before the first)
    available = np.ones(len(relevance), dtype=bool)
    for _ in range(min(k, len(relevance))):
        value = np.where(available, lam * relevance - (1 - lam) * closest, -np.inf)
        best = int(np.argmax(value))
        chosen.append(best)
        available[best] = False
        # The first choice sets it: cosines can be negative, so it must not start from 0.
        closest = similarity[:, best] if len(chosen) == 1 else np.maximum(closest, similarity[:, best])
    return [candidates[i] for i in chosen]


@reference_solution("freshness_boost")
def freshness_boost(
    scores: Sequence[float], years: Sequence[float], current_year: int, weight: float, half_life: float
) -> np.ndarray:
    """Scores plus ``weight * 0.5 ** (age / half_life)``; age = current_year - year, at least 0.

    Reference answer of notebook 09, graded cell ``freshness_boost``. An unknown year (NaN)
    gets no boost.
    """
    years = np.asarray(years, dtype=np.float64)
    age = np.maximum(0.0, current_year - years)
    boost = np.where(np.isnan(years), 0.0, weight * 0.5 ** (age / half_life))
    return np.asarray(scores, dtype=np.float64) + boost


@reference_solution("cap_exposure")
def cap_exposure(ranked: Sequence[int], groups: Sequence[str], k: int, max_share: float) -> list[int]:
    """The top k of ``ranked`` with at most ``floor(max_share * k)`` items (at least 1) per group.

    Reference answer of notebook 09, graded cell ``cap_exposure``. Items keep their order;
    an item whose group is full is skipped; if fewer than k remain, the skipped ones fill
    the list in their order.
    """
    limit = max(1, int(np.floor(max_share * k)))
    taken, skipped, count = [], [], {}
    for item, group in zip(ranked, groups):
        if len(taken) == k:
            break
        if count.get(group, 0) < limit:
            taken.append(item)
            count[group] = count.get(group, 0) + 1
        else:
            skipped.append(item)
    return taken + skipped[: max(0, k - len(taken))]
