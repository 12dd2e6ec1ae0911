"""The PyTorch track's softmax model (movierec_helpers.models.torch.softmax), on the CPU."""

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from movierec_helpers.data import load_course_data  # noqa: E402
from movierec_helpers.exercises import own_work  # noqa: E402
from movierec_helpers.exercises.reference import ReferenceSolutionUsed  # noqa: E402
from movierec_helpers.models.torch.losses import softmax_loss  # noqa: E402
from movierec_helpers.models.torch.metrics import ranking_metrics  # noqa: E402
from movierec_helpers.models.torch.softmax import (  # noqa: E402
    HIDDEN_SCALE,
    SoftmaxNetwork,
    build_softmax_model,
    build_user_features,
    user_split,
)
from movierec_helpers.models.user_bags import user_bags  # noqa: E402

MOVIES = pd.DataFrame(
    {
        "movie_id": [0, 1, 2],
        "genres": [["Drama"], ["Comedy", "Drama"], []],
        "year": pd.array([1990, None, 1990], dtype="Int64"),
    }
)
RATINGS = pd.DataFrame({"user_id": [1, 0, 1, 1], "movie_id": [2, 1, 0, 1], "rating": [3.0, 4.0, 5.0, 1.0]})


def test_bags_group_each_users_movies_genres_and_years():
    bags = user_bags(RATINGS, MOVIES)
    np.testing.assert_array_equal(bags.user_ids, [0, 1])
    assert bags.vocabularies["genre"] == ["Comedy", "Drama", "Other"]
    assert bags.vocabularies["year"] == ["1990", "unknown"]
    np.testing.assert_array_equal(bags.ids["movie_id"], [1, 0, 1, 2])
    np.testing.assert_array_equal(bags.splits["movie_id"], [0, 1, 4])
    # user 0: movie 1 (Comedy, Drama); user 1: movies 0 (Drama), 1 (Comedy, Drama), 2 (no genre: Other)
    np.testing.assert_array_equal(bags.ids["genre"], [0, 1, 1, 0, 1, 2])
    np.testing.assert_array_equal(bags.splits["genre"], [0, 2, 6])
    np.testing.assert_array_equal(bags.ids["year"], [1, 0, 1, 0])


def test_bag_weights_average_each_bag_and_count_repeats():
    features = build_user_features(RATINGS, MOVIES, device="cpu")
    np.testing.assert_allclose(features.bag_weights["movie_id"].numpy(), [[0, 1, 0], [1 / 3, 1 / 3, 1 / 3]])
    # user 1's genres: Drama twice among four
    np.testing.assert_allclose(features.bag_weights["genre"].numpy(), [[0.5, 0.5, 0], [0.25, 0.5, 0.25]])
    taken = features.take(torch.tensor([1]))
    np.testing.assert_allclose(taken["year"].numpy(), [[2 / 3, 1 / 3]])


def test_network_is_modules_of_embeddings_and_scaled_linear_layers():
    net = SoftmaxNetwork({"movie_id": 3, "genre": 3}, {"movie_id": 2, "genre": 1}, [4, 2], seed=0)
    assert isinstance(net.tables["movie_id"], torch.nn.Embedding) and net.movie_embeddings.shape == (3, 2)
    assert [tuple(layer.weight.shape) for layer in net.hidden] == [(4, 3), (2, 4)]
    assert all(layer.bias is None for layer in net.hidden)
    # truncated normal: every initial value within two standard deviations (1/sqrt(dim))
    assert float(net.tables["movie_id"].weight.detach().abs().max()) <= 2 / np.sqrt(2)
    bags = build_user_features(RATINGS, MOVIES, device="cpu").take(torch.tensor([0, 1]))
    layer = np.concatenate(
        [bags[k].numpy() @ net.tables[k].weight.detach().numpy() for k in ("movie_id", "genre")], 1
    )
    for hidden in net.hidden:
        layer = layer @ hidden.weight.detach().numpy().T * HIDDEN_SCALE
    np.testing.assert_allclose(net(bags).detach().numpy(), layer, rtol=1e-5, atol=1e-7)
    again = SoftmaxNetwork({"movie_id": 3, "genre": 3}, {"movie_id": 2, "genre": 1}, [4, 2], seed=0)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), again.parameters()))
    with pytest.raises(ValueError, match="dimension 3 .* must match the movie embedding dimension 2"):
        SoftmaxNetwork({"movie_id": 3}, {"movie_id": 2}, [3], seed=0)


def test_forward_answers_user_embeddings():
    net = SoftmaxNetwork({"movie_id": 4}, {"movie_id": 2}, [2], seed=0)
    bags = {"movie_id": torch.ones(1, 4) / 4}

    def user_embeddings(network, bag_weights):
        return network(bag_weights)  # the shortcut a student might try

    with own_work(user_embeddings):
        with pytest.raises(ReferenceSolutionUsed, match="SoftmaxNetwork.forward"):
            user_embeddings(net, bags)


def test_softmax_loss_is_stable_and_checks_dims():
    psi = torch.tensor([[30.0, 0.0], [0.0, -40.0]])
    V = torch.tensor([[4.0, 0.0], [0.0, 3.0], [3.5, 1.0]])
    logits = psi.double().numpy() @ V.double().numpy().T
    shifted = logits - logits.max(1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    np.testing.assert_allclose(
        float(softmax_loss(psi, V, torch.tensor([2, 0]))), -(logp[0, 2] + logp[1, 0]) / 2, rtol=1e-5
    )
    with pytest.raises(ValueError, match="dimension 2 must match the movie embedding dimension 3"):
        softmax_loss(psi, torch.zeros(3, 3), torch.tensor([0, 1]))


def test_ranking_metrics_of_labels_and_of_masks():
    scores = torch.tensor([[0.9, 0.1, 0.5, 0.3], [0.1, 0.2, 0.3, 0.4]])
    got = ranking_metrics(scores, torch.tensor([2, 0]), k=2)
    assert float(got["precision"]) == pytest.approx(0.25) and float(got["recall"]) == pytest.approx(0.5)
    assert float(got["ndcg"]) == pytest.approx(0.5 * (1 / np.log2(3)))
    mask = torch.tensor([[True, False, True, False], [False, False, False, False]])
    got = ranking_metrics(scores, mask, k=2)  # the second user has nothing relevant: left out
    assert float(got["precision"]) == pytest.approx(1.0) and float(got["ndcg"]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="k must be between 1 and the number of items"):
        ranking_metrics(scores, mask, k=5)


def test_softmax_model_trains_on_its_training_users_and_reproduces():
    data, _, _ = load_course_data(seed=42)
    features = build_user_features(data.ratings, data.movies, device="cpu")
    train_rows, test_rows = user_split(features, seed=42)
    assert len(test_rows) == 94 and not set(train_rows) & set(test_rows)

    def run():
        model, network = build_softmax_model(
            features, embedding_dims={"movie_id": 8, "genre": 2, "year": 2}, hidden_dims=[8], seed=3
        )
        before = model.evaluate()
        results = model.train(60, 8.0, optimizer="adagrad", plot_results=False, progress=False, log_every=20)
        return before, results, model, network

    before, results, model, network = run()
    assert set(results) == {"train_loss", "test_loss", "test_precision_at_10", "test_recall_at_10"}
    assert before["train_loss"] == pytest.approx(np.log(1682), abs=0.1)  # near-uniform at the start
    assert results["train_loss"] < before["train_loss"] - 0.3
    assert model.embeddings["movie_id"].shape == (1682, 8)
    assert model.embeddings["movie_id"] is not network.movie_embeddings  # a NumPy copy
    assert run()[1] == results
