"""Leave-one-out splits (notebook 11): the last interaction, a random one, and the leakage between them."""

import numpy as np
import pandas as pd
import pytest

from movierec_helpers.evaluation.protocol import future_in_training, leave_last_out, random_leave_one_out


@pytest.fixture
def interactions():
    # User 0: last at 30; user 1: movies 4, 7, 8 share the latest second; user 2: one interaction.
    return pd.DataFrame(
        {
            "user_id": [0, 0, 0, 1, 1, 1, 1, 2],
            "movie_id": [5, 3, 9, 4, 7, 2, 8, 8],
            "timestamp": [10, 30, 20, 9, 9, 5, 9, 7],
            "rating": [1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0, 3.0],
        },
        index=[40, 41, 42, 43, 44, 45, 46, 47],
    )


def test_leave_last_out_holds_out_the_latest_and_on_ties_the_larger_movie_id(interactions):
    original = interactions.copy()
    train, test = leave_last_out(interactions)
    assert dict(zip(test["user_id"], test["movie_id"])) == {0: 3, 1: 8}
    assert sorted(train.index.tolist() + test.index.tolist()) == interactions.index.tolist()
    assert 47 in train.index, "a user's single interaction stays in training"
    assert list(test.columns) == list(interactions.columns)
    pd.testing.assert_frame_equal(interactions, original)
    assert (future_in_training(train, test) == 0).all()


def test_random_leave_one_out_holds_out_one_per_user_with_two_and_follows_its_random_state(interactions):
    train, test = random_leave_one_out(interactions, random_state=0)
    assert sorted(test["user_id"]) == [0, 1]
    assert sorted(train.index.tolist() + test.index.tolist()) == interactions.index.tolist()
    again = random_leave_one_out(interactions, random_state=0)[1]
    assert test.index.tolist() == again.index.tolist()
    drawn = {tuple(random_leave_one_out(interactions, random_state=s)[1].index) for s in range(20)}
    assert len(drawn) > 1, "another random state draws other interactions"


def test_future_in_training_counts_the_same_users_later_training_interactions(interactions):
    test = interactions.loc[[40, 45]]  # user 0 at 10 (20 and 30 later), user 1 at 5 (three at 9 later)
    train = interactions.drop(index=[40, 45])
    later = future_in_training(train, test)
    assert later.to_dict() == {40: 2, 45: 3}
    alone = future_in_training(train.iloc[:0], test)
    assert alone.tolist() == [0, 0], "a user without training interactions has nothing later"


def test_a_random_hold_out_leaks_on_movielens_and_the_last_one_never_does(ml100k):
    ratings = ml100k.ratings
    train, test = leave_last_out(ratings)
    assert len(test) == ratings["user_id"].nunique()
    assert future_in_training(train, test).max() == 0
    train, test = random_leave_one_out(ratings, random_state=1)
    assert (future_in_training(train, test) > 0).mean() > 0.9
    assert np.isin(test.index, train.index).sum() == 0
