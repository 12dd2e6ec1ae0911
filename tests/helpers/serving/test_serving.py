"""The serving room (retrieval, ANN index, catalogues, candidate pools, re-ranking), the
beyond-accuracy metrics and the ranking model, on small data worked out by hand or by brute force."""

import itertools

import numpy as np
import pandas as pd
import pytest

from movierec_helpers.evaluation.beyond_accuracy import catalogue_coverage, intra_list_diversity, novelty
from movierec_helpers.serving.candidates import candidate_pool
from movierec_helpers.serving.catalogue import synthetic_items
from movierec_helpers.serving.rerank import cap_exposure, freshness_boost, mmr
from movierec_helpers.serving.retrieval import (
    exact_top_k,
    exact_top_k_batch,
    fastest_config,
    rated_lists,
    recall_at_k,
)

ITEMS = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [2.0, 1.0], [-1.0, 0.0]])
USER = np.array([1.0, 0.5])  # scores 1.0, 3.0, 1.0, 2.5, -1.0


def test_exact_top_k_masks_rated_items_and_breaks_ties_by_id():
    assert exact_top_k(USER, ITEMS, {1, 3}, 10).tolist() == [0, 2, 4]
    assert exact_top_k(USER, ITEMS, [1, 1], 2).tolist() == [3, 0]
    assert exact_top_k(USER, ITEMS, [], 0).tolist() == []
    with pytest.raises(ValueError, match="k must be 0 or more"):
        exact_top_k(USER, ITEMS, [], -1)
    with pytest.raises(ValueError, match=r"expected a user of shape \[d\]"):
        exact_top_k(np.ones(3), ITEMS, [], 2)


def test_batch_retrieval_is_the_single_one_row_by_row_with_empty_slots():
    users = np.array([USER, [0.0, 1.0]])
    got = exact_top_k_batch(users, ITEMS, [[1, 3], [0, 1, 2, 3]], 4)
    assert got.tolist() == [[0, 2, 4, -1], [4, -1, -1, -1]]
    for row, (user, rated) in enumerate(zip(users, ([1, 3], [0, 1, 2, 3]))):
        assert got[row][got[row] >= 0].tolist() == exact_top_k(user, ITEMS, rated, 4).tolist()


def test_recall_counts_each_exact_list_against_its_own_row():
    exact = np.array([[1, 2, -1], [3, 4, 5]])
    approximate = np.array([[2, 9, 8], [3, 4, 0]])
    assert recall_at_k(approximate, exact) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert recall_at_k(np.array([[1]]), np.array([[-1]])) == 1.0, "nothing to find: nothing missed"


def test_rated_lists_keep_the_order_of_users_asked():
    ratings = pd.DataFrame({"user_id": [2, 0, 2], "movie_id": [7, 3, 1]})
    got = rated_lists(ratings, [2, 5, 0])
    assert [sorted(g.tolist()) for g in got] == [[1, 7], [], [3]]


def test_fastest_config_is_the_cheapest_meeting_the_floor_then_the_higher_recall():
    table = pd.DataFrame({"recall@10": [0.95, 0.97, 0.99], "distances per query": [400.0, 400.0, 300.0]})
    assert fastest_config(table, 0.99)["distances per query"] == 300.0
    assert fastest_config(table.iloc[:2], 0.95)["recall@10"] == 0.97
    with pytest.raises(ValueError, match="the best is 0.990"):
        fastest_config(table, 0.999)


def test_hnsw_index_finds_the_exact_neighbours_of_a_small_catalogue():
    from movierec_helpers.serving.ann import COSINE, HnswIndex, unit_rows

    rng = np.random.default_rng(0)
    items, users = rng.normal(size=(500, 8)).astype(np.float32), rng.normal(size=(20, 8)).astype(np.float32)
    exact = exact_top_k_batch(users, items, [[0, 1]] * 20, 10)
    found = HnswIndex(items, m=16, ef_construction=200).search(
        users, 10, ef_search=200, exclude=[[0, 1]] * 20
    )
    assert recall_at_k(found.ids, exact) >= 0.95 and found.distances_per_query < 500
    assert not np.isin(found.ids, [0, 1]).any(), "excluded items never come back"
    cosine = HnswIndex(items, metric=COSINE, ef_construction=200).search(users, 5, ef_search=200)
    exact_cosine = exact_top_k_batch(unit_rows(users), unit_rows(items), [[]] * 20, 5)
    assert recall_at_k(cosine.ids, exact_cosine) >= 0.95
    with pytest.raises(ValueError, match="unknown metric"):
        HnswIndex(items, metric="l2")


def test_synthetic_items_have_the_mean_and_covariance_of_the_learned_ones():
    rng = np.random.default_rng(1)
    learned = rng.normal(size=(2000, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.2], [0.0, 0.0, 0.3]]) + 2.0
    drawn = synthetic_items(learned, 50_000, seed=2)
    assert drawn.shape == (50_000, 3) and drawn.dtype == np.float32
    np.testing.assert_allclose(drawn.mean(0), learned.mean(0), atol=0.03)
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), np.cov(learned, rowvar=False), atol=0.03)
    np.testing.assert_array_equal(drawn, synthetic_items(learned, 50_000, seed=2))


