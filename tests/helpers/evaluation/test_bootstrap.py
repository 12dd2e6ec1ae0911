"""Bootstrap intervals over users (notebook 11)."""

import numpy as np
import pytest

from movierec_helpers.evaluation.bootstrap import (
    bootstrap_interval,
    bootstrap_means,
    paired_difference_interval,
)


def test_the_interval_is_the_percentiles_of_the_resampled_means_drawn_as_documented():
    values = np.array([0.2, 0.9, 0.4, 0.0, 0.7, 1.0, 0.3, 0.5, 0.8, 0.1])
    assert bootstrap_interval(values, 400, 0.9, 3) == pytest.approx((0.31, 0.67), abs=1e-12)
    positions = np.random.default_rng(3).integers(0, 10, size=(400, 10))
    np.testing.assert_allclose(bootstrap_means(values, 400, 3), values[positions].mean(axis=1))


def test_same_random_state_same_interval_wider_with_the_level_and_around_the_mean():
    values = np.random.default_rng(0).random(300)
    assert bootstrap_interval(values, 500, 0.95, 1) == bootstrap_interval(values, 500, 0.95, 1)
    low, high = bootstrap_interval(values, 500, 0.95, 1)
    narrow = bootstrap_interval(values, 500, 0.5, 1)
    assert low < narrow[0] < values.mean() < narrow[1] < high
    # about 1.96 standard errors each side for a mean of 300 values
    assert high - low == pytest.approx(2 * 1.96 * values.std() / np.sqrt(300), rel=0.15)
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval(values, 10, 1.5, 0)


def test_paired_differences_resample_the_same_users_and_need_the_same_shape():
    base = np.random.default_rng(2).random(500)
    better = base + 0.01  # the same users, a small constant gain: the paired interval is exact
    assert paired_difference_interval(better, base) == pytest.approx((0.01, 0.01))
    assert bootstrap_interval(better)[0] < bootstrap_interval(base)[1], "apart, their intervals overlap"
    with pytest.raises(ValueError, match="same users"):
        paired_difference_interval(base, base[:10])
