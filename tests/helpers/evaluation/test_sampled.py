"""Full-ranking and sampled leave-one-out metrics (notebook 11), ties against the held-out item."""

import numpy as np
import pandas as pd
import pytest

from movierec_helpers.evaluation.ranking import rank_against_heldout
from movierec_helpers.evaluation.sampled import (
    full_ranks,
    hits,
    ndcg,
    sample_negatives,
    sampled_hits,
    sampled_ranks,
)


def test_sampled_ranks_count_ties_against_the_held_out_item_and_only_the_users_negatives():
    scores = np.array([[0.9, 0.1, 0.5, 0.7, 0.3], [0.5, 0.5, 0.5, 0.5, 0.5]])
    ranks = sampled_ranks(scores, np.array([3, 0]), np.array([[1, 2, 4], [1, 2, 3]]))
    assert ranks.tolist() == [0, 3]
    assert sampled_hits(scores, [3, 0], [[1, 2, 4], [1, 2, 3]], 1).tolist() == [1.0, 0.0]
    assert sampled_hits(scores, [3, 0], [[1, 2, 4], [1, 2, 3]], 4).tolist() == [1.0, 1.0]


def test_full_ranks_leave_out_training_items_and_count_ties_against():
    scores = np.array([[0.9, 0.8, 0.8, 0.1]])
    trained = np.array([[1.0, 0.0, 0.0, 0.0]])
    assert full_ranks(scores, np.array([1]), trained).tolist() == [1], "item 0 is trained on; 2 ties"
    assert full_ranks(scores, np.array([3]), trained).tolist() == [2]


def test_hits_and_ndcg_of_ranks():
    ranks = np.array([0, 1, 9, 10])
    assert hits(ranks, 10).tolist() == [1.0, 1.0, 1.0, 0.0]
    np.testing.assert_allclose(ndcg(ranks, 10), [1.0, 1 / np.log2(3), 1 / np.log2(11), 0.0])


def test_full_ranking_ndcg_agrees_with_rank_against_heldout_without_ties():
    rng = np.random.default_rng(0)
    scores = rng.random((30, 50))
    train = pd.DataFrame({"user_id": np.repeat(np.arange(30), 5), "movie_id": rng.integers(0, 25, 150)})
    train = train.drop_duplicates()
    test = pd.DataFrame({"user_id": np.arange(30), "movie_id": rng.integers(25, 50, 30)})
    trained = np.zeros((30, 50))
    trained[train["user_id"], train["movie_id"]] = 1.0
    ranks = full_ranks(scores, test["movie_id"].to_numpy(), trained)
    expected = rank_against_heldout(scores, train, test, np.arange(30), k=10)
    assert ndcg(ranks, 10).mean() == pytest.approx(expected["ndcg@10"], abs=1e-6)
    assert hits(ranks, 10).mean() == pytest.approx(expected["recall@10"], abs=1e-6)


def test_negatives_are_never_interacted_distinct_and_follow_the_random_state():
    rng = np.random.default_rng(1)
    interacted = (rng.random((20, 300)) < 0.2).astype(float)
    drawn = sample_negatives(interacted, 50, random_state=3)
    assert drawn.shape == (20, 50)
    assert all(len(set(row)) == 50 for row in drawn)
    assert interacted[np.arange(20)[:, None], drawn].sum() == 0
    np.testing.assert_array_equal(drawn, sample_negatives(interacted, 50, random_state=3))
    assert not np.array_equal(drawn, sample_negatives(interacted, 50, random_state=4))


def test_popularity_sampling_prefers_popular_items_and_never_draws_weightless_ones():
    interacted = np.zeros((200, 100))
    popularity = np.zeros(100)
    popularity[:10], popularity[10:50] = 100.0, 1.0
    drawn = sample_negatives(interacted, 5, random_state=0, popularity=popularity)
    assert drawn.max() < 50, "items of popularity 0 are never drawn"
    assert (drawn < 10).mean() > 0.7
    with pytest.raises(ValueError, match="fewer than 60"):
        sample_negatives(interacted, 60, random_state=0, popularity=popularity)