def test_candidate_pool_is_the_union_of_each_generators_unseen_top_k_with_ranks():
    scores = {"MF": np.array([[0.9, 0.1, 0.8, 0.7]]), "pop": np.array([1.0, 4.0, 3.0, 2.0])}
    pool = candidate_pool([7], scores, [[0]], k=2)
    assert pool["movie_id"].tolist() == [1, 2, 3] and set(pool["user_id"]) == {7}
    assert pool["MF rank"].tolist() == [3, 1, 2], "rank k + 1 for a movie MF did not propose"
    assert pool["pop rank"].tolist() == [1, 2, 3]
    assert pool["pop score"].tolist() == [4.0, 3.0, 2.0]


def _mmr_brute_force(relevance, similarity, k, lam):
    chosen = []
    for _ in range(min(k, len(relevance))):
        values = [
            lam * relevance[i] - (1 - lam) * max((similarity[i][j] for j in chosen), default=0.0)
            if i not in chosen
            else -np.inf
            for i in range(len(relevance))
        ]
        chosen.append(int(np.argmax(values)))
    return chosen


@pytest.mark.parametrize("lam", [1.0, 0.7, 0.3, 0.0])
def test_mmr_takes_the_largest_similarity_to_the_chosen_ones(lam):
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(15, 4))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity, relevance = vectors @ vectors.T, rng.random(15)
    ids = list(range(100, 115))
    assert mmr(ids, relevance, similarity, 8, lam) == [
        100 + i for i in _mmr_brute_force(relevance, similarity, 8, lam)
    ]
    assert mmr([5, 6, 7], [1.0, 1.0, 1.0], np.eye(3), 3, 1.0) == [5, 6, 7], "ties: the earlier candidate"


def test_freshness_boost_halves_per_half_life_future_years_age_zero_unknown_years_nothing():
    got = freshness_boost([1.0, 1.0, 0.0, 0.0], [1998, 1994, 2001, np.nan], 1998, 0.4, 4)
    np.testing.assert_allclose(got, [1.4, 1.2, 0.4, 0.0])


def test_cap_exposure_against_every_order_of_a_small_list():
    groups = ["a", "a", "b", "a", "c", "b"]
    for k, share in itertools.product(range(0, 8), (0.0, 0.2, 0.5, 1.0)):
        limit = max(1, int(np.floor(share * k)))
        kept, skipped, count = [], [], {}
        for item, group in zip(range(6), groups):
            if len(kept) == k:
                break
            if count.get(group, 0) < limit:
                kept.append(item)
                count[group] = count.get(group, 0) + 1
            else:
                skipped.append(item)
        assert cap_exposure(list(range(6)), groups, k, share) == (kept + skipped)[:k], (k, share)


def test_beyond_accuracy_metrics_on_lists_worked_out_by_hand():
    vectors = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [0.0, 0.0]])
    # list [0, 1]: cosine 0 -> diversity 1; list [0, 2]: cosine 1 -> 0; a one-item list does not count
    assert intra_list_diversity([[0, 1], [0, 2], [3]], vectors) == pytest.approx(0.5)
    assert catalogue_coverage([[0, 1], [1, 2]], 8) == pytest.approx(3 / 8)
    popularity = np.array([50, 25, 0, 100])
    assert novelty([[0, 1], [2]], popularity, 100) == pytest.approx((1 + 2 + np.log2(100)) / 3)
    assert intra_list_diversity([], vectors) == 0.0 and novelty([], popularity, 100) == 0.0


def test_ranking_model_crosses_features_and_learns_a_planted_signal():
    import keras

    from movierec_helpers.models.tensorflow.ranker import FeatureCross, build_ranker, cross_features

    x0, x = np.array([[1.0, 2.0]], np.float32), np.array([[3.0, -1.0]], np.float32)
    w, b = np.array([[1.0, 2.0], [0.0, 1.0]], np.float32), np.array([0.5, -0.5], np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(cross_features(x0, x, w, b)), x0 * (x @ w + b) + x)
    layer = FeatureCross()
    out = layer([keras.ops.convert_to_tensor(x0), keras.ops.convert_to_tensor(x)])
    assert tuple(out.shape) == (1, 2) and [tuple(v.shape) for v in layer.weights] == [(2, 2), (2,)]

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n = 2000
    inputs = {
        "numeric": rng.normal(size=(n, 5)).astype(np.float32),
        "occupation": rng.integers(0, 3, n).astype(np.int32),
        "genres": (rng.random((n, 4)) < 0.3).astype(np.float32),
    }
    labels = ((inputs["numeric"][:, 0] * inputs["genres"][:, 1]) > 0.2).astype(
        np.float32
    )  # a product of features
    model = build_ranker(3, 4, crosses=2, hidden=16)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.AUC(from_logits=True, name="auc")],
    )
    history = model.fit(inputs, labels, epochs=8, batch_size=128, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] and history["auc"][-1] > 0.9
    assert model.predict(inputs, verbose=0).shape == (n, 1)
