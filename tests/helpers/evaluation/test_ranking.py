"""Ranking metrics in NumPy (both tracks): precision, recall and NDCG at k, averaged per user."""

import numpy as np
import pytest

from movierec_helpers.evaluation.ranking import ranking_metrics


def test_ranking_metrics_on_hand_computed_case():
    scores = np.array([[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4]])  # top 2: {0, 1} and {3, 2}
    got = ranking_metrics(scores, [[1, 3], [3]], k=2)
    assert got["precision"] == pytest.approx(0.5)
    assert got["recall"] == pytest.approx(0.75)
    ndcg0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert got["ndcg"] == pytest.approx((ndcg0 + 1) / 2, rel=1e-5)


def test_ranking_metrics_average_per_user_and_skip_users_without_relevant_items():
    scores = np.array([[3.0, 2.0, 1.0, 0.0], [3.0, 2.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    got = ranking_metrics(scores, [[0, 1, 2], [3], []], k=3)
    assert got["recall"] == pytest.approx(0.5)  # micro-average would be 3/4


def test_ranking_metrics_exclude_single_labels_ties_and_k():
    scores = np.array([[5.0, 4.0, 3.0]])
    assert ranking_metrics(scores, np.array([0]), k=1)["precision"] == 1.0
    assert ranking_metrics(scores, np.array([0]), k=1, exclude=[[0]])["precision"] == 0.0
    assert ranking_metrics(np.ones((1, 3)), [[0]], k=1)["precision"] == 1.0, "ties: the lower id first"
    assert scores[0, 0] == 5.0, "the caller's scores are not changed"
    with pytest.raises(ValueError, match="k must be between 1"):
        ranking_metrics(scores, [[0]], k=4)


def test_ranking_metrics_agree_with_the_tensorflow_tracks():
    tf_metrics = pytest.importorskip("movierec_helpers.models.tensorflow.metrics")
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=(40, 60)), 1)  # ties
    relevant = [rng.choice(60, rng.integers(0, 8), replace=False).tolist() for _ in range(40)]
    exclude = [rng.choice(60, 5, replace=False).tolist() for _ in range(40)]
    mine = ranking_metrics(scores, relevant, k=10, exclude=exclude)
    theirs = tf_metrics.ranking_metrics(scores, relevant, k=10, exclude=exclude)
    for name, value in mine.items():
        assert value == pytest.approx(float(theirs[name]), abs=1e-6), name
