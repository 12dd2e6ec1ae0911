"""Leave-one-out metrics: the rank of each user's held-out item, among all items or a sample.

Full ranking ranks the held-out item against every item the user did not train on. A
*sampled* metric ranks it against ``n`` negatives only (items the user never interacted with,
drawn uniformly or by popularity), which is cheaper and was common practice, but it does not
preserve how models compare (Krichene and Rendle, KDD 2020): HR@10 among 101 items is about
how often the item lands in the top 10% of the catalogue, not in its top 10.

Ties count against the held-out item: a candidate scoring exactly as much is ranked above
it, so a model that scores everything alike earns nothing.
"""

from __future__ import annotations

import numpy as np

from movierec_helpers.exercises.reference import reference_solution


def sample_negatives(
    interacted: np.ndarray, n: int, *, random_state: int, popularity: np.ndarray | None = None
) -> np.ndarray:
    """``n`` items per user, without repeats, that the user never interacted with.

    Args:
        interacted: binary ``[num_users, num_items]`` matrix of every interaction, held-out ones included.
        n: negatives per user.
        random_state: the random state of the draw.
        popularity: when given, each item is drawn with probability proportional to it
            (e.g. its number of training interactions); uniform otherwise.

    Returns:
        An int array ``[num_users, n]`` of item ids.
    """
    rng = np.random.default_rng(random_state)
    weights = np.ones(interacted.shape[1]) if popularity is None else np.asarray(popularity, dtype=float)
    negatives = np.empty((interacted.shape[0], n), dtype=np.int64)
    for user, row in enumerate(interacted):
        allowed = np.where(row > 0, 0.0, weights)
        if np.count_nonzero(allowed) < n:
            raise ValueError(f"user {user} has fewer than {n} items to draw negatives from.")
        negatives[user] = rng.choice(len(allowed), size=n, replace=False, p=allowed / allowed.sum())
    return negatives


@reference_solution("sampled_hits")
def sampled_ranks(scores: np.ndarray, heldout: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """The 0-based rank of each user's held-out item among it and the user's negatives.

    Part of the reference answer of notebook 11, graded cell ``sampled_hits``.

    Args:
        scores: ``[num_users, num_items]`` scores.
        heldout: the held-out item of each user (one per row of ``scores``).
        negatives: ``[num_users, n]`` item ids.

    Returns:
        How many negatives score at least as much as the held-out item (ties count against it).
    """
    rows = np.arange(len(scores))
    target = scores[rows, heldout]
    return (scores[rows[:, None], negatives] >= target[:, None]).sum(axis=1)


def full_ranks(scores: np.ndarray, heldout: np.ndarray, train_matrix: np.ndarray) -> np.ndarray:
    """The 0-based rank of each user's held-out item among every item the user did not train on.

    Args:
        scores: ``[num_users, num_items]`` scores.
        heldout: the held-out item of each user.
        train_matrix: binary ``[num_users, num_items]`` training interactions (left out of the ranking).

    Returns:
        How many other untrained items score at least as much as the held-out item.
    """
    rows = np.arange(len(scores))
    target = scores[rows, heldout]
    above = (scores >= target[:, None]) & (train_matrix == 0)
    above[rows, heldout] = False
    return above.sum(axis=1)


def hits(ranks: np.ndarray, k: int) -> np.ndarray:
    """HR@k per user: 1.0 where the held-out item is among the first ``k``."""
    return (np.asarray(ranks) < k).astype(float)


def ndcg(ranks: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k per user with one relevant item: ``1 / log2(rank + 2)`` within the first ``k``, else 0."""
    ranks = np.asarray(ranks)
    return np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)


@reference_solution("sampled_hits")
def sampled_hits(scores: np.ndarray, heldout: np.ndarray, negatives: np.ndarray, k: int) -> np.ndarray:
    """Sampled HR@k per user (ties against the held-out item).

    Reference answer of notebook 11, graded cell ``sampled_hits``.
    """
    return hits(sampled_ranks(np.asarray(scores, dtype=float), heldout, negatives), k)
