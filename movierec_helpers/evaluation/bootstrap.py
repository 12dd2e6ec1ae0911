"""Bootstrap confidence intervals over users: is a difference between two models real?

A metric averaged over 943 users is itself uncertain: another sample of users would give
another mean. Resampling the users with replacement, many times, shows how much the mean
moves; the middle ``level`` of the resampled means is the percentile interval (Efron and
Tibshirani, 1993). Two models evaluated on the same users are compared *paired*: the
interval of the per-user difference, the same users drawn for both.
"""

from __future__ import annotations

import numpy as np

from movierec_helpers.exercises.reference import reference_solution


@reference_solution("bootstrap_interval")
def bootstrap_means(values: np.ndarray, n_resamples: int, random_state: int) -> np.ndarray:
    """The mean of each of ``n_resamples`` resamples of ``values`` (with replacement, same size).

    Part of the reference answer of notebook 11, graded cell ``bootstrap_interval``.

    The draw is ``np.random.default_rng(random_state).integers(0, n, size=(n_resamples, n))``,
    one row of positions per resample.
    """
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(random_state)
    picks = rng.integers(0, len(values), size=(n_resamples, len(values)))
    return values[picks].mean(axis=1)


@reference_solution("bootstrap_interval")
def bootstrap_interval(
    values: np.ndarray, n_resamples: int = 1000, level: float = 0.95, random_state: int = 0
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values``.

    Reference answer of notebook 11, graded cell ``bootstrap_interval``.

    Args:
        values: one value per user.
        n_resamples: how many resamples.
        level: the share of resampled means inside the interval.
        random_state: the random state of the draw.

    Returns:
        ``(low, high)``: the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the
        resampled means.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}.")
    means = bootstrap_means(values, n_resamples, random_state)
    tail = (1.0 - level) / 2.0
    return float(np.quantile(means, tail)), float(np.quantile(means, 1.0 - tail))


def paired_difference_interval(
    first: np.ndarray, second: np.ndarray, n_resamples: int = 1000, level: float = 0.95, random_state: int = 0
) -> tuple[float, float]:
    """The bootstrap interval of ``mean(first - second)``, the same users resampled for both.

    Notebook 11 computes it with the student's own interval of the per-user differences.
    """
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if first.shape != second.shape:
        raise ValueError(f"paired values need the same users: shapes {first.shape} and {second.shape}.")
    return bootstrap_interval(first - second, n_resamples, level, random_state)
