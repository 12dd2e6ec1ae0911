"""Bayesian personalised ranking (Rendle et al. 2009) with NumPy, in vectorised mini-batches.

BPR learns from triples (user u, an item i the user interacted with, an item j they did not):
it maximises ``log sigmoid(x_u . (y_i - y_j))``, i.e. ranks each seen item above unseen ones.
The unseen item is drawn uniformly from the items the user has not interacted with.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from movierec_helpers.exercises.reference import reference_solution


@reference_solution("bpr_loss_grad")
def bpr_loss_grad(x_u, y_i, y_j) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The BPR loss of a batch of triples and its gradients.

    Reference answer of notebook 10, graded cell ``bpr_loss_grad``.

    Args:
        x_u: ``[B, d]`` user vectors, one per triple.
        y_i: ``[B, d]`` vectors of the seen items.
        y_j: ``[B, d]`` vectors of the unseen items.

    Returns:
        ``(loss, grad_u, grad_i, grad_j)``: the mean over the batch of ``-log sigmoid(z)`` with
        ``z = x_u . (y_i - y_j)`` (computed without overflow), and its gradient with respect to
        each of the three inputs (``[B, d]`` each).
    """
    x_u, y_i, y_j = (np.asarray(a, dtype=np.float64) for a in (x_u, y_i, y_j))
    z = np.sum(x_u * (y_i - y_j), axis=1)
    loss = float(np.mean(np.logaddexp(0.0, -z)))
    dz = -expit(-z)[:, None] / len(z)  # d/dz of -log sigmoid(z), over the batch's mean
    return loss, dz * (y_i - y_j), dz * x_u, -dz * x_u


DENSE_LOOKUP_LIMIT = 50_000_000  # users x items up to which "seen?" is a dense boolean table (<= 50 MB)


def _seen_lookup(R: sp.csr_matrix):
    """A function (users, items) -> whether each pair is stored in ``R``."""
    if R.shape[0] * R.shape[1] <= DENSE_LOOKUP_LIMIT:
        table = np.zeros(R.shape, dtype=bool)
        table[np.repeat(np.arange(R.shape[0]), np.diff(R.indptr)), R.indices] = True
        return lambda users, items: table[users, items]
    rows = np.repeat(np.arange(R.shape[0], dtype=np.int64), np.diff(R.indptr))
    keys = rows * R.shape[1] + R.indices  # sorted: CSR order with sorted indices

    def stored(users, items):
        wanted = users.astype(np.int64) * R.shape[1] + items
        return keys[np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)] == wanted

    return stored


def sample_triples(
    R: sp.csr_matrix, size: int, rng: np.random.Generator, seen=None
) -> tuple[np.ndarray, ...]:
    """``size`` triples (user, seen item, unseen item): the pairs at random, the unseen item uniform.

    Args:
        R: ``[N, M]`` CSR interactions with sorted indices (each stored entry is one).
        size: number of triples.
        rng: the random generator.
        seen: the lookup of :func:`_seen_lookup` for ``R``, to reuse across calls (made when ``None``).

    Returns:
        ``(users, seen_items, unseen_items)`` integer arrays; ``R[u, unseen]`` is never stored
        (an unseen item that the user has seen is drawn again until it is not).

    Raises:
        ValueError: no user has both a seen and an unseen item.
    """
    seen = seen or _seen_lookup(R)
    counts = np.diff(R.indptr)
    # A user who has seen every item has no unseen one: their interactions are not drawn.
    entries = np.flatnonzero(np.repeat(counts < R.shape[1], counts))
    if len(entries) == 0:
        raise ValueError("Every user with interactions has seen every item: there is no unseen item to draw.")
    picked = entries[rng.integers(0, len(entries), size)]
    users = np.searchsorted(R.indptr, picked, side="right") - 1
    unseen = rng.integers(0, R.shape[1], size)
    clash = seen(users, unseen)
    while clash.any():
        unseen[clash] = rng.integers(0, R.shape[1], int(clash.sum()))
        clash[clash] = seen(users[clash], unseen[clash])
    return users, R.indices[picked], unseen


def fit_bpr(
    R: sp.spmatrix,
    factors: int = 32,
    lr: float = 0.05,
    reg: float = 0.001,
    epochs: int = 20,
    batch_size: int = 1000,
    *,
    seed: int = 0,
    init_stddev: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """BPR by mini-batch stochastic gradient descent; an epoch draws as many triples as interactions.

    Args:
        R: ``[N, M]`` sparse interactions (any SciPy format; stored entries count, values do not).
        factors: the dimension ``d``.
        lr: step size per triple.
        reg: L2 regularisation of the vectors a triple touches.
        epochs: passes.
        batch_size: triples per step.
        seed: seed of the initial factors and of the sampling.
        init_stddev: standard deviation of the initial factors.

    Returns:
        ``(user_factors [N, d], item_factors [M, d])``; scores are ``user_factors @ item_factors.T``.
    """
    R = sp.csr_matrix(R)
    R.sort_indices()
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=init_stddev, size=(R.shape[0], factors))
    Y = rng.normal(scale=init_stddev, size=(R.shape[1], factors))
    lookup = _seen_lookup(R)
    for _ in range(epochs):
        users, seen, unseen = sample_triples(R, R.nnz, rng, lookup)
        for start in range(0, R.nnz, batch_size):
            u, i, j = (a[start : start + batch_size] for a in (users, seen, unseen))
            x_u, y_i, y_j = X[u], Y[i], Y[j]
            # A step up the log-likelihood of each triple: its gradient is sigmoid(-z) times the
            # other side's vectors; rows that repeat in a batch add up.
            weight = expit(-np.sum(x_u * (y_i - y_j), axis=1))[:, None]
            np.add.at(X, u, lr * (weight * (y_i - y_j) - reg * x_u))
            np.add.at(Y, i, lr * (weight * x_u - reg * y_i))
            np.add.at(Y, j, lr * (-weight * x_u - reg * y_j))
    return X, Y
